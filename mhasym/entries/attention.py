"""Scaled dot-product attention and multi-head attention, as in "Attention Is All You Need"."""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from .. import attention, notation, paper, reference
from ..catalog import Text, register
from ..checks import SEED, SIZES, CheckResult, attention_inputs, compare_arrays, compare_shapes
from ..compile import compile_function
from ..expressions import Concat, Elided, Group, Relation, Shape, ShapeOf, Softmax, Space

PAPER = Text("Following “Attention Is All You Need” (Vaswani et al., 2017).",
             "依据论文《Attention Is All You Need》（Vaswani 等，2017）。")


def _text(en, zh, source=None):
    return Text(en + (" " + source.en if source else ""), zh + (source.zh if source else ""))


def _numeric_sizes(*names):
    return {k: SIZES[k] for k in names}


# Scaled dot-product attention

def _sdpa(masked: bool):
    s = attention.Sizes.of()
    Q, K, V = s.qkv()
    M = s.mask() if masked else None
    lhs = attention.attention_call(Q, K, V) if not masked else attention.Apply(
        "Attention", (s.n, s.d_v), Q, K, V, M)
    return Relation(lhs, attention.scaled_dot_product(Q, K, V, M))


def _check_sdpa(masked: bool):
    def check(f):
        s = attention.Sizes.of()
        Q, K, V = s.qkv()
        args = [Q, K, V, s.d_k] + ([s.mask()] if masked else [])
        run = compile_function(args, f.expr.rhs)
        x = attention_inputs()
        extra = [np.where(x["mask"], 0.0, -np.inf)] if masked else []
        got = run(x["q"], x["k"], x["v"], SIZES["d_k"], *extra)
        want = reference.scaled_dot_product_attention(x["q"], x["k"], x["v"],
                                                      x["mask"] if masked else None)
        what = "compiled formula vs reference.scaled_dot_product_attention"
        return compare_arrays(f.id, what + (" with a boolean mask" if masked else ""), got, want,
                              _numeric_sizes("n", "m", "d_k", "d_v"), SEED)
    return check


