"""Masks (causal in both alignments, padding, their combination, boolean vs additive) and cross-attention."""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from .. import attention, masks, notation, numeric, reference
from ..catalog import Text, register
from ..checks import SEED, SIZES, CheckResult, attention_inputs, compare_arrays
from ..compile import compile_function
from ..expressions import Aligned, Relation, Shape, ShapeOf, Softmax
from .attention import PAPER, _text

MASK_SIZES = [(4, 7), (7, 4), (5, 5)]  # (n, m): fewer queries, more queries, equal


def _additive(condition):
    return sp.Piecewise((sp.S.Zero, condition), (-sp.oo, True), evaluate=False)  # keeps j <= i as written


def _entry_lhs(name="M"):
    s = attention.Sizes.of()
    return MatrixElement(notation.matrix(name, s.n, s.m), masks.query_index(), masks.key_index())


def _evaluate(piecewise, n, m, extra=None) -> np.ndarray:
    """The additive mask formula at every (i, j), as a boolean matrix (True where it is 0)."""
    i, j = masks.query_index(), masks.key_index()
    values = {notation.dim("n"): n, notation.dim("m"): m, **(extra or {})}
    f = sp.lambdify([i, j], piecewise.xreplace(values), "math")
    return np.array([[f(a, b) == 0 for b in range(m)] for a in range(n)])


def _causal(align):
    def build():
        return Relation(_entry_lhs(), _additive(masks.causal_condition(align)))

    def check(f):
        worst = 0
        for n, m in MASK_SIZES:
            got = _evaluate(f.expr.rhs, n, m)
            for module in (reference, numeric):
                worst = max(worst, int(np.sum(got != module.causal_mask(n, m, align))))
        return CheckResult(f.id, "numeric", f"formula at every (i, j) vs reference and numeric causal_mask({align!r})",
                           worst == 0, {"(n, m)": " ".join(f"({n},{m})" for n, m in MASK_SIZES)},
                           max_error=float(worst), tolerance=0.0, detail=f"{worst} entries differ")

    return build, check


register(
    "masks.causal_top_left", "masks",
    Text("Causal mask, top-left aligned", "因果掩码（左上对齐）"),
    Text("Query i may attend keys j ≤ i (0-based). With n ≠ m this aligns the first query with the "
         "first key; it is what the decoder's self-attention uses (n = m there).",
         "查询 i 只能关注 j ≤ i 的键（从 0 开始编号）。当 n ≠ m 时，第一个查询与第一个键对齐；"
         "解码器自注意力（n = m）使用它。"),
    *_causal("top-left"),
)

register(
    "masks.causal_bottom_right", "masks",
    Text("Causal mask, bottom-right aligned", "因果掩码（右下对齐）"),
    Text("Query i may attend keys j ≤ i + (m − n): the last query sees every key, as when new queries "
         "continue a sequence whose earlier keys are cached. With n > m the first n - m queries see no "
         "key at all, which is an error, not a uniform row.",
         "查询 i 可以关注 j ≤ i + (m − n) 的键：最后一个查询能看到所有键，适用于新查询接在已缓存键之后的情形。"
         "当 n > m 时，前 n - m 个查询看不到任何键，这是错误，而不是均匀分布的一行。"),
    *_causal("bottom-right"),
)


def _padding():
    return Relation(_entry_lhs(), _additive(masks.padding_condition()))


def _check_padding(f):
    worst = 0
    for m, length in ((7, 4), (5, 5), (6, 1)):
        got = _evaluate(f.expr.rhs, 3, m, {notation.dim("L"): length})
        want = np.broadcast_to(np.arange(m) < length, (3, m))
        worst = max(worst, int(np.sum(got != want)))
    return CheckResult(f.id, "numeric", "formula at every (i, j) vs keys 0..L-1 being real tokens",
                       worst == 0, {"(m, L)": "(7,4) (5,5) (6,1)"}, max_error=float(worst), tolerance=0.0,
                       detail=f"{worst} entries differ")


