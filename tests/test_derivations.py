"""Derivations: every step proven by its own proof, wrong versions of every step rejected, a failure named by
its step, and the objects keeping SymPy's rule e.func(*e.args) == e."""

import dataclasses
import re

import pytest
import sympy as sp
from sympy.matrices.expressions import MatMul

import mhasym
from mhasym.catalog.derivation import Derivation, Step, score
from mhasym.catalog.text import Text
from mhasym.errors import MhasymError
from mhasym.model.expressions import Grad, Relation

IDS = [d.id for d in mhasym.derivations()]


def test_at_least_eight_derivations_with_both_titles():
    assert len(IDS) >= 8
    for d in mhasym.derivations():
        assert d.title.en and d.title.zh and d.setting.en and d.setting.zh and d.result.en and d.result.zh
        for step in d.steps:
            assert step.why.en and step.why.zh, d.id


@pytest.mark.parametrize("id", IDS)
def test_every_step_is_proven(id):
    from mhasym.catalog.derivation import cached_check

    result = cached_check(mhasym.derivation(id))
    assert result.passed, result.summary()
    assert result.first_failure is None
    assert all(s.how for s in result.steps)


@pytest.mark.parametrize("id", IDS)
def test_every_wrong_version_of_every_step_is_rejected(id):
    for number, step in enumerate(mhasym.derivation(id).steps, 1):
        s = score(step)
        assert s.built >= 2, (id, number)
        assert not s.survived, (id, number, [(m.rule, str(m.expr)) for m in s.survived])
        assert s.killed >= s.built - 5, (id, number)


@pytest.mark.parametrize("id", IDS)
def test_steps_keep_sympys_rebuild_rule(id):
    for step in mhasym.derivation(id).steps:
        for node in sp.preorder_traversal(step.expr):
            if isinstance(node, sp.Basic) and node.args:
                assert node.func(*node.args) == node, (id, node)


def test_a_failing_step_is_named():
    from mhasym.catalog.entries.derivations import K, Q, S

    d = mhasym.derivation("deriv.sdpa_backward")
    forgot_the_scale = Step(lambda: Relation(Grad(Q), MatMul(Grad(S), K)), d.steps[3].why, d.steps[3].prove)
    broken = dataclasses.replace(d, steps=[*d.steps[:3], forgot_the_scale, *d.steps[4:]])
    result = broken.check()
    assert not result.passed and result.first_failure == 4
    assert result.summary().startswith("deriv.sdpa_backward: FAILED at step 4")


def test_a_step_with_the_same_object_on_both_sides_proves_nothing():
    step = mhasym.derivation("deriv.sdpa_backward").steps[0]
    result = step.check(Relation(step.lhs, step.lhs))
    assert not result.passed and "same object" in result.error


def test_a_chain_that_does_not_continue_is_refused():
    steps = mhasym.derivation("deriv.scaling").steps
    with pytest.raises(MhasymError, match="step 2 does not start from step 1's right side"):
        Derivation("deriv.test", Text("t", "t"), Text("s", "s"), [steps[0], steps[2]], Text("r", "r"))


def test_unknown_id_is_one_line():
    with pytest.raises(MhasymError, match=r"unknown derivation id 'deriv.sdpa_backwards' \(did you mean 'deriv.sdpa_backward'\?\)"):
        mhasym.derivation("deriv.sdpa_backwards")


def test_online_softmax_is_compared_with_numbers_over_many_blocks():
    result = mhasym.derivation("deriv.online_softmax").check()
    (ok, what), = result.numbers
    assert ok and "6 blocks" in what


@pytest.mark.parametrize("id,text", [
    ("deriv.sdpa_backward", r"\mathrm{d}S = A \odot \left(\mathrm{d}A - \operatorname{rowsum}\left(\mathrm{d}A \odot A\right) \mathbf{1}^{\top}\right)"),
    ("deriv.sdpa_backward", r"\mathrm{d}Q = \frac{\mathrm{d}S K}{\sqrt{d_k}}"),
    ("deriv.mha_backward", r"\mathrm{d}X_{\text{kv}} = \sum_{i=1}^{h} \left(\mathrm{d}K_{i} \left(W_{i}^{K}\right)^{\top} + \mathrm{d}V_{i} \left(W_{i}^{V}\right)^{\top}\right)"),
    ("deriv.softmax_jacobian", r"a_{i} \left(\delta_{i j} - a_{j}\right)"),
    ("deriv.scaling", r"\operatorname{Var}\left[\frac{\sum_{t=1}^{d_k} q_{t} k_{t}}{\sqrt{d_k}}\right]"),
])
def test_steps_print_as_a_textbook_writes_them(id, text):
    assert any(text in s.latex() for s in mhasym.derivation(id).steps)


# plain-text math that a derivation's prose must show as math instead (through [[...]] markers)
PLAIN_MATH = re.compile(r"\^T|\^\(|e\^|dL/d|sqrt\(|softmax\(|\b[A-Za-z]_[A-Za-z0-9]{1,3}\b|[A-Za-z]\^[A-Za-z0-9]|"
                        r"\b[a-zA-Z]\w* = |\bd_model\b|\bd_ff\b|\bepsilon\b|\bbeta_\d")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_title_writes_its_math_as_math(lang):
    """Formula and derivation titles are captions and headings: "W^O left out" or "epsilon outside the square
    root" typed as text would be read letter by letter and shown unlike the formula below them."""
    from mhasym.catalog.registry import MARKER, formulas
    from mhasym.catalog.text import CODE

    titles = [(f.id, f.title) for f in formulas()] + [(d.id, d.title) for d in mhasym.derivations()]
    assert len(titles) > 80
    for id, title in titles:
        prose = MARKER.sub("§", CODE.sub("§", title[lang]))
        assert not PLAIN_MATH.search(prose), f"{id}: {PLAIN_MATH.search(prose).group(0)!r} in {title[lang]!r}"


@pytest.mark.parametrize("id", ["id.split_heads", "tr.learning_rate"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_descriptions_keep_code_and_math_apart(id, lang):
    """Code is code (between backticks, no markers inside), and the math around it is math."""
    from mhasym.catalog.registry import MARKER
    from mhasym.catalog.text import CODE

    text = mhasym.formula(id).description[lang]
    assert all("[[" not in code for code in CODE.findall(text))
    prose = MARKER.sub("§", CODE.sub("§", text))
    assert not PLAIN_MATH.search(prose), f"{id}: {PLAIN_MATH.search(prose).group(0)!r} in {text!r}"


@pytest.mark.parametrize("id", IDS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_derivation_prose_writes_its_math_as_math(id, lang):
    """Setting, reasons and result name every formula through a marker, so the site and the notes show it as math
    (and a screen reader says it); no "e^(s_j)", "dL/dV_kl" or "Q K^T" typed as text."""
    from mhasym.catalog.registry import MARKER, inline, inline_speech

    d = mhasym.derivation(id)
    for text in [d.setting, d.result, *(s.why for s in d.steps)]:
        prose = MARKER.sub("§", text[lang])
        assert not PLAIN_MATH.search(prose), f"{id}: {PLAIN_MATH.search(prose).group(0)!r} in {text[lang]!r}"
        for name in MARKER.findall(text[lang]):  # every marker is shown and said
            assert inline(name) and inline_speech(name, lang)


def test_an_unknown_expression_is_one_line():
    from mhasym.catalog.registry import marker

    with pytest.raises(mhasym.MhasymError, match="unknown expression id 'nope'"):
        marker("expr:nope")
