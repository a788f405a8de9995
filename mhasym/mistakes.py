"""Wrong versions of attention that appear in tutorials, and how the checks catch each one.

Every mistake is built from the same symbolic pieces as the right formula,
with one piece changed, and compiled the same way. :func:`detect` runs it on
the inputs that the catalog checks use (n != m, d_k != d_v, h >= 2, a fixed
seed) and compares with the reference: the result must fail, either by a shape
check while the expression is built or by the numbers.

>>> detect(MISTAKES["scale_d_model"]).passed
False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, Transpose

from . import attention, notation, reference
from .catalog import Text
from .checks import SEED, SIZES, CheckResult, attention_inputs, compare_arrays
from .compile import compile_function
from .errors import MhasymError
from .expressions import Concat, Relation, Scaled, Softmax, SplitHeads


@dataclass(frozen=True)
class Mistake:
    """A wrong version: what it is, the right catalog formula, the wrong formula and its numbers."""

    id: str
    title: Text
    right: str  # catalog id of the right formula
    level: str  # "attention" (compared with scaled_dot_product_attention) or "multihead"
    wrong: Callable  # () -> the wrong formula as a SymPy relation, for display
    run: Callable  # (inputs, sizes) -> the wrong numbers; may raise MhasymError (a shape check)


def _sizes(values: dict | None = None):
    return attention.Sizes.of(**(values or {}))


def _qkv(s):
    return (notation.matrix("Q", s.n, s.d_k), notation.matrix("K", s.m, s.d_k),
            notation.matrix("V", s.m, s.d_v))


def _scores(s, scale=None):
    Q, K, _ = _qkv(s)
    return Scaled(MatMul(Q, Transpose(K)), sp.sqrt(s.d_k) if scale is None else scale)


def _lhs(s):
    Q, K, V = _qkv(s)
    return attention.attention_call(Q, K, V)


def _attention_variant(build: Callable, extra_args=()):
    """Display and numbers for a wrong scaled dot-product attention ``build(s)``."""

    def wrong():
        s = _sizes()
        return Relation(_lhs(s), build(s))

    def run(x, sizes):
        s = _sizes(sizes)
        Q, K, V = _qkv(s)
        args = [Q, K, V] + [a(s) for a in extra_args]
        values = [x["q"], x["k"], x["v"]] + [a.value(x, sizes) for a in extra_args]
        return compile_function(args, build(s))(*values)

    return wrong, run


class _Arg:
    """An extra argument of a compiled mistake: a symbol builder and its numeric value."""

    def __init__(self, symbol, value):
        self.symbol, self.value = symbol, value

    def __call__(self, s):
        return self.symbol(s)


_MASK_01 = _Arg(lambda s: notation.matrix("B", s.n, s.m), lambda x, sizes: x["mask"].astype(float))
_MASK_INVERTED = _Arg(lambda s: notation.matrix("M", s.n, s.m),
                      lambda x, sizes: np.where(x["mask"], -np.inf, 0.0))


def _scale_d_model(s):
    _, _, V = _qkv(s)
    return MatMul(Softmax(_scores(s, sp.sqrt(s.d_model))), V)


def _softmax_columns(s):
    _, _, V = _qkv(s)
    return MatMul(Softmax(_scores(s), axis=0), V)


def _v_times_a(s):
    _, _, V = _qkv(s)
    return V, Softmax(_scores(s))


def _a_transposed_v(s):
    _, _, V = _qkv(s)
    return Transpose(Softmax(_scores(s))), V


def _keys_as_values(s):
    _, K, _ = _qkv(s)
    return MatMul(Softmax(_scores(s)), K)


def _mask_after_softmax(s):
    _, _, V = _qkv(s)
    return MatMul(HadamardProduct(Softmax(_scores(s)), notation.matrix("B", s.n, s.m)), V)


def _mask_inverted(s):
    _, _, V = _qkv(s)
    return MatMul(Softmax(MatAdd(_scores(s), notation.matrix("M", s.n, s.m))), V)


def _shape_checked(factors):
    """A wrong product ``factors(s)``: shown with symbolic sizes, built through the model's shape check."""

    def wrong():
        s = _sizes()
        return Relation(_lhs(s), MatMul(*factors(s)))

    def run(x, sizes):
        attention.product(*factors(_sizes(sizes)))  # the model's shape check raises MhasymError here
        raise MhasymError("shape check passed unexpectedly")  # pragma: no cover

    return wrong, run


# Multi-head mistakes: built from the model's heads with one piece changed.

def _mh_symbols(s):
    X_q, X_kv = notation.matrix("X", s.n, s.d_model), notation.matrix("X_kv", s.m, s.d_model)
    weights = [s.W(kind, i) for kind in "QKV" for i in s.head_indices()]
    return X_q, X_kv, weights


def _mh_values(x):
    return [x["x_q"], x["x_kv"], *x["w_q"], *x["w_k"], *x["w_v"]]


def _heads(s, X_q, X_kv):
    return [attention.head(s, i, X_q, X_kv) for i in s.head_indices()]


def _run_multihead(build):
    def run(x, sizes):
        s = _sizes(sizes)
        X_q, X_kv, weights = _mh_symbols(s)
        expr = build(s, X_q, X_kv)
        args = [X_q, X_kv, *weights, s.W_O()]
        return compile_function(args, expr)(*_mh_values(x), x["w_o"])

    return run


def _summed(s, X_q, X_kv):
    return attention.product(MatAdd(*_heads(s, X_q, X_kv)), s.W_O())


