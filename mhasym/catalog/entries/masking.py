"""Masks (causal in both alignments, padding, their combination, boolean vs additive) and cross-attention."""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from mhasym.model import attention, masks, notation
from mhasym import reference
from mhasym.catalog.registry import register
from mhasym.catalog.text import Text
from mhasym.catalog.checks import (SEED, SIZES, CheckResult, attention_bindings, attention_inputs, compare_arrays, failed,
                      run_formula)
from mhasym.model.expressions import Aligned, Cases, value_of, Relation, Shape, ShapeOf, Softmax
from mhasym.catalog.entries.sources import PAPER, cite as _text

MASK_SIZES = [(4, 7), (7, 4), (5, 5)]  # (n, m): fewer queries, more queries, equal


def _additive(condition):
    return Cases((sp.S.Zero, condition), (-sp.oo, True))  # keeps j <= i as written


def _entry_lhs(name="M"):
    s = attention.Sizes.of()
    return MatrixElement(notation.matrix(name, s.n, s.m), masks.query_index(), masks.key_index())


def _evaluate(piecewise, n, m, extra=None) -> np.ndarray:
    """The additive mask formula at every (i, j), i = 1..n and j = 1..m, as a boolean matrix (True where it is 0)."""
    i, j = masks.query_index(), masks.key_index()
    values = {notation.dim("n"): n, notation.dim("m"): m, **(extra or {})}
    f = sp.lambdify([i, j], value_of(piecewise.xreplace(values)), "math")
    return np.array([[f(a, b) == 0 for b in range(1, m + 1)] for a in range(1, n + 1)])


def _causal(align):
    def build():
        return Relation(_entry_lhs(), _additive(masks.causal_condition(align)))

    def check(f, expr, sizes=None):
        worst = 0
        for n, m in MASK_SIZES:
            got = _evaluate(expr.rhs, n, m)
            worst = max(worst, int(np.sum(got != reference.causal_mask(n, m, align))))
        return CheckResult(f.id, "numeric", f"formula at every (i, j) vs reference.causal_mask({align!r})",
                           worst == 0, {"(n, m)": " ".join(f"({n},{m})" for n, m in MASK_SIZES)},
                           max_error=float(worst), tolerance=0.0, detail=f"{worst} entries differ")

    return build, check


register(
    "masks.causal_top_left", "masks",
    Text("Causal mask, top-left aligned", "因果掩码（左上对齐）"),
    Text("Query i may attend to keys j ≤ i (counting from 1). With n ≠ m this aligns the first query with the "
         "first key; it is what the decoder's self-attention uses (n = m there).",
         "查询 i 只能关注 j ≤ i 的键（从 1 开始编号）。当 n ≠ m 时，第一个查询与第一个键对齐；"
         "解码器自注意力（n = m）使用它。"),
    *_causal("top-left"),
)

register(
    "masks.causal_bottom_right", "masks",
    Text("Causal mask, bottom-right aligned", "因果掩码（右下对齐）"),
    Text("Query i may attend to keys j ≤ i + (m − n): the last query sees every key, as when new queries "
         "continue a sequence whose earlier keys are cached. With n > m the first n - m queries see no "
         "key at all, which is an error, not a uniform row.",
         "查询 i 可以关注 j ≤ i + (m − n) 的键：最后一个查询能看到所有键，适用于新查询接在已缓存键之后的情形。"
         "当 n > m 时，前 n - m 个查询看不到任何键，这是错误，而不是均匀分布的一行。"),
    *_causal("bottom-right"),
)


def _padding():
    return Relation(_entry_lhs(), _additive(masks.padding_condition()))


def _check_padding(f, expr, sizes=None):
    worst = 0
    for m, length in ((7, 4), (5, 5), (6, 1)):
        got = _evaluate(expr.rhs, 3, m, {notation.dim("L"): length})
        want = np.broadcast_to(np.arange(m) < length, (3, m))
        worst = max(worst, int(np.sum(got != want)))
    return CheckResult(f.id, "numeric", "formula at every (i, j) vs the first L keys being the real tokens",
                       worst == 0, {"(m, L)": "(7,4) (5,5) (6,1)"}, max_error=float(worst), tolerance=0.0,
                       detail=f"{worst} entries differ")


register(
    "masks.padding", "masks",
    Text("Padding mask", "填充掩码"),
    Text("Sequences in a batch are padded to one length; key j is a real token when j ≤ L, and padding "
         "keys get minus infinity for every query.",
         "批次中的序列被填充到相同长度；当 j ≤ L 时键 j 是真实词元，填充位置的键对所有查询都加上负无穷。"),
    _padding, _check_padding,
)


