"""Scaled dot-product attention: its definition, with and without a mask, the row-wise softmax, shapes."""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from mhasym import reference
from mhasym.catalog.checks import (SEED, SIZES, CheckResult, attention_bindings, attention_inputs, compare_arrays,
                                   compare_shapes, failed, numeric)
from mhasym.catalog.registry import register
from mhasym.catalog.text import Text
from mhasym.model import attention, notation
from mhasym.model.expressions import Group, Relation, Softmax, Space
from mhasym.printing.numpy_printer import compile_function
from mhasym.catalog.entries.sources import PAPER, cite as _text


def _numeric_sizes(*names):
    return {k: SIZES[k] for k in names}



def _sdpa(masked: bool):
    s = attention.Sizes.of()
    Q, K, V = s.qkv()
    M = s.mask() if masked else None
    lhs = attention.attention_call(Q, K, V) if not masked else attention.Apply("Attention", s.n, s.d_v, Q, K, V, M)
    return Relation(lhs, attention.scaled_dot_product(Q, K, V, M))


def _check_sdpa(masked: bool):
    def check(f, expr, sizes=None):
        sizes = dict(sizes or SIZES)
        x = attention_inputs(sizes)
        want = reference.scaled_dot_product_attention(x["q"], x["k"], x["v"], x["mask"] if masked else None)
        what = "the formula, compiled, vs reference.scaled_dot_product_attention"
        args = [x["q"], x["k"], x["v"]] + ([np.where(x["mask"], 0.0, -np.inf)] if masked else [])
        return numeric(f, expr, what + (" with a boolean mask" if masked else ""), sizes, attention_bindings(x),
                       want, shown_sizes={k: sizes[k] for k in ("n", "m", "d_k", "d_v")}, args=args)
    return check


register(
    "attention.sdpa", "attention",
    Text("Scaled dot-product attention", "缩放点积注意力"),
    _text("The n × m scores are divided by the square root of [[d_k]], then a softmax is taken over each row "
          "(over the m keys), and the weights average the value rows.",
          "先把 n × m 的得分除以 [[d_k]] 的平方根，再按行（对 m 个键）做 softmax，最后用这些权重对值的各行加权平均。",
          PAPER),
    lambda: _sdpa(False), _check_sdpa(False),
)

register(
    "attention.masked", "attention",
    Text("Masked attention (additive mask)", "带掩码的注意力（加性掩码）"),
    _text("M is 0 where the query may attend the key and minus infinity where it may not; it is "
          "added to the scores before the softmax, so masked keys get weight 0.",
          "M 在允许关注的位置为 0，不允许的位置为负无穷；它在 softmax 之前加到得分上，因此被屏蔽的键权重为 0。",
          PAPER),
    lambda: _sdpa(True), _check_sdpa(True),
)


def _weights():
    s = attention.Sizes.of()
    Q, K, _ = s.qkv()
    return Relation(notation.matrix("A", s.n, s.m), Softmax(attention.Scaled(attention.MatMul(Q, attention.Transpose(K)),
                                                                          sp.sqrt(s.d_k))))


def _check_weights(f, expr, sizes=None):
    sizes = dict(sizes or SIZES)
    x = attention_inputs(sizes)
    want = reference.attention_weights(x["q"], x["k"])
    return numeric(f, expr, "the formula, compiled, vs reference.attention_weights", sizes, attention_bindings(x),
                   want, shown_sizes={k: sizes[k] for k in ("n", "m", "d_k")})


register(
    "attention.weights", "attention",
    Text("The attention weights A", "注意力权重 A"),
    _text("A is the n × m matrix of weights: row i says how much query i takes from each of the m value rows. "
          "Attention(Q, K, V) = A V.",
          "A 是 n × m 的权重矩阵：第 i 行表示查询 i 从 m 个值行中各取多少。Attention(Q, K, V) = A V。", PAPER),
    _weights, _check_weights,
)


def _softmax_entry():
    s = attention.Sizes.of()
    S = notation.matrix("S", s.n, s.m)
    entry = sp.IndexedBase(sp.Symbol("S"))
    i, j, k = (notation.scalar(x) for x in "ijk")
    rhs = sp.exp(entry[i, j]) / sp.Sum(sp.exp(entry[i, k]), (k, 1, s.m))
    return Relation(MatrixElement(Softmax(S), i, j), rhs)


