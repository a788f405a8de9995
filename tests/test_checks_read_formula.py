"""A check mark is earned only by running the formula shown: every check reads the object it is given.

These tests change formulas (their right-hand sides, their definitions, whole trees by the mutation
rules) and require the checks to notice.
"""

from collections import defaultdict

import pytest
import sympy as sp

import mhasym
from mhasym.model import notation
from mhasym.catalog.registry import formulas
from mhasym.model.expressions import Relation
from mhasym.catalog.mistakes import MISTAKES
from mhasym.catalog.mutants import cached_score, equivalent, mutants, score

IDS = [f.id for f in formulas()]
RIGHT_IDS = [f.id for f in formulas() if f.right is None]
MISTAKE_IDS = [f.id for f in formulas() if f.right is not None]


@pytest.mark.parametrize("fid", IDS)
def test_every_node_rebuilds_from_its_args(fid):
    for node in sp.preorder_traversal(mhasym.formula(fid).expr):
        if isinstance(node, sp.Basic) and not node.is_Atom:
            assert all(isinstance(a, sp.Basic) for a in node.args), (fid, type(node).__name__, node.args)
            assert node.func(*node.args) == node, (fid, type(node).__name__)


@pytest.mark.parametrize("fid", IDS)
def test_subs_xreplace_and_doit_work(fid):
    expr = mhasym.formula(fid).expr
    h, n = notation.dim("h"), notation.dim("n")
    assert isinstance(expr.subs(h, 3).subs(n, 4).doit(), sp.Basic)
    assert isinstance(expr.xreplace({h: sp.Integer(3)}).doit(), sp.Basic)


def test_subs_and_doit_write_out_the_heads():
    expr = mhasym.formula("mha.multihead").expr.subs(notation.dim("h"), 3).doit()
    assert [b.name for b in expr.rhs.args[0].blocks] == ["head_1", "head_2", "head_3"]


def test_one_symbol_per_name():
    names = defaultdict(set)
    for f in formulas():
        for s in f.expr.atoms(sp.Symbol):
            if not isinstance(s, sp.Dummy):
                names[s.name].add(s)
    assert {k: v for k, v in names.items() if len(v) > 1} == {}
    from mhasym.model import masks
    assert masks.query_index() == notation.scalar("i") and masks.key_index() == notation.scalar("j")


def _lhs_for_rhs(expr):
    """Every version of ``expr`` with one line's right side replaced by its left side."""
    rows = expr.args if type(expr).__name__ in ("Group", "Aligned") else (expr,)
    out = []
    for row in rows:
        if isinstance(row, Relation) and row.lhs != row.rhs:
            out.append(expr.xreplace({row: Relation(row.lhs, row.lhs, row.args[2])}))
    return out


@pytest.mark.parametrize("fid", RIGHT_IDS)
def test_right_side_replaced_by_left_side_fails(fid):
    f = mhasym.formula(fid)
    versions = _lhs_for_rhs(f.expr)
    assert versions
    for wrong in versions:
        result = f.check(expr=wrong)
        assert not result.passed, result.summary()


@pytest.mark.parametrize("fid", MISTAKE_IDS)
def test_a_mistake_replaced_by_its_right_formula_is_not_caught(fid):
    f = mhasym.formula(fid)
    assert f.check().passed, f.check().summary()
    result = f.check(expr=f.right.expr)
    assert not result.passed, result.summary()


@pytest.mark.parametrize("mid", sorted(MISTAKES))
def test_mistakes_are_caught_by_numbers_not_by_a_refusal(mid):
    from mhasym.catalog.mistakes import detect

    result = detect(MISTAKES[mid])
    assert not result.passed and not result.refused, result.summary()


def test_right_is_the_right_formula_for_mistakes_only():
    assert mhasym.formula("mha.multihead").right is None
    assert mhasym.formula("mistake.no_w_o").right is mhasym.formula("mha.multihead")


@pytest.mark.parametrize("replace,by", [
    ("mha.multihead", "mistake.no_w_o"),
    ("tr.decoder_layer", "mistake.decoder_without_mask"),
    ("tr.encoder_layer", "tr.encoder_layer_pre"),
])
def test_formulas_that_once_passed_with_a_wrong_expression_fail_now(replace, by):
    assert not mhasym.formula(replace).check(expr=mhasym.formula(by).expr).passed


def test_a_wrong_definition_fails_every_formula_that_uses_it_and_names_it():
    sdpa = mhasym.formula("attention.sdpa")
    wrong = MISTAKES["scale_d_model"].wrong()
    saved = sdpa.expr
    sdpa.__dict__["expr"] = wrong
    try:
        for fid in ("mha.head", "mha.multihead", "tr.encoder_layer", "tr.encoder_stack", "id.permutation"):
            result = mhasym.formula(fid).check()
            assert not result.passed, fid
        assert "via" in mhasym.formula("mha.multihead").check(expr=mhasym.formula("mha.multihead").expr).compared
    finally:
        sdpa.__dict__["expr"] = saved
    assert mhasym.formula("mha.multihead").check().passed


def test_checks_that_were_weak_can_fail():
    from mhasym.model.expressions import Group, Space

    d = notation.dim
    heads = mhasym.formula("mha.paper_heads").expr
    assert not mhasym.formula("mha.paper_heads").check(expr=heads.xreplace({sp.Integer(8): sp.Integer(9)})).passed
    base = mhasym.formula("cost.base_params").expr
    assert not mhasym.formula("cost.base_params").check(
        expr=base.xreplace({base.rhs.lhs: base.rhs.lhs + 1000})).passed
    weights = mhasym.formula("mha.weights").expr
    swapped = weights.xreplace({Space(d("d_model"), d("d_v")): Space(d("d_model"), d("d_k"))})
    assert swapped != weights and not mhasym.formula("mha.weights").check(expr=swapped).passed
    shapes = mhasym.formula("attention.shapes").expr
    rows = list(shapes.args)
    rows[3] = Relation(rows[3].lhs, Space(d("n"), d("d_k")), "in")
    assert not mhasym.formula("attention.shapes").check(expr=Group(*rows)).passed


def test_mutants_cover_the_rules():
    rules = {m.rule for f in formulas() if f.right is None for m in mutants(f.expr)}
    assert {"right side := left side", "drop the square root", "square root of another size", "another size",
            "integer + 1", "swap two operands", "drop a factor", "drop a term", "drop the transpose",
            "swap the piecewise values", "sin for cos", "cos for sin", "softmax over the other axis"} <= rules


@pytest.mark.parametrize("wide", [False, True])
def test_mutants_are_killed_or_proven_equivalent(wide):
    built = killed = 0
    unexplained = []
    for f in formulas():
        s = score(f, wide) if wide else cached_score(f)  # the cache is what the site and the notes show
        built, killed = built + s.built, killed + s.killed
        unexplained += [(f.id, m.rule, m.where) for m in s.survived]
        for m in s.equivalent:
            assert equivalent(f.expr, m.expr)
    assert unexplained == []
    assert built > 900 and killed / built >= 0.95, (killed, built)


def test_readme_shows_the_mutation_count_of_this_catalog():
    from pathlib import Path

    k = b = e = 0
    for f in formulas():
        s = cached_score(f)
        k, b, e = k + s.killed, b + s.built, e + len(s.equivalent)
    line = f"mutants: {k} of {b} killed ({k / b:.1%}), {e} proven equal to their formula, {b - k - e} unexplained"
    assert line in (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