def _attention_with(f, M_values, x, sizes=SIZES):
    """``Attention(Q, K, V, M)`` run through the catalog's definition (attention.masked), with an
    additive mask of numbers. Returns (array, via)."""
    s = attention.Sizes.of()
    Q, K, V = s.qkv()
    inputs = attention_bindings(x)
    inputs.table["M"] = [np.asarray(M_values, dtype=float)]
    call = attention.Apply("Attention", s.n, s.d_v, Q, K, V, s.mask())
    return run_formula(f, call, sizes, inputs, defines=False)


def _combined():
    n, m = notation.dim("n"), notation.dim("m")
    causal = notation.matrix("M_causal", n, m)
    pad = notation.matrix("M_pad", n, m)
    from sympy.matrices.expressions import MatAdd
    return Relation(notation.matrix("M", n, m), MatAdd(causal, pad))


def _check_combined(f, expr, sizes=None):
    x = attention_inputs()
    n, m, length = SIZES["n"], SIZES["m"], 5
    causal = reference.causal_mask(n, m, "bottom-right")
    pad = np.broadcast_to(np.arange(m) < length, (n, m))
    inputs = attention_bindings(x)
    inputs.table.update({"M_causal": [np.where(causal, 0.0, -np.inf)], "M_pad": [np.where(pad, 0.0, -np.inf)]})
    what = "the formula's mask, used in Attention(Q, K, V, M), vs reference with causal AND padding"
    shown = {"n": n, "m": m, "L": length}
    try:
        mask, _ = run_formula(f, expr, SIZES, inputs)
        got, _ = _attention_with(f, mask, x)
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, shown, exc, SEED)
    want = reference.scaled_dot_product_attention(x["q"], x["k"], x["v"], causal & pad)
    return compare_arrays(f.id, what + " (via attention.masked)", got, want, shown, SEED)


register(
    "masks.combined", "masks",
    Text("Causal and padding masks together", "因果掩码与填充掩码的组合"),
    Text("Adding the additive masks blocks a key when either mask blocks it: the same as the logical "
         "AND of the boolean masks (True = may attend).",
         "把加性掩码相加，只要任一掩码屏蔽某个键，它就被屏蔽：等价于布尔掩码（True 表示可以关注）的逻辑与。"),
    _combined, _check_combined,
)


def _boolean():
    i, j = masks.query_index(), masks.key_index()
    B = sp.IndexedBase(sp.Symbol("B"))
    return Relation(_entry_lhs(), _additive(sp.Eq(B[i, j], 1)))


def _check_boolean(f, expr, sizes=None):
    """The formula's additive mask in Attention(Q, K, V, M) against the reference with the boolean mask;
    and for a mask with a row that may attend to no key, which the reference refuses, the formula must
    not give that row numbers either (minus infinity gives NaN, a visible error)."""
    x = attention_inputs()
    B = sp.IndexedBase(sp.Symbol("B"))
    i, j = masks.query_index(), masks.key_index()
    what = "additive mask from the formula in Attention(Q, K, V, M) vs reference with the boolean mask"
    shown = {"n": SIZES["n"], "m": SIZES["m"]}
    try:
        rule = sp.lambdify([B[i, j]], value_of(expr.rhs), "math")
        additive = np.vectorize(lambda b: float(rule(int(b))))(x["mask"])
        got, _ = _attention_with(f, additive, x)
        empty = x["mask"].copy()
        empty[0] = False
        with np.errstate(invalid="ignore"):
            blocked, _ = _attention_with(f, np.vectorize(lambda b: float(rule(int(b))))(empty), x)
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, shown, exc, SEED)
    want = reference.scaled_dot_product_attention(x["q"], x["k"], x["v"], x["mask"])
    result = compare_arrays(f.id, what + " (via attention.masked); a row with no allowed key gives no numbers",
                            got, want, shown, SEED)
    if result.passed and np.isfinite(blocked[0]).any():
        return CheckResult(f.id, "numeric", result.compared, False, shown, SEED, result.max_error, result.tolerance,
                           "a row that may attend to no key got numbers; the reference refuses it")
    return result


