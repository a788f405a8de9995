"""The catalog: every entry is complete, prints, and has a check that passes and can fail."""

import pytest
import sympy as sp
from sympy.matrices.expressions import MatMul

import mhasym
from mhasym.catalog.registry import SECTIONS
from mhasym.model.expressions import Relation, Softmax

ALL = [f.id for f in mhasym.formulas()]


def test_ids_are_unique_and_sections_known():
    assert len(ALL) == len(set(ALL))
    assert all(f.section in SECTIONS for f in mhasym.formulas())


@pytest.mark.parametrize("fid", ALL)
def test_entry_is_complete(fid):
    f = mhasym.formula(fid)
    assert f.title.en and f.title.zh and f.description.en and f.description.zh
    assert f.title.en != f.title.zh
    assert isinstance(f.expr, sp.Basic)
    assert f.latex == mhasym.latex(f.expr)
    assert any(op in f.latex for op in ("=", r"\in"))


@pytest.mark.parametrize("fid", ALL)
def test_check_passes_and_reports_what_it_compared(fid):
    r = mhasym.formula(fid).check()
    assert r.passed, r.summary()
    assert r.id == fid and r.kind in ("numeric", "shape", "identity", "caught") and r.compared
    assert (r.kind == "caught") == fid.startswith("mistake.")
    if r.kind == "caught":
        assert r.detail
    if r.kind == "numeric":
        assert r.sizes and r.max_error is not None and r.max_error <= 1e-10
    assert "\n" not in r.summary()


def test_descriptions_say_where_the_paper_is_followed():
    f = mhasym.formula("mha.multihead")
    assert "[[W_O]]" in f.description.en and "omits" in f.description.en and "Attention Is All You Need" in f.description.en
    assert "[[W_O]]" in f.description.zh and "省略" in f.description.zh
    assert "W^O" in f.description.plain("en")


@pytest.mark.parametrize("fid", ALL)
def test_symbol_markers_in_titles_and_descriptions_resolve(fid):
    from mhasym.catalog.registry import MARKER, inline

    f = mhasym.formula(fid)
    for text in (f.title.en, f.title.zh, f.description.en, f.description.zh):
        for name in MARKER.findall(text):
            assert inline(name)
        assert "[[" not in MARKER.sub("", text)


def _with_expr(monkeypatch, fid, expr):
    f = mhasym.formula(fid)
    monkeypatch.setitem(f.__dict__, "expr", expr)
    return f


def test_seed_check_fails_on_a_wrong_entry_order(monkeypatch):
    f = mhasym.formula("seed.head_1")
    wrong = Relation(f.expr.lhs, f.expr.rhs.T.reshape(2, 3))  # column-major naming
    assert not _with_expr(monkeypatch, "seed.head_1", wrong).check().passed


def test_concat_check_fails_when_blocks_are_swapped(monkeypatch):
    f = mhasym.formula("seed.concat_2")
    Z1, Z2 = mhasym.head_outputs(2, 2, 3)
    wrong = Relation(f.expr.lhs, mhasym.concat([Z2, Z1]))
    assert not _with_expr(monkeypatch, "seed.concat_2", wrong).check().passed


def test_attention_check_fails_on_softmax_over_columns(monkeypatch):
    f = mhasym.formula("attention.sdpa")
    softmax, V = f.expr.rhs.args
    wrong = Relation(f.expr.lhs, MatMul(Softmax(softmax.arg, axis=0), V))
    assert not _with_expr(monkeypatch, "attention.sdpa", wrong).check().passed


def test_masked_check_fails_without_the_mask(monkeypatch):
    wrong = Relation(mhasym.formula("attention.masked").expr.lhs, mhasym.formula("attention.sdpa").expr.rhs)
    assert not _with_expr(monkeypatch, "attention.masked", wrong).check().passed


def test_softmax_check_fails_without_exp_in_the_denominator(monkeypatch):
    f = mhasym.formula("attention.softmax")
    numerator, inverse = f.expr.rhs.as_numer_denom()[0], f.expr.rhs.as_numer_denom()[1]
    total = inverse.func(inverse.function.args[0], *inverse.limits)  # sum of S_ik, not exp(S_ik)
    wrong = Relation(f.expr.lhs, numerator / total)
    assert not _with_expr(monkeypatch, "attention.softmax", wrong).check().passed


def test_softmax_check_reports_a_formula_that_does_not_evaluate(monkeypatch):
    f = mhasym.formula("attention.softmax")
    wrong = Relation(f.expr.lhs, sp.Symbol("unknown"))
    r = _with_expr(monkeypatch, "attention.softmax", wrong).check()
    assert not r.passed and "did not evaluate" in r.detail


def test_indices_count_from_1_except_the_positional_encoding():
    """Masks, softmax and LayerNorm count from 1: a mask's first entry is M_{11}, sums start at 1."""
    import sympy as sp

    from mhasym.model import masks, notation

    top_left = mhasym.formula("masks.causal_top_left").expr.rhs
    i, j = masks.query_index(), masks.key_index()
    # query 1 may attend key 1 and not key 2 (with 0-based counting j <= i would let query 0 see key 0 only)
    assert top_left.xreplace({i: 1, j: 1}) == 0 and top_left.xreplace({i: 1, j: 2}) == -sp.oo
    padding = mhasym.formula("masks.padding").expr.rhs
    L = notation.dim("L")
    assert padding.xreplace({j: 3, L: 3}) == 0 and padding.xreplace({j: 4, L: 3}) == -sp.oo  # key L is real
    for fid in ("attention.softmax", "tr.layer_norm"):
        sums = [s for s in sp.preorder_traversal(mhasym.formula(fid).expr) if isinstance(s, sp.Sum)]
        assert sums and all(limit[1] == 1 for s in sums for limit in s.limits), fid


def test_the_base_model_gap_is_explained_with_numbers_that_the_formulas_give():
    """cost.base_params says the omitted biases are about 0.074M and a vocabulary of about 40.8k gives 65M."""
    from mhasym.model import cost, paper

    b = paper.BASE
    shown = cost.parameter_count(b["d_model"], b["h"], b["d_ff"], b["N"], paper.VOCAB)
    gap = paper.REPORTED_PARAMETERS["base"] - shown
    biases = 3 * b["N"] * 4 * b["d_model"] + paper.VOCAB  # 18 attention blocks x 4 projections, output layer
    vocab = paper.VOCAB + gap / b["d_model"]
    text = mhasym.formula("cost.base_params").description
    assert f"{gap / 1e6:.2f}M" in text.en and f"{biases / 1e6:.3f}M" in text.en and f"{vocab / 1e3:.1f}k" in text.en
    assert f"{gap / 1e4:.0f} 万" in text.zh and f"{biases / 1e4:.1f} 万" in text.zh and f"{vocab / 1e4:.2f} 万" in text.zh
    big = paper.BIG
    assert cost.parameter_count(big["d_model"], big["h"], big["d_ff"], big["N"], paper.VOCAB) > paper.REPORTED_PARAMETERS["big"]