register(
    "attention.sdpa", "attention",
    Text("Scaled dot-product attention", "缩放点积注意力"),
    _text("Softmax over each row (over the m keys) of the n × m scores, scaled by the square root "
          "of [[d_k]], then a weighted sum of the value rows.",
          "对 n × m 的得分矩阵按行（对 m 个键）做 softmax，并除以 [[d_k]] 的平方根，再对值的各行加权求和。",
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


def _softmax_entry():
    s = attention.Sizes.of()
    S = notation.matrix("S", s.n, s.m)
    entry = sp.IndexedBase(sp.Symbol("S"))
    i, j, k = (notation.scalar(x) for x in "ijk")
    rhs = sp.exp(entry[i, j]) / sp.Sum(sp.exp(entry[i, k]), (k, 1, s.m))
    return Relation(MatrixElement(Softmax(S), i, j), rhs)


def _check_softmax(f):
    s = attention.Sizes.of()
    entry = sp.IndexedBase(sp.Symbol("S"))
    i, j = notation.scalar("i"), notation.scalar("j")
    n, m = SIZES["n"], SIZES["m"]
    scores = np.random.default_rng(SEED).normal(size=(n, m))
    values = {entry[a, b]: scores[a - 1, b - 1] for a in range(1, n + 1) for b in range(1, m + 1)}
    template = f.expr.rhs.xreplace({s.m: m})
    what = "entry formula vs reference.softmax_rows"
    try:
        got = np.array([[float(template.xreplace({i: a, j: b}).doit().xreplace(values))
                         for b in range(1, m + 1)] for a in range(1, n + 1)])
    except (TypeError, ValueError) as exc:
        return CheckResult(f.id, "numeric", what, False, {"n": n, "m": m}, SEED,
                           detail=f"the formula did not evaluate to numbers ({exc})")
    return compare_arrays(f.id, what, got,
                          reference.softmax_rows(scores), {"n": n, "m": m}, SEED)


register(
    "attention.softmax", "attention",
    Text("Row-wise softmax", "按行 softmax"),
    Text("Each row of weights is positive and sums to 1: row i says how query i spreads its "
         "attention over the m keys.",
         "每一行权重都为正且和为 1：第 i 行表示查询 i 如何把注意力分配到 m 个键上。"),
    _softmax_entry, _check_softmax,
)


def _attention_shapes():
    s = attention.Sizes.of()
    Q, K, V = s.qkv()
    out = attention.attention_call(Q, K, V)
    return Group(*(Relation(x, Space(*x.shape), "in") for x in (Q, K, V, out)))


def _check_attention_shapes(f):
    s = attention.Sizes.of()
    Q, K, V = s.qkv()
    symbolic = attention.scaled_dot_product(Q, K, V).shape
    x = attention_inputs()
    got = reference.scaled_dot_product_attention(x["q"], x["k"], x["v"]).shape
    want = tuple(sp.sympify(d).xreplace({s.n: SIZES["n"], s.d_v: SIZES["d_v"]}) for d in symbolic)
    return compare_shapes(f.id, "symbolic output shape (n, d_v) vs the reference's output",
                          tuple(got), want, _numeric_sizes("n", "m", "d_k", "d_v"))


register(
    "attention.shapes", "attention",
    Text("Shapes in scaled dot-product attention", "缩放点积注意力中的形状"),
    Text("n queries and m keys: n may differ from m (cross-attention), and [[d_k]] may differ from "
         "[[d_v]]. The output has one row per query and [[d_v]] columns.",
         "n 个查询、m 个键：n 可以不等于 m（交叉注意力），[[d_k]] 也可以不等于 [[d_v]]。输出每个查询一行，共 [[d_v]] 列。"),
    _attention_shapes, _check_attention_shapes,
)


# Multi-head attention

def _head_expanded(expand: bool):
    s = attention.Sizes.of()
    i = notation.scalar("i")
    return Relation(attention.head_symbol(s, i), attention.head(s, i, expand=expand))


def _check_head(f):
    s = attention.Sizes.of()
    i = notation.scalar("i")
    X_q, X_k, X_v = s.X_q(), s.X_kv("K"), s.X_kv("V")
    expr = attention.head(s, i)
    run = compile_function([X_q, X_k, X_v, s.W("Q", i), s.W("K", i), s.W("V", i), s.d_k], expr)
    x = attention_inputs()
    k = 1  # the second head
    got = run(x["x_q"], x["x_kv"], x["x_kv"], x["w_q"][k], x["w_k"][k], x["w_v"][k], SIZES["d_k"])
    want = reference.scaled_dot_product_attention(
        x["x_q"] @ x["w_q"][k], x["x_kv"] @ x["w_k"][k], x["x_kv"] @ x["w_v"][k])
    return compare_arrays(f.id, "compiled head_2 vs reference attention of the projections",
                          got, want, dict(SIZES), SEED)


register(
    "mha.head", "multihead",
    Text("One head", "单个注意力头"),
    _text("Each head has its own projections [[W_Q:i]], [[W_K:i]], [[W_V:i]], and attends in its own "
          "[[d_k]]-dimensional subspace.",
          "每个头都有自己的投影矩阵 [[W_Q:i]]、[[W_K:i]]、[[W_V:i]]，在各自的 [[d_k]] 维子空间里计算注意力。", PAPER),
    lambda: _head_expanded(False), _check_head,
)

register(
    "mha.head_expanded", "multihead",
    Text("One head, written out", "单个注意力头（展开）"),
    _text("The same head with the attention written out; the transpose of a product stays as written, not expanded into a product of transposes.",
          "把注意力展开后的同一个头；注意乘积的转置保持原样，不展开成转置的乘积。", PAPER),
    lambda: _head_expanded(True), _check_head,
)


def _weights():
    s = attention.Sizes.of()
    i = notation.scalar("i")
    mats = [s.W("Q", i), s.W("K", i), s.W("V", i), s.W_O()]
    return Group(*(Relation(w, Space(*w.shape), "in") for w in mats))


def _check_weights(f):
    s = attention.Sizes.of()
    x = attention_inputs()
    values = {getattr(s, k): v for k, v in SIZES.items()}
    got, want = [], []
    for rel, array in zip(f.expr.args, (x["w_q"][0], x["w_k"][0], x["w_v"][0], x["w_o"])):
        got += [sp.sympify(d).xreplace(values) for d in rel.rhs.shape]
        want += list(array.shape)
    return compare_shapes(f.id, "symbolic weight shapes vs the reference's weight layout",
                          tuple(got), tuple(want), dict(SIZES))


register(
    "mha.weights", "multihead",
    Text("Projection matrices of multi-head attention", "多头注意力的投影矩阵"),
    _text("Every head i has its own [[W_Q:i]], [[W_K:i]] ([[d_model]] × [[d_k]]) and [[W_V:i]] ([[d_model]] × [[d_v]]). The "
          "lecture notebook stops at the concatenation; the paper multiplies it by [[W_O]], "
          "of shape (h [[d_v]]) × [[d_model]].",
          "每个头 i 有自己的 [[W_Q:i]]、[[W_K:i]]（[[d_model]] × [[d_k]]）和 [[W_V:i]]（[[d_model]] × [[d_v]]）。课程笔记在拼接处结束；"
          "论文还要乘以形状为 (h [[d_v]]) × [[d_model]] 的 [[W_O]]。", PAPER),
    _weights, _check_weights,
)


def _multihead():
    s = attention.Sizes.of()
    return Relation(attention.multi_head_call(s), attention.multi_head_general(s))


def _check_multihead(f):
    s = attention.Sizes.of(**SIZES)
    X_q, X_kv = notation.matrix("X", s.n, s.d_model), notation.matrix("X_kv", s.m, s.d_model)
    expr = attention.multi_head(s, X_q, X_kv)
    run = compile_function([X_q, X_kv, *attention.weights(s)], expr)
    x = attention_inputs()
    got = run(x["x_q"], x["x_kv"], *x["w_q"], *x["w_k"], *x["w_v"], x["w_o"])
    want = reference.multi_head_attention(x["x_q"], x["x_kv"], x["w_q"], x["w_k"], x["w_v"], x["w_o"])
    return compare_arrays(f.id, "compiled MultiHead (h = 3, with W^O) vs reference.multi_head_attention",
                          got, want, dict(SIZES), SEED)


register(
    "mha.multihead", "multihead",
    Text("Multi-head attention with the output projection", "多头注意力（含输出投影）"),
    _text("The heads are concatenated (not summed) and multiplied by [[W_O]]. The lecture notebook "
          "omits [[W_O]]; this follows the paper.",
          "各头的输出拼接（而不是相加）后乘以 [[W_O]]。课程笔记省略了 [[W_O]]；这里依据论文补上。", PAPER),
    _multihead, _check_multihead,
)


def _concat_shape():
    s = attention.Sizes.of()
    heads = Concat(attention.head_symbol(s, 1), Elided(s.n, (s.h - 2) * s.d_v),
                   attention.head_symbol(s, s.h))
    return Relation(ShapeOf(heads), Shape(*heads.shape))


def _check_concat_shape(f):
    s = attention.Sizes.of()
    values = {getattr(s, k): v for k, v in SIZES.items()}
    got = tuple(sp.sympify(d).xreplace(values) for d in f.expr.rhs.args)
    x = attention_inputs()
    heads = [reference.scaled_dot_product_attention(x["x_q"] @ x["w_q"][k], x["x_kv"] @ x["w_k"][k],
                                                    x["x_kv"] @ x["w_v"][k]) for k in range(SIZES["h"])]
    return compare_shapes(f.id, "(n, h d_v) vs numpy.concatenate of the reference heads",
                          got, np.concatenate(heads, axis=1).shape, dict(SIZES))


register(
    "mha.concat_shape", "multihead",
    Text("Shape of the concatenated heads", "拼接后各头的形状"),
    Text("h heads of shape (n, [[d_v]]) side by side: (n, h [[d_v]]). This is the lecture notebook's "
         "(2, 3h) with n = 2 and [[d_v]] = 3.",
         "h 个形状为 (n, [[d_v]]) 的头左右拼接：(n, h [[d_v]])。这就是课程笔记中 n = 2、[[d_v]] = 3 时的 (2, 3h)。"),
    _concat_shape, _check_concat_shape,
)


def _paper_heads():
    d_model, h, d_k, d_v = (notation.dim(x) for x in ("d_model", "h", "d_k", "d_v"))
    base = paper.BASE
    return Group(Relation(h, base["h"]),
                 Relation(d_k, Relation(d_v, Relation(d_model / h, base["d_model"] // base["h"]))))


def _check_paper_heads(f):
    d_model, h = notation.dim("d_model"), notation.dim("h")
    value = (d_model / h).xreplace({d_model: paper.BASE["d_model"], h: paper.BASE["h"]})
    ok = value == paper.BASE["d_k"] == paper.BASE["d_v"] and f.expr.args[0].rhs == 8
    return CheckResult(f.id, "identity", "d_model / h at the paper's base model vs its d_k and d_v",
                       bool(ok), {"d_model": paper.BASE["d_model"], "h": paper.BASE["h"]},
                       detail=f"d_model / h = {value}")


register(
    "mha.paper_heads", "multihead",
    Text("The paper's 8 heads", "论文中的 8 个头"),
    _text("The base model uses h = 8 heads of [[d_k]] = [[d_v]] = 64, so the concatenation has "
          "8 × 64 = 512 = [[d_model]] columns and costs about as much as one full-width head.",
          "基础模型使用 h = 8 个头，[[d_k]] = [[d_v]] = 64，拼接后共有 8 × 64 = 512 = [[d_model]] 列，"
          "计算量与一个全维度的单头注意力相当。", PAPER),
    _paper_heads, _check_paper_heads,
)