register(
    "masks.boolean_to_additive", "masks",
    Text("Boolean mask to additive mask", "布尔掩码转为加性掩码"),
    Text("Here a boolean mask is True (1) where the query MAY attend, as in PyTorch's "
         "scaled_dot_product_attention; nn.MultiheadAttention uses the opposite polarity. Masked "
         "scores become minus infinity before the softmax, so their weight is exactly 0.",
         "这里布尔掩码为 True（1）表示可以关注，与 PyTorch 的 scaled_dot_product_attention 一致；"
         "nn.MultiheadAttention 的极性相反。被屏蔽的得分在 softmax 之前变为负无穷，因此权重恰好为 0。"),
    _boolean, _check_boolean,
)


def _cross():
    s = attention.Sizes.of()
    i = notation.scalar("i")
    H_1, memory = notation.matrix("H", s.n, s.d_model, 1), notation.matrix("memory", s.m, s.d_model)
    head = attention.head(s, i, H_1, memory, expand=False, block="x")  # the sublayer's own weights
    Q, K, _ = head.operands
    weights = Softmax(attention.Scaled(attention.MatMul(Q, attention.Transpose(K)), sp.sqrt(s.d_k)))
    A_i = notation.matrix("A", *weights.shape, i)
    return Aligned(Relation(attention.head_symbol(s, i), head), Relation(A_i, weights),
                   Relation(ShapeOf(A_i), Shape(*weights.shape)))


def _check_cross(f, expr, sizes=None):
    """Each line of the formula at i = 2: head_i vs reference attention with queries from the decoder
    (Y, n rows) and keys and values from the encoder (m rows); A_i vs reference.attention_weights;
    shape(A_i) vs the shape of those weights."""
    sizes = {**SIZES, "i": 2}
    x = attention_inputs()
    # the sublayer's own weights, different from the self-attention weights that the inputs also bind
    cross = attention_inputs(seed=SEED + 1)
    k = 1
    q, kk, v = x["x_q"] @ cross["w_q"][k], x["x_kv"] @ cross["w_k"][k], x["x_kv"] @ cross["w_v"][k]
    wants = [reference.scaled_dot_product_attention(q, kk, v), reference.attention_weights(q, kk)]
    what = "head_i and A_i at i = 2, compiled, vs reference attention of decoder queries and encoder keys and values"
    inputs = attention_bindings(x)
    own = attention_bindings(cross).table
    inputs.table.update({"Wx_Q": own["W_Q"], "Wx_K": own["W_K"], "Wx_V": own["W_V"]})
    try:
        head, weights, shape = expr.args
        got = [run_formula(f, rel, sizes, inputs)[0] for rel in (head, weights)]
        from mhasym.catalog.evaluate import size_values
        claimed = tuple(int(sp.sympify(d).xreplace(size_values(sizes))) for d in shape.rhs.args)
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, sizes, exc, SEED)
    for g, w in zip(got, wants):
        result = compare_arrays(f.id, what + "; shape(A_i) vs the weights' shape", g, w, sizes, SEED)
        if not result.passed:
            return result
    if claimed != wants[1].shape:
        return CheckResult(f.id, "numeric", what, False, sizes, SEED, detail=f"shape(A_i) = {claimed} != {wants[1].shape}")
    return compare_arrays(f.id, what + "; shape(A_i) vs the weights' shape (via attention.sdpa)",
                          np.concatenate([got[0].ravel(), got[1].ravel()]),
                          np.concatenate([wants[0].ravel(), wants[1].ravel()]), sizes, SEED)


register(
    "masks.cross_attention", "masks",
    Text("Cross-attention (encoder-decoder attention)", "交叉注意力（编码器-解码器注意力）"),
    _text("In the decoder layer's second sublayer the queries come from the decoder: [[H:1]] (n rows), the output of "
          "its masked self-attention sublayer. The keys and values come from the encoder's output ([[memory]], "
          "m rows). The sublayer has its own projections [[Wx_Q:i]], [[Wx_K:i]], [[Wx_V:i]] and [[Wx_O]], apart from "
          "those of the self-attention sublayer (and each decoder layer of the stack has its own). The weights form an n × m "
          "matrix, one row per decoder position.",
          "在解码器层的第二个子层中，查询来自解码器：[[H:1]]（n 行），即带掩码的自注意力子层的输出；键和值来自编码器的输出"
          "（[[memory]]，m 行）。这个子层有自己的投影矩阵 [[Wx_Q:i]]、[[Wx_K:i]]、[[Wx_V:i]] 和 [[Wx_O]]，与自注意力子层的不同"
          "（解码器堆叠中的每一层也各有自己的一套）。注意力权重是 n × m 矩阵：每个解码器位置一行。",
          PAPER),
    _cross, _check_cross,
)