def _check_softmax(f, expr, sizes=None):
    s = attention.Sizes.of()
    entry = sp.IndexedBase(sp.Symbol("S"))
    i, j = notation.scalar("i"), notation.scalar("j")
    n, m = SIZES["n"], SIZES["m"]
    scores = np.random.default_rng(SEED).normal(size=(n, m))
    values = {entry[a, b]: scores[a - 1, b - 1] for a in range(1, n + 1) for b in range(1, m + 1)}
    template = expr.rhs.xreplace({s.m: m})
    what = "entry formula vs reference.softmax_rows"
    try:
        got = np.array([[float(template.xreplace({i: a, j: b}).doit().xreplace(values))
                         for b in range(1, m + 1)] for a in range(1, n + 1)])
        from mhasym.catalog.evaluate import size_values
        lhs = compile_function([notation.matrix("S", n, m)], expr.lhs.parent.xreplace(size_values({"n": n, "m": m})))
        got_lhs = lhs(scores)
    except Exception as exc:  # noqa: BLE001 - a wrong version that does not evaluate fails
        return CheckResult(f.id, "numeric", what, False, {"n": n, "m": m}, SEED,
                           detail=f"the formula did not evaluate to numbers ({exc})")
    want = reference.softmax_rows(scores)
    left = compare_arrays(f.id, what + "; the left side's matrix, compiled, too", got_lhs, want, {"n": n, "m": m}, SEED)
    if not left.passed:
        return left
    return compare_arrays(f.id, what + "; the left side's matrix, compiled, too", got, want, {"n": n, "m": m}, SEED)


register(
    "attention.softmax", "attention",
    Text("Row-wise softmax", "按行 softmax"),
    Text("S is the n × m matrix of scaled scores, Q times the transpose of K over [[sqrt:d_k]]; with a mask the "
         "softmax is taken of S + [[M]] instead. Each row of weights is non-negative (0 for masked keys) and sums to 1: row i says how query i spreads its "
         "attention over the m keys.",
         "S 是 n × m 的缩放得分矩阵，即 Q 乘以 K 的转置再除以 [[sqrt:d_k]]；有掩码时对 S + [[M]] 做 softmax。"
         "每一行权重都非负（被屏蔽的键为 0）且和为 1：第 i 行表示查询 i 如何把注意力分配到 m 个键上。"),
    _softmax_entry, _check_softmax,
)


def _attention_shapes():
    s = attention.Sizes.of()
    Q, K, V = s.qkv()
    out = attention.attention_call(Q, K, V)
    return Group(*(Relation(x, Space(*x.shape), "in") for x in (Q, K, V, out)))


def _spaces(expr, sizes):
    """The shapes that a group of ``X in R^{r x c}`` claims, at ``sizes``: {key of X: (r, c)}."""
    from mhasym.catalog.evaluate import size_values

    values = size_values(sizes)
    claims = []
    for rel in expr.args:
        if not (isinstance(rel, Relation) and rel.op == "in" and isinstance(rel.rhs, Space)):
            raise ValueError(f"{rel} is not a statement X in R^(r x c)")
        claims.append((rel.lhs, tuple(int(sp.sympify(d).xreplace(values)) for d in rel.rhs.shape)))
    return claims


def _check_attention_shapes(f, expr, sizes=None):
    """Arrays of the shapes claimed for Q, K, V go into reference.scaled_dot_product_attention and into the
    call on the last line, run through attention.sdpa; the claimed output shape must be both results' shape."""
    from mhasym.catalog.checks import Inputs, run_formula

    sizes = _numeric_sizes("n", "m", "d_k", "d_v")
    what = ("arrays of the shapes claimed for Q, K, V in reference.scaled_dot_product_attention and in the "
            "last line's call (via attention.sdpa); the output shape claimed vs both")
    try:
        claims = _spaces(expr, sizes)
        names = [getattr(lhs, "name", None) for lhs, _ in claims]
        if names[:3] != ["Q", "K", "V"]:
            raise ValueError(f"the first three lines are about {names[:3]}, not Q, K, V")
        g = np.random.default_rng(SEED)
        arrays = {name: g.normal(size=shape) for name, (_, shape) in zip(names, claims[:3])}
        out = reference.scaled_dot_product_attention(arrays["Q"], arrays["K"], arrays["V"])
        call = expr.args[3].lhs
        ran, _ = run_formula(f, call, sizes, Inputs({k: [v] for k, v in arrays.items()}),
                             defines=False)
    except Exception as exc:  # noqa: BLE001 - the reference or the call refuses the claimed shapes
        return failed(f.id, "shape", what, sizes, exc)
    if ran.shape != out.shape:
        return CheckResult(f.id, "shape", what, False, sizes, detail=f"the call gives {ran.shape}, the reference {out.shape}")
    return compare_shapes(f.id, what, claims[3][1], out.shape, sizes)


register(
    "attention.shapes", "attention",
    Text("Shapes in scaled dot-product attention", "缩放点积注意力中的形状"),
    Text("n queries and m keys: n may differ from m (cross-attention), and [[d_k]] may differ from "
         "[[d_v]]. The output has one row per query and [[d_v]] columns.",
         "n 个查询、m 个键：n 可以不等于 m（交叉注意力），[[d_k]] 也可以不等于 [[d_v]]。输出每个查询一行，共 [[d_v]] 列。"),
    _attention_shapes, _check_attention_shapes,
)