register(
    "masks.padding", "masks",
    Text("Padding mask", "填充掩码"),
    Text("Sequences in a batch are padded to one length; key j is a real token when j < L, and padding "
         "keys get minus infinity for every query.",
         "批次中的序列被填充到相同长度；当 j < L 时键 j 是真实词元，填充位置的键对所有查询都加上负无穷。"),
    _padding, _check_padding,
)


def _attention_with(M_values, x):
    """The catalog's masked attention formula, compiled, with an additive mask of numbers."""
    s = attention.Sizes.of()
    Q, K, V = s.qkv()
    from ..catalog import formula

    run = compile_function([Q, K, V, s.d_k, s.mask()], formula("attention.masked").expr.rhs)
    return run(x["q"], x["k"], x["v"], SIZES["d_k"], M_values)


def _combined():
    n, m = notation.dim("n"), notation.dim("m")
    causal = notation.matrix("M_causal", n, m)
    pad = notation.matrix("M_pad", n, m)
    from sympy.matrices.expressions import MatAdd
    return Relation(notation.matrix("M", n, m), MatAdd(causal, pad))


def _check_combined(f):
    x = attention_inputs()
    n, m, length = SIZES["n"], SIZES["m"], 5
    causal = reference.causal_mask(n, m, "bottom-right")
    pad = np.broadcast_to(np.arange(m) < length, (n, m))
    additive = np.where(causal, 0.0, -np.inf) + np.where(pad, 0.0, -np.inf)
    got = _attention_with(additive, x)
    want = reference.scaled_dot_product_attention(x["q"], x["k"], x["v"], causal & pad)
    return compare_arrays(f.id, "sum of additive masks vs reference with causal AND padding",
                          got, want, {"n": n, "m": m, "L": length}, SEED)


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


def _check_boolean(f):
    x = attention_inputs()
    B = sp.IndexedBase(sp.Symbol("B"))
    i, j = masks.query_index(), masks.key_index()
    rule = sp.lambdify([B[i, j]], f.expr.rhs, "math")
    additive = np.vectorize(lambda b: float(rule(int(b))))(x["mask"])
    got = _attention_with(additive, x)
    want = reference.scaled_dot_product_attention(x["q"], x["k"], x["v"], x["mask"])
    return compare_arrays(f.id, "additive mask from the formula vs reference with the boolean mask",
                          got, want, {"n": SIZES["n"], "m": SIZES["m"]}, SEED)


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
    Y, memory = notation.matrix("Y", s.n, s.d_model), notation.matrix("memory", s.m, s.d_model)
    head = attention.head(s, i, Y, memory, expand=False)
    Q, K, _ = head.operands
    weights = Softmax(attention.Scaled(attention.MatMul(Q, attention.Transpose(K)), sp.sqrt(s.d_k)))
    A_i = notation.matrix("A", *weights.shape, i)
    return Aligned(Relation(attention.head_symbol(s, i), head), Relation(A_i, weights),
                   Relation(ShapeOf(A_i), Shape(*weights.shape)))


def _check_cross(f):
    x = attention_inputs()
    args = [x["x_q"], x["x_kv"], x["w_q"], x["w_k"], x["w_v"], x["w_o"]]
    got = numeric.multi_head_attention(*args)
    want = reference.multi_head_attention(*args)
    return compare_arrays(f.id, "numeric vs reference multi-head attention, decoder queries (n rows), "
                          "encoder keys and values (m rows)", got, want, dict(SIZES), SEED)


register(
    "masks.cross_attention", "masks",
    Text("Cross-attention (encoder-decoder attention)", "交叉注意力（编码器-解码器注意力）"),
    _text("Queries come from the decoder (Y, n rows); keys and values come from the encoder's output "
          "([[memory]], m rows). The weights form an n × m matrix: one row per decoder position.",
          "查询来自解码器（Y，n 行）；键和值来自编码器的输出（[[memory]]，m 行）。注意力权重是 n × m 矩阵：每个解码器位置一行。",
          PAPER),
    _cross, _check_cross,
)