def _without_w_o(s, X_q, X_kv):
    return Concat(*_heads(s, X_q, X_kv))


def _reshape_without_transpose(s, X_q, X_kv):
    """Fused projections X W (W = [W_1 ... W_h] side by side), split by reshape without transpose."""
    fused = {k: Concat(*[s.W(k, i) for i in s.head_indices()]) for k in "QKV"}
    P = {"Q": MatMul(X_q, fused["Q"]), "K": MatMul(X_kv, fused["K"]), "V": MatMul(X_kv, fused["V"])}
    heads = [attention.scaled_dot_product(*(SplitHeads(P[k], s.h, i, transpose=False) for k in "QKV"))
             for i in s.head_indices()]
    return MatMul(Concat(*heads), s.W_O())


def _wrong_general(build_name):
    def wrong():
        s = _sizes({"h": 2})
        X_q, X_kv, _ = _mh_symbols(s)
        lhs = attention.multi_head_call(s)
        if build_name == "summed":
            return Relation(lhs, MatMul(MatAdd(attention.head_symbol(s, 1), attention.head_symbol(s, 2)), s.W_O()))
        if build_name == "without":
            return Relation(lhs, Concat(attention.head_symbol(s, 1), attention.head_symbol(s, 2)))
        P = MatMul(X_q, Concat(s.W("Q", 1), s.W("Q", 2)))
        i = notation.scalar("i")
        return Relation(notation.matrix("Q", s.n, s.d_k, i), SplitHeads(P, s.h, i, transpose=False))

    return wrong


def _make():
    t = Text
    found = {}

    def add(id, title, right, level, wrong, run):
        found[id] = Mistake(id, title, right, level, wrong, run)

    w, r = _attention_variant(_scale_d_model, [_Arg(lambda s: s.d_model, lambda x, sz: sz["d_model"])])
    add("scale_d_model", t("Scaling by sqrt(d_model) instead of sqrt(d_k)", "除以 sqrt(d_model) 而不是 sqrt(d_k)"),
        "attention.sdpa", "attention", w, r)
    w, r = _attention_variant(_softmax_columns, [_Arg(lambda s: s.d_k, lambda x, sz: sz["d_k"])])
    add("softmax_columns", t("Softmax over the wrong axis (each column)", "在错误的轴上做 softmax（按列）"),
        "attention.softmax", "attention", w, r)
    add("v_times_a", t("V A instead of A V", "写成 V A 而不是 A V"), "attention.sdpa", "attention",
        *_shape_checked(_v_times_a))
    add("a_transposed_v", t("A^T V instead of A V", "写成 A^T V 而不是 A V"), "attention.sdpa", "attention",
        *_shape_checked(_a_transposed_v))
    w, r = _attention_variant(_keys_as_values, [_Arg(lambda s: s.d_k, lambda x, sz: sz["d_k"])])
    add("keys_as_values", t("Keys where values belong", "把键当作值使用"), "attention.sdpa", "attention", w, r)
    w, r = _attention_variant(_mask_after_softmax, [_Arg(lambda s: s.d_k, lambda x, sz: sz["d_k"]), _MASK_01])
    add("mask_after_softmax", t("Mask applied after the softmax", "在 softmax 之后才施加掩码"),
        "attention.masked", "attention", w, r)
    w, r = _attention_variant(_mask_inverted, [_Arg(lambda s: s.d_k, lambda x, sz: sz["d_k"]), _MASK_INVERTED])
    add("mask_polarity", t("Mask polarity inverted (True read as 'masked out')",
                           "掩码极性颠倒（把 True 当作“屏蔽”）"),
        "attention.masked", "attention", w, r)

    def summed_run(x, sizes):
        s = _sizes(sizes)
        X_q, X_kv, _ = _mh_symbols(s)
        _summed(s, X_q, X_kv)
        raise MhasymError("shape check passed unexpectedly")  # pragma: no cover

    add("heads_summed", t("Head outputs summed instead of concatenated", "把各头输出相加而不是拼接"),
        "mha.multihead", "multihead", _wrong_general("summed"), summed_run)
    add("no_w_o", t("W^O left out", "遗漏输出投影 W^O"), "mha.multihead", "multihead",
        _wrong_general("without"), _run_multihead(_without_w_o))
    add("reshape_without_transpose", t("Heads split by reshape without the transpose",
                                       "拆分多头时只做 reshape 而没有 transpose"),
        "mha.multihead", "multihead", _wrong_general("reshape"), _run_multihead(_reshape_without_transpose))
    return found


def _reference(level: str, x: dict, masked: bool):
    mask = x["mask"] if masked else None
    if level == "attention":
        return reference.scaled_dot_product_attention(x["q"], x["k"], x["v"], mask)
    return reference.multi_head_attention(x["x_q"], x["x_kv"], x["w_q"], x["w_k"], x["w_v"], x["w_o"], mask)


def detect(mistake: Mistake, sizes: dict = SIZES, seed: int = SEED) -> CheckResult:
    """Run the wrong version through the checks; ``passed`` is False when it is caught."""
    x = attention_inputs(sizes, seed)
    masked = mistake.id.startswith("mask")
    what = f"wrong version ({mistake.id}) vs reference"
    try:
        got = mistake.run(x, sizes)
    except MhasymError as exc:
        return CheckResult(mistake.id, "shape", what, False, dict(sizes), seed, detail=f"shape check: {exc}")
    with np.errstate(invalid="ignore", divide="ignore"):
        return compare_arrays(mistake.id, what, got, _reference(mistake.level, x, masked), sizes, seed)


MISTAKES = _make()
