"""Formulas in words: the speech printer in English and Chinese (what the site puts in ``aria-label``).

The tables say, formula by formula, what a listener should hear; they are written from the printed
formula by a reader, not pasted from the printer.
"""

import re

import pytest
import sympy as sp

import mhasym
from mhasym.catalog import registry as catalog
from mhasym.catalog.derivation import derivations
from mhasym.catalog.exercise import exercises
from mhasym.model import notation
from mhasym.model.expressions import Softmax, Scaled
from mhasym.printing.speech import SpeechPrinter, speech

ENGLISH = [
    ("attention.sdpa", "Attention of Q, K, V equals softmax of Q K transpose over the square root of d k, times V"),
    ("attention.weights", "A equals softmax of Q K transpose over the square root of d k"),
    ("attention.masked", "Attention of Q, K, V, M equals softmax of open paren Q K transpose over the square root "
                         "of d k, plus M close paren, times V"),
    ("attention.projections", "Q equals X W Q; K equals X kv W K; V equals X kv W V"),
    ("attention.shapes", "Q is in the space of real n by d k matrices; K is in the space of real m by d k matrices; "
                         "V is in the space of real m by d v matrices; Attention of Q, K, V is in the space of real "
                         "n by d v matrices"),
    ("mha.head", "head i equals Attention of Q W Q i, K W K i, V W V i"),
    ("mha.multihead", "MultiHead of Q, K, V equals Concat of head 1 through head h, times W O"),
    ("id.concat_wo", "Concat of Z 1 through Z h, times W O equals the sum over i from 1 to h of Z i W O i"),
    ("masks.causal_top_left", "M i j equals 0 if j is at most i; minus infinity if j is greater than i"),
    ("masks.padding", "M i j equals 0 if j is at most L; minus infinity if j is greater than L"),
    ("masks.combined", "M equals M causal plus M pad"),
    ("tr.ffn", "FFN of X equals the elementwise maximum of 0 and open paren X W 1 plus b 1 close paren, times W 2, "
               "plus b 2"),
    ("tr.residual_post", "H equals LayerNorm of open paren X plus Sublayer of X close paren"),
    ("tr.residual_pre", "H equals X plus Sublayer of LayerNorm of X"),
    ("tr.output", "Y hat equals softmax of H E transpose"),
    ("seed.shape_2", "shape of Z concatenated equals 2 by 6"),
    ("mistake.heads_summed", "MultiHead of Q, K, V equals open paren the sum over i from 1 to h of head i close paren, "
                             "times W O"),
    ("mistake.v_times_a", "Attention of Q, K, V equals V times softmax of Q K transpose over the square root of d k"),
    ("tr.embedding", "X equals the square root of d model, times E x, plus PE"),
]

CHINESE = [
    ("attention.sdpa", "Q、K、V 的 Attention 等于 Q 乘 K 的转置除以根号 d k 的 softmax，再乘 V"),
    ("attention.weights", "A 等于 Q 乘 K 的转置除以根号 d k 的 softmax"),
    ("attention.masked", "Q、K、V、M 的 Attention 等于左括号 Q 乘 K 的转置除以根号 d k，加 M 右括号的 softmax，再乘 V"),
    ("attention.projections", "Q 等于 X 乘 W Q；K 等于 X kv 乘 W K；V 等于 X kv 乘 W V"),
    ("attention.shapes", "Q 属于 n 行 d k 列的实矩阵的集合；K 属于 m 行 d k 列的实矩阵的集合；V 属于 m 行 d v 列的实矩阵的集合；"
                         "Q、K、V 的 Attention 属于 n 行 d v 列的实矩阵的集合"),
    ("mha.head", "head i 等于 Q 乘 W Q i、K 乘 W K i、V 乘 W V i 的 Attention"),
    ("mha.multihead", "Q、K、V 的 MultiHead 等于 head 1 到 head h 的 Concat，再乘 W O"),
    ("id.concat_wo", "Z 1 到 Z h 的 Concat，再乘 W O 等于对 i 从 1 到 h 求和 Z i 乘 W O i"),
    ("masks.causal_top_left", "M i j 等于 0，当 j 小于等于 i 时；负无穷大，当 j 大于 i 时"),
    ("masks.padding", "M i j 等于 0，当 j 小于等于 L 时；负无穷大，当 j 大于 L 时"),
    ("masks.combined", "M 等于 M causal 加 M pad"),
    ("tr.ffn", "X 的 FFN 等于 0 与左括号 X 乘 W 1 加 b 1 右括号的逐元素最大值，再乘 W 2，加 b 2"),
    ("tr.residual_post", "H 等于左括号 X 加 X 的 Sublayer 右括号的 LayerNorm"),
    ("tr.residual_pre", "H 等于 X 加 X 的 LayerNorm 的 Sublayer"),
    ("tr.output", "Y 帽等于 H 乘 E 的转置的 softmax"),
    ("seed.shape_2", "Z 拼接的形状等于 2 行 6 列"),
    ("mistake.heads_summed", "Q、K、V 的 MultiHead 等于左括号对 i 从 1 到 h 求和 head i 右括号，再乘 W O"),
    ("tr.embedding", "X 等于根号 d model，再乘 E x，加 PE"),
]


