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
from mhasym.model.expressions import Aligned, Group, Relation, Softmax, Space, fixed
from mhasym.printing.numpy_printer import compile_function
from mhasym.catalog.entries.sources import PAPER, cite as _text


def _numeric_sizes(*names):
    return {k: SIZES[k] for k in names}



def _projections():
    s = attention.Sizes.of()
    X, X_kv = notation.matrix("X", s.n, s.d_model), notation.matrix("X_kv", s.m, s.d_model)
    W = {k: notation.matrix(f"W_{k}", s.d_model, s.d_v if k == "V" else s.d_k) for k in "QKV"}
    Q, K, V = s.qkv()
    return Aligned(Relation(Q, attention.MatMul(X, W["Q"])), Relation(K, attention.MatMul(X_kv, W["K"])),
                   Relation(V, attention.MatMul(X_kv, W["V"])))


def _check_projections(f, expr, sizes=None):
    """Each line, compiled, vs the NumPy product of the same random arrays; each line must define Q, K, V in order."""
    from mhasym.catalog.checks import Inputs, run_formula

    sizes = dict(sizes or SIZES)
    x = attention_inputs(sizes)
    # one head's matrices; another head's (an index put on W) are other arrays
    inputs = Inputs({"X": [x["x_q"]], "X_kv": [x["x_kv"]],
                     **{f"W_{k}": (lambda i, w=x[f"w_{k.lower()}"]: [w[0] if i is None else w[1]]) for k in "QKV"}})
    wants = [x["x_q"] @ x["w_q"][0], x["x_kv"] @ x["w_k"][0], x["x_kv"] @ x["w_v"][0]]
    what = "each line, compiled, vs the NumPy products X W^Q, X_kv W^K, X_kv W^V"
    try:
        lines = list(expr.args)
        names = [getattr(r.lhs, "key", None) if getattr(r.lhs, "index", 0) is None else r.lhs for r in lines]
        if names != ["Q", "K", "V"]:
            raise ValueError(f"the lines define {names}, not Q, K, V")
        got = [run_formula(f, r.rhs, sizes, inputs, defines=False)[0] for r in lines]
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, sizes, exc, SEED)
    result = None
    for g, w in zip(got, wants):
        result = compare_arrays(f.id, what, g, w, {k: sizes[k] for k in ("n", "m", "d_model", "d_k", "d_v")}, SEED)
        if not result.passed:
            return result
    return result


register(
    "attention.projections", "attention",
    Text("Where queries, keys and values come from", "查询、键和值从哪里来"),
    Text("Each row of X (n × [[d_model]]) is a token that asks; each row of [[X_kv]] (m × [[d_model]]) a token that "
         "is looked at. One head multiplies them by its projection matrices: [[W_Q]] and [[W_K]] are [[d_model]] × "
         "[[d_k]], [[W_V]] is [[d_model]] × [[d_v]], so Q is n × [[d_k]], K is m × [[d_k]] and V is m × [[d_v]]. In "
         "self-attention [[X_kv]] = X (and m = n). On the next page every head i has its own [[W_Q:i]], [[W_K:i]], "
         "[[W_V:i]].",
         "X（n × [[d_model]]）的每一行是一个发问的词元；[[X_kv]]（m × [[d_model]]）的每一行是一个被查看的词元。"
         "一个头把它们乘以自己的投影矩阵：[[W_Q]] 和 [[W_K]] 是 [[d_model]] × [[d_k]]，[[W_V]] 是 [[d_model]] × [[d_v]]，"
         "于是 Q 是 n × [[d_k]]，K 是 m × [[d_k]]，V 是 m × [[d_v]]。在自注意力中 [[X_kv]] = X（且 m = n）。"
         "下一页中每个头 i 都有自己的 [[W_Q:i]]、[[W_K:i]]、[[W_V:i]]。"),
    _projections, _check_projections,
)

