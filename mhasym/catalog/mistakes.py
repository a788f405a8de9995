"""Wrong versions of attention that appear in tutorials, and how the checks catch each one.

A mistake is its right formula's object with one named rewrite (``sqrt(d_k) -> sqrt(d_model)``,
``A V -> V A``, ...). The object shown is the object run: :func:`detect` runs the wrong object
through the right formula's own check, ``right.check(expr=wrong, sizes=...)``, at sizes where the
wrong formula is well-typed (``A^T V`` needs n = m), so it is caught by its numbers, not by a
shape error. A mistake counts as caught only when that check fails with numbers compared.

>>> detect(MISTAKES["scale_d_model"]).passed
False
>>> MISTAKES["a_transposed_v"].sizes["n"] == MISTAKES["a_transposed_v"].sizes["m"]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy as sp
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, Transpose

from mhasym.model import notation
from mhasym.catalog.text import Text
from mhasym.catalog.checks import LAYER_SIZES, SIZES, CheckResult
from mhasym.model.expressions import (Apply, Call, Concat, Frac, Group, Minus, Neg, Plus, Power, Relation, Scaled, Softmax,
                          SplitHeads)


@dataclass(frozen=True)
class Mistake:
    """A wrong version: what it is, the right catalog formula, the rewrite that makes it wrong, and the
    sizes at which it is well-typed (so that numbers, not shapes, tell it apart)."""

    id: str
    title: Text
    right: str  # catalog id of the right formula
    rewrite: Callable  # (right formula's expr) -> the wrong expr
    sizes: dict = field(default_factory=dict)  # sizes for the right formula's check; {} = its own

    def wrong(self):
        """The wrong formula as a SymPy object of the same form as the right one."""
        from mhasym.catalog.registry import formula

        return self.rewrite(formula(self.right).expr)


def _d(name):
    return notation.dim(name)


def _swap(old, new):
    """A rewrite that replaces every ``old`` node by ``new``."""
    return lambda expr: expr.xreplace({old: new})


def _matching(test, change):
    """A rewrite that changes every node for which ``test`` holds."""
    return lambda expr: expr.replace(test, change)


def _product_of_weights_and_values(expr, change):
    """``softmax(...) V`` -> ``change(softmax(...), V)`` in an attention formula."""
    return expr.replace(lambda e: isinstance(e, MatMul) and len(e.args) == 2 and isinstance(e.args[0], Softmax),
                        lambda e: change(*e.args))


def _keys_for_values(expr):
    K = notation.matrix("K", _d("m"), _d("d_k"))
    return _product_of_weights_and_values(expr, lambda A, V: MatMul(A, K))


def _mask_after_softmax(expr):
    B, M = notation.matrix("B", _d("n"), _d("m")), notation.matrix("M", _d("n"), _d("m"))
    wrong = expr.replace(lambda e: isinstance(e, Softmax) and isinstance(e.arg, MatAdd),
                         lambda e: HadamardProduct(Softmax(e.arg.args[0]), B))
    return wrong.xreplace({M: B})  # the 0/1 mask B, multiplied after the softmax


def _heads_summed(expr):
    from mhasym.model.expressions import MatSum

    i, h = notation.scalar("i"), _d("h")
    W_O = notation.matrix("W_O", _d("d_v"), _d("d_model"))  # d_v rows: the only way a sum of heads fits
    head = notation.matrix("head", _d("n"), _d("d_v"), i)
    return expr.replace(lambda e: isinstance(e, MatMul) and isinstance(e.args[0], Concat),
                        lambda e: MatMul(MatSum(head, i, 1, h), W_O))


def _without_w_o(expr):
    return expr.replace(lambda e: isinstance(e, MatMul) and isinstance(e.args[0], Concat), lambda e: e.args[0])


def _layer_norm_row(k, change):
    def rewrite(expr):
        rows = list(expr.args)
        rows[k] = change(rows[k])
        return expr.func(*rows)
    return rewrite


def _unbiased(row):
    d = _d("d_model")
    return row.xreplace({Frac(1, d): Frac(1, Minus(d, 1))})


def _eps_outside(row):
    sigma, eps = notation.scalar("sigma"), notation.scalar("epsilon")
    return row.xreplace({sp.sqrt(Plus(sigma**2, eps)): Plus(sigma, eps)})


def _pe_blocks(expr):
    pos, i, d = notation.scalar("pos"), notation.scalar("i"), _d("d_model")
    angle = Frac(pos, sp.Pow(10000, Frac(2 * i, d), evaluate=False))
    return Group(Relation(Call("PE", pos, i), sp.sin(angle)),
                 Relation(Call("PE", pos, Plus(Frac(d, 2), i)), sp.cos(angle)))


def _is_call(name, count):
    return lambda e: isinstance(e, Apply) and e.name == name and len(e.operands) == count


def _without_causal_mask(expr):
    return expr.replace(_is_call("MultiHead", 4), lambda e: Apply(*e.args[:3], *e.operands[:3]))


def _queries_from_encoder(expr):
    memory = notation.matrix("memory", _d("m"), _d("d_model"))

    def swap(e):
        x, kv, _ = e.operands
        return Apply(*e.args[:3], kv, x, x) if kv == memory else e

    return expr.replace(_is_call("MultiHead", 3), swap)


def _large_negative(expr):
    return expr.xreplace({-sp.oo: Neg(Power(10, 9))})


def _pre_ln(expr):
    from mhasym.catalog.registry import formula

    return formula("tr.encoder_layer_pre").expr


def _make():
    t = Text
    n, m, d_k, d_v, d_model = (_d(x) for x in ("n", "m", "d_k", "d_v", "d_model"))
    Q, K, V = notation.matrix("Q", n, d_k), notation.matrix("K", m, d_k), notation.matrix("V", m, d_v)
    B = sp.IndexedBase(sp.Symbol("B"))
    i, j = notation.scalar("i"), notation.scalar("j")
    found = [
        Mistake("scale_d_model", t("Scaling by [[sqrt:d_model]] instead of [[sqrt:d_k]]",
                                   "除以 [[sqrt:d_model]] 而不是 [[sqrt:d_k]]"),
                "attention.sdpa", _swap(sp.sqrt(d_k), sp.sqrt(d_model))),
        Mistake("softmax_columns", t("Softmax over the wrong axis (each column)", "在错误的轴上做 softmax（按列）"),
                "attention.sdpa", _matching(lambda e: isinstance(e, Softmax), lambda e: Softmax(e.arg, 0))),
        Mistake("v_times_a", t("[[V]] [[A]] instead of [[A]] [[V]]", "写成 [[V]] [[A]] 而不是 [[A]] [[V]]"),
                "attention.sdpa", lambda e: _product_of_weights_and_values(e, lambda A, V_: MatMul(V_, A)),
                {"n": 4, "m": 4, "d_k": 5, "d_v": 4, "d_model": 11, "h": 3}),
        Mistake("a_transposed_v", t("[[A]] transposed before multiplying by [[V]]", "先把 [[A]] 转置再乘以 [[V]]"),
                "attention.sdpa", lambda e: _product_of_weights_and_values(e, lambda A, V_: MatMul(Transpose(A), V_)),
                {"n": 4, "m": 4, "d_k": 5, "d_v": 2, "d_model": 11, "h": 3}),
        Mistake("keys_as_values", t("Keys where values belong", "把键当作值使用"), "attention.sdpa", _keys_for_values,
                {"n": 4, "m": 7, "d_k": 3, "d_v": 3, "d_model": 11, "h": 3}),
        Mistake("mask_after_softmax", t("Mask applied after the softmax", "在 softmax 之后才施加掩码"),
                "attention.masked", _mask_after_softmax),
        Mistake("mask_polarity", t("Mask polarity inverted (True read as 'masked out')",
                                   "掩码极性颠倒（把 True 当作“屏蔽”）"),
                "masks.boolean_to_additive", _swap(sp.Eq(B[i, j], 1), sp.Eq(B[i, j], 0))),
        Mistake("heads_summed", t("Head outputs summed instead of concatenated", "把各头输出相加而不是拼接"),
                "mha.multihead", _heads_summed),
        Mistake("no_w_o", t("[[W_O]] left out", "遗漏输出投影 [[W_O]]"), "mha.multihead", _without_w_o,
                {"n": 4, "m": 7, "d_model": 6, "h": 3, "d_k": 5, "d_v": 2}),
        Mistake("reshape_without_transpose", t("Heads split by reshape without the transpose",
                                               "拆分多头时只做 reshape 而没有 transpose"),
                "id.split_heads", _matching(lambda e: isinstance(e, SplitHeads) and e.transpose,
                                            lambda e: SplitHeads(e.P, e.heads, e.i, transpose=False))),
        Mistake("pre_ln_for_post", t("Pre-LN where the paper's post-LN is meant", "把 Pre-LN 当作论文的 Post-LN"),
                "tr.encoder_layer", _pre_ln),
        Mistake("unbiased_variance", t("LayerNorm with the unbiased variance (divide by [[d_model]] − 1)",
                                       "层标准化使用无偏方差（除以 [[d_model]] − 1）"),
                "tr.layer_norm", _layer_norm_row(1, _unbiased)),
        Mistake("eps_outside_sqrt", t("[[epsilon]] outside the square root", "[[epsilon]] 放在平方根之外"),
                "tr.layer_norm", _layer_norm_row(2, _eps_outside)),
        Mistake("pe_concatenated", t("Sines and cosines as two blocks instead of interleaved",
                                     "正弦和余弦分成两块，而不是交错排列"),
                "tr.positional_encoding", _pe_blocks),
        Mistake("decoder_without_mask", t("Decoder self-attention without the causal mask",
                                          "解码器自注意力没有因果掩码"),
                "tr.decoder_layer", _without_causal_mask),
        Mistake("cross_queries_from_encoder", t("Cross-attention taking its queries from the encoder",
                                                "交叉注意力的查询取自编码器"),
                "tr.decoder_layer", _queries_from_encoder, {**LAYER_SIZES, "m": LAYER_SIZES["n"]}),
        Mistake("fully_masked_row_uniform", t("A fully masked row turned into a uniform row",
                                              "被完全屏蔽的一行变成了均匀分布"),
                "masks.boolean_to_additive", _large_negative),
    ]
    del Q, K, V
    return {mistake.id: mistake for mistake in found}


MISTAKES = _make()


def detect(mistake: Mistake, sizes: dict | None = None, expr=None) -> CheckResult:
    """Run the wrong version (or ``expr``) through its right formula's check; ``passed`` is False when
    it is caught. ``refused`` on the result says it was refused (shapes) rather than compared."""
    from mhasym.catalog.registry import formula

    right = formula(mistake.right)
    return right.check(expr=mistake.wrong() if expr is None else expr, sizes=sizes or mistake.sizes or None)


def caught(mistake: Mistake, result: CheckResult) -> bool:
    """Caught means: the right formula's check failed with numbers (or a proof) compared, not refused."""
    return not result.passed and not result.refused


__all__ = ["MISTAKES", "Mistake", "caught", "detect", "SIZES"]