@pytest.mark.parametrize("fid,words", ENGLISH)
def test_english_words(fid, words):
    assert catalog.formula(fid).speech("en") == words


@pytest.mark.parametrize("fid,words", CHINESE)
def test_chinese_words(fid, words):
    assert catalog.formula(fid).speech("zh") == words


def test_tables_are_long_enough():
    assert len(ENGLISH) >= 15 and len(CHINESE) >= 15


def _every_spoken_thing():
    """Every piece of math the site shows, as (where, object) pairs."""
    for f in catalog.formulas():
        yield f.id, f.expr
    for d in derivations():
        for k, step in enumerate(d.steps, 1):
            yield f"{d.id} step {k}", step.expr
    for page in catalog.SECTIONS:
        for ex in exercises(page):
            math = ex.answer(ex.value).math
            if math is not None:
                yield ex.id, math
    for key, shape, _, _ in notation.GLOSSARY:
        yield f"symbol {key}", catalog.marker(key)


TEX = re.compile(r"[\\{}^_$]")
ENGLISH_WORDS = {"of", "over", "equals", "the", "times", "plus", "minus", "by", "if", "and", "sum", "from", "power",
                 "transpose", "matrix", "square", "root", "open", "close", "paren", "entry", "otherwise", "through",
                 "fraction", "numerator", "denominator", "at", "most", "space", "real", "shape"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_formula_has_words_without_tex(lang):
    """The strict printer has words for every object the site shows; none of them is TeX; Chinese words
    hold no English words (names such as softmax, W Q, d model stay as written)."""
    printer = SpeechPrinter({"lang": lang, "strict": True})
    seen = 0
    for where, obj in _every_spoken_thing():
        said = printer.doprint(obj)
        assert said and not TEX.search(said), f"{where}: {said!r}"
        if lang == "zh":
            english = set(re.findall(r"[a-z]+", said)) & ENGLISH_WORDS
            assert not english, f"{where}: English words {english} in {said!r}"
        seen += 1
    assert seen >= 140


def test_derivation_steps_that_continue_say_equals():
    d = mhasym.derivation("deriv.softmax_jacobian")
    assert d.spoken(2, "en").startswith("equals ")
    assert d.spoken(2, "zh").startswith("等于")
    assert d.spoken(1, "en").startswith("partial a i over partial s j equals")


@pytest.mark.parametrize("expr,en,zh", [
    (sp.sqrt(notation.dim("d_k")), "the square root of d k", "根号 d k"),
    (notation.dim("d_model") ** 2, "d model squared", "d model 的平方"),
    # in the order the LaTeX writes this product: d_{model} n^{2}
    (notation.dim("n") ** 2 * notation.dim("d_model"), "d model times n squared", "d model 乘 n 的平方"),
    (notation.dim("h") * notation.dim("d_v"), "h d v", "h 乘 d v"),
    (2 * notation.scalar("i") + 1, "2 i plus 1", "2 i 加 1"),
    (notation.dim("m") - notation.dim("n"), "m minus n", "m 减 n"),
    (sp.Rational(1, 10), "1 over 10", "1 除以 10"),
    (-sp.oo, "minus infinity", "负无穷大"),
])
def test_scalar_words(expr, en, zh):
    assert speech(expr, "en", strict=True) == en
    assert speech(expr, "zh", strict=True) == zh


def test_grouping_says_what_the_parens_say():
    """(E[q])^2 and E[q^2] are said differently; so are softmax(S) V and softmax(S V)."""
    from mhasym.model.expressions import Expect

    q = sp.Symbol("q")
    assert speech(Expect(q) ** 2) == "open paren the expectation of q close paren squared"
    assert speech(Expect(q ** 2)) == "the expectation of q squared"
    n, m, d = notation.dim("n"), notation.dim("m"), notation.dim("d_v")
    S, V = notation.matrix("S", n, m), notation.matrix("V", m, d)
    assert speech(Softmax(S) * V) == "softmax of S, times V"
    assert speech(Softmax(S * V.T.T)) == "softmax of S V"


def test_unknown_language_is_one_line():
    with pytest.raises(mhasym.MhasymError, match="unknown language 'fr'; known: en, zh"):
        catalog.formula("attention.sdpa").speech("fr")


def test_strict_printer_names_what_it_cannot_say():
    with pytest.raises(mhasym.MhasymError, match="no spoken form for Integral"):
        speech(sp.Integral(sp.Symbol("x"), sp.Symbol("x")), strict=True)


def test_scaled_words_come_from_the_object():
    """The words follow the object: another denominator is said."""
    Q, K = notation.matrix("Q", notation.dim("n"), notation.dim("d_k")), notation.matrix("K", notation.dim("m"), notation.dim("d_k"))
    assert speech(Scaled(Q * K.T, sp.sqrt(notation.dim("d_model")))) == "Q K transpose over the square root of d model"