_EXAMPLE = {"Q": [[1, 0], [1, 1]], "K": [[1, 0], [0, 1], [-1, 1]], "V": [[1, 0], [0, 1], [1, 1]]}


def _example():
    from mhasym.catalog import proofs

    Q, K, V = (notation.matrix(k, len(v), len(v[0])) for k, v in _EXAMPLE.items())
    A = notation.matrix("A", 2, 3)
    given = {x: sp.ImmutableMatrix(_EXAMPLE[x.key]) for x in (Q, K, V)}
    weights = Softmax(attention.Scaled(attention.MatMul(Q, attention.Transpose(K)), sp.sqrt(2)))
    a = proofs.explicit(weights, given)
    out = a * given[V]
    rounded = lambda m: sp.ImmutableMatrix(m.applyfunc(lambda v: fixed(v, 3)))  # noqa: E731
    return Aligned(*(Relation(x, given[x]) for x in (Q, K, V)), Relation(A, weights), Relation(A, rounded(a)),
                   Relation(attention.MatMul(A, V), rounded(out)))


def _check_example(f, expr, sizes=None):
    """Q, K, V from the first three lines; the weights of line 4 written out exactly, vs the numbers of line 5
    (to 5e-4, they are rounded) and vs reference.attention_weights; A V vs line 6 and the reference's output."""
    from mhasym.catalog import proofs

    what = "the weights and the output computed from the lines shown vs their numbers and vs the reference"
    try:
        lines = list(expr.args)
        given = {r.lhs: r.rhs for r in lines[:3]}
        if [getattr(x, "key", None) for x in given] != ["Q", "K", "V"]:
            raise ValueError("the first three lines must give Q, K and V")
        a = np.array(proofs.explicit(lines[3].rhs, given).evalf(), dtype=float)
        shown_a = np.array(lines[4].rhs.evalf(), dtype=float)
        out = a @ np.array(given[lines[5].lhs.args[1]], dtype=float)
        shown_out = np.array(lines[5].rhs.evalf(), dtype=float)
        q, k, v = (np.array(given[x], dtype=float) for x in given)
        want_a, want_out = reference.attention_weights(q, k), reference.scaled_dot_product_attention(q, k, v)
        if lines[3].lhs != lines[4].lhs or lines[5].lhs.args[0] != lines[3].lhs:
            raise ValueError("lines 4 to 6 must be about the same A")
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, {}, exc)
    errors = [float(np.abs(a - want_a).max()), float(np.abs(out - want_out).max()),
              float(np.abs(shown_a - a).max()), float(np.abs(shown_out - out).max())]
    ok = a.shape == want_a.shape and out.shape == want_out.shape and max(errors[:2]) < 1e-12 and max(errors[2:]) <= 5e-4
    return CheckResult(f.id, "numeric", what, bool(ok), {"n": 2, "m": 3, "d_k": 2, "d_v": 2}, None, max(errors[:2]),
                       1e-12, detail="the numbers shown are rounded to 3 decimals")


register(
    "attention.example", "attention",
    Text("A worked example: two queries, three keys", "一个算例：两个查询、三个键"),
    Text("n = 2 queries, m = 3 keys, [[d_k]] = [[d_v]] = 2. Each score is a dot product of a row of Q with a row of "
         "K, divided by [[sqrt:d_k]]; each row of weights is the softmax of its scores; the output rows are these "
         "weighted averages of the rows of V. The numbers are computed by mhasym from the lines above them.",
         "n = 2 个查询，m = 3 个键，[[d_k]] = [[d_v]] = 2。每个得分是 Q 的一行与 K 的一行的点积，再除以 [[sqrt:d_k]]；"
         "每一行权重是该行得分的 softmax；输出的每一行是 V 各行按这些权重的加权平均。这些数由 mhasym 根据上面几行算出。"),
    _example, _check_example,
)


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
    _text("M is 0 where the query may attend to the key and minus infinity where it may not; it is "
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
