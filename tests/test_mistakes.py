"""Every wrong version of attention from the learner-pitfalls list is caught by the checks."""

import numpy as np
import pytest

import mhasym
from mhasym.catalog import checks
from mhasym import numeric, reference
from mhasym.catalog.mistakes import MISTAKES, detect

REQUIRED = [
    "scale_d_model", "softmax_columns", "v_times_a", "a_transposed_v", "keys_as_values",
    "heads_summed", "no_w_o", "reshape_without_transpose", "mask_after_softmax", "mask_polarity",
]


def test_every_listed_mistake_is_modelled():
    assert set(REQUIRED) <= set(MISTAKES)


@pytest.mark.parametrize("mid", REQUIRED)
def test_mistake_is_caught(mid):
    result = detect(MISTAKES[mid])
    assert not result.passed, result.summary()


@pytest.mark.parametrize("mid", REQUIRED)
def test_the_right_formula_passes_the_same_check(mid):
    assert mhasym.formula(MISTAKES[mid].right).check().passed


@pytest.mark.parametrize("mid", REQUIRED)
def test_wrong_formula_is_shown_differently_from_the_right_one(mid):
    mistake = MISTAKES[mid]
    wrong = mhasym.latex(mistake.wrong())
    assert wrong and wrong != mhasym.formula(mistake.right).latex


def test_w_o_left_out_is_caught_by_values_when_shapes_agree():
    # h * d_v == d_model: leaving W^O out keeps the shape, so only the values can tell.
    sizes = {"n": 4, "m": 6, "d_model": 6, "h": 3, "d_k": 5, "d_v": 2}
    result = detect(MISTAKES["no_w_o"], sizes)
    assert not result.passed and result.max_error is not None and result.max_error > 1e-3


@pytest.mark.parametrize("mid", ["v_times_a", "a_transposed_v", "scale_d_model", "keys_as_values"])
def test_unequal_sizes_matter(mid):
    """With n == m and d_k == d_v some mistakes pass shape checks; the standard sizes avoid that."""
    s = checks.SIZES
    assert s["n"] != s["m"] and s["d_k"] != s["d_v"] and s["h"] >= 2 and s["d_model"] != s["d_k"]


# Implementation mistakes written directly in NumPy, caught by comparison with the reference.

def _x(seed=3, n=4, m=7, d_model=11, h=3, d_k=5, d_v=2):
    g = np.random.default_rng(seed)
    return dict(x_q=g.normal(size=(n, d_model)), x_kv=g.normal(size=(m, d_model)),
                w_q=g.normal(size=(h, d_model, d_k)), w_k=g.normal(size=(h, d_model, d_k)),
                w_v=g.normal(size=(h, d_model, d_v)), w_o=g.normal(size=(h * d_v, d_model)))


def _large_negative_instead_of_minus_infinity(q, k, v, mask):
    s = np.where(mask, q @ k.T / np.sqrt(q.shape[1]), -1e9)  # masked_fill with a constant
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)) @ v


def test_a_fully_masked_row_is_refused_not_turned_uniform():
    g = np.random.default_rng(0)
    q, k, v = g.normal(size=(3, 2)), g.normal(size=(4, 2)), g.normal(size=(4, 3))
    mask = np.ones((3, 4), bool)
    mask[2] = False
    uniform = _large_negative_instead_of_minus_infinity(q, k, v, mask)
    assert np.allclose(uniform[2], v.mean(axis=0))  # the silent uniform row
    with pytest.raises(mhasym.MhasymError, match="mask row 2"):
        numeric.scaled_dot_product_attention(q, k, v, mask)


def test_numeric_agrees_with_reference_where_the_mutants_do_not():
    x = _x()
    assert checks.max_error(numeric.multi_head_attention(**x), reference.multi_head_attention(**x)) <= 1e-10


LAYER_MISTAKES = ["pre_ln_for_post", "unbiased_variance", "eps_outside_sqrt", "pe_concatenated",
                  "decoder_without_mask", "cross_queries_from_encoder", "fully_masked_row_uniform"]


@pytest.mark.parametrize("mid", LAYER_MISTAKES)
def test_transformer_mistake_is_caught(mid):
    assert mid in MISTAKES
    result = detect(MISTAKES[mid])
    assert not result.passed, result.summary()
    assert mhasym.formula(MISTAKES[mid].right).check().passed


@pytest.mark.parametrize("mid", sorted(MISTAKES))
def test_each_entry_says_why_where_and_names_its_right_formula_by_title(mid):
    f = mhasym.formula(f"mistake.{mid}")
    for lang, seen, unnamed in (("en", "Seen in", "No named source"), ("zh", "见于", "没有具名来源")):
        text = f.description[lang]
        assert (seen in text) != (unnamed in text) and f.right.title[lang] in text and f.right.id not in text
        assert len(MISTAKES[mid].why[lang]) > (40 if lang == "en" else 20)


def test_the_mistakes_page_splits_errors_from_conventions_and_pairs_each_with_its_right_formula():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for name, errors, conventions in (("mistakes.md", "## Errors", "## Conventions"), ("mistakes.zh.md", "## 错误", "## 与论文或其来源不同的约定")):
        text = (root / "docs" / name).read_text(encoding="utf-8")
        head, rest = text.split(errors, 1)
        wrong_part, convention_part = rest.split(conventions, 1)
        pairs = dict(re.findall(r"```formula\nmistake\.(\w+) ([\w.]+)\n```", text))
        assert set(pairs) == set(MISTAKES), name
        assert all(pairs[m] == MISTAKES[m].right for m in pairs), name
        for mid, mistake in MISTAKES.items():
            where = convention_part if mistake.kind == "convention" else wrong_part
            assert f"mistake.{mid} " in where, (name, mid)
    kinds = {m.kind for m in MISTAKES.values()}
    assert kinds == {"error", "convention"}
    assert {m for m, x in MISTAKES.items() if x.kind == "convention"} == {
        "pre_ln_for_post", "unbiased_variance", "eps_outside_sqrt", "pe_concatenated", "fully_masked_row_uniform"}
