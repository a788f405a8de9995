"""Parameter counts and operation counts per layer (the paper's Tables 1 and 3)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from mhasym import reference
from mhasym.catalog.checks import LAYER_SIZES, CheckResult, count_parameters, failed, layer_parameters
from mhasym.catalog.entries.sources import PAPER, cite as _text
from mhasym.catalog.registry import register
from mhasym.catalog.text import Text
from mhasym.model import attention, cost, notation, paper
from mhasym.model.expressions import (BigO, Group, Relation, Scientific, Times,
                                      value_of)

P = notation.scalar


def _subs(sizes: dict):
    names = {"n": "n", "m": "m", "d_model": "d_model", "h": "h", "d_k": "d_k", "d_v": "d_v", "d_ff": "d_ff",
             "N": "N", "vocab": "vocab"}
    return {notation.dim(names[k]): v for k, v in sizes.items() if k in names}


def _counted(fid, what, formula, counted, sizes, own=None):
    try:
        value = int(cost.written_value(formula, own).xreplace(_subs(sizes)))
    except (TypeError, ValueError) as exc:
        return failed(fid, "numeric", what, sizes, exc)
    return CheckResult(fid, "numeric", what, value == counted, dict(sizes), max_error=float(abs(value - counted)),
                       tolerance=0.0, detail=f"formula {value}, counted {counted}")


def _params_entry(fid, lhs, formula, title, description, counter):
    def check(f, expr, sizes=None):
        counted, sizes, what = counter()
        return _counted(f.id, what, expr.rhs, counted, sizes, own=expr.lhs)

    register(fid, "cost", title, description, lambda: Relation(P(lhs), formula()), check)


def _accepted(p, decoder=False):
    """Parameters that the numeric layers accept (so the count is of a real layout)."""
    x = np.zeros((2, LAYER_SIZES["d_model"]))
    (reference.decoder_layer(x, x, p) if decoder else reference.encoder_layer(x, p))
    return p


_params_entry(
    "cost.attention_params", "P_attn", lambda: cost.written("attention"),
    Text("Parameters of one multi-head attention block", "一个多头注意力块的参数量"),
    _text("h heads of [[W_Q:i]], [[W_K:i]] ([[d_model]] × [[d_k]]) and [[W_V:i]] ([[d_model]] × [[d_v]]), plus [[W_O]]; no biases, as in the "
          "paper's formulas. With [[d_k]] = [[d_v]] = [[d_model]] / h this is 4 [[d_model:sq]].",
          "h 个头的 [[W_Q:i]]、[[W_K:i]]（[[d_model]] × [[d_k]]）和 [[W_V:i]]（[[d_model]] × [[d_v]]），加上 [[W_O]]；与论文公式一致，不含偏置。"
          "当 [[d_k]] = [[d_v]] = [[d_model]] / h 时等于 4 [[d_model:sq]]。", PAPER),
    lambda: (count_parameters(_accepted(layer_parameters())["self_attn"]), LAYER_SIZES,
             "formula vs the number of entries of a self_attn block that reference.encoder_layer accepts"),
)

_params_entry(
    "cost.ffn_params", "P_ffn", lambda: cost.written("ffn"),
    Text("Parameters of the feed-forward network", "前馈网络的参数量"),
    _text("[[W:1]], [[b:1]], [[W:2]] and [[b:2]].", "[[W:1]]、[[b:1]]、[[W:2]] 和 [[b:2]]。", PAPER),
    lambda: (count_parameters(_accepted(layer_parameters())["ffn"]), LAYER_SIZES,
             "formula vs the number of entries of an ffn block that reference.encoder_layer accepts"),
)

_params_entry(
    "cost.encoder_layer_params", "P_enc", lambda: cost.written("encoder_layer"),
    Text("Parameters of one encoder layer", "一个编码器层的参数量"),
    Text("One attention block, one feed-forward network and two LayerNorms ([[gamma]] and [[beta]] each).",
         "一个注意力块、一个前馈网络和两个层标准化（各有 [[gamma]] 和 [[beta]]）。"),
    lambda: (count_parameters(_accepted(layer_parameters())), LAYER_SIZES,
             "formula vs the number of entries of p that reference.encoder_layer accepts"),
)

_params_entry(
    "cost.decoder_layer_params", "P_dec", lambda: cost.written("decoder_layer"),
    Text("Parameters of one decoder layer", "一个解码器层的参数量"),
    Text("Two attention blocks (self and cross), one feed-forward network and three LayerNorms.",
         "两个注意力块（自注意力与交叉注意力）、一个前馈网络和三个层标准化。"),
    lambda: (count_parameters(_accepted(layer_parameters(decoder=True), decoder=True)), LAYER_SIZES,
             "formula vs the number of entries of p that reference.decoder_layer accepts"),
)


def _model_count():
    N, vocab = 3, 50
    layers = [layer_parameters(seed=k) for k in range(N)] + [layer_parameters(seed=10 + k, decoder=True)
                                                             for k in range(N)]
    embedding = np.zeros((vocab, LAYER_SIZES["d_model"]))
    return (sum(count_parameters(p) for p in layers) + embedding.size, {**LAYER_SIZES, "N": N, "vocab": vocab},
            "formula vs entries of N encoder layers, N decoder layers and one shared embedding")


_params_entry(
    "cost.model_params", "P_total", lambda: cost.written("model"),
    Text("Parameters of the whole encoder-decoder", "整个编码器-解码器的参数量"),
    _text("N encoder and N decoder layers plus one embedding matrix shared by the source, the target "
          "and the pre-softmax projection.",
          "N 个编码器层和 N 个解码器层，加上一个由源语言、目标语言和 softmax 前的线性投影共享的嵌入矩阵。", PAPER),
    _model_count,
)


def _table3(name, sizes, lhs):
    reported = paper.REPORTED_PARAMETERS[name]

    def build():
        value = cost.parameter_count(sizes["d_model"], sizes["h"], sizes["d_ff"], sizes["N"], paper.VOCAB)
        millions = Scientific(sp.Float(f"{value / 1e6:.1f}"), 6)
        return Relation(P(lhs), Relation(value, millions, "approx"))

    def check(f, expr, sizes_=None):
        """The number shown and its rounding vs the entries of 2N layers laid out as the reference takes
        them (allocated lazily, never filled) plus the shared embedding; and within 5% of Table 3."""
        from mhasym.catalog.checks import layer_parameters

        what = f"the number shown vs the entries of the arrays the reference takes, and vs Table 3's {reported // 10**6}M"
        shown_sizes = {**sizes, "vocab": paper.VOCAB}
        try:
            shown = int(expr.rhs.lhs)
            rounded = float(value_of(expr.rhs.rhs))
        except Exception as exc:  # noqa: BLE001
            return failed(f.id, "numeric", what, shown_sizes, exc)
        counted = paper.VOCAB * sizes["d_model"]
        for decoder in (False, True):
            p = layer_parameters(sizes, decoder=decoder, fill=False)
            counted += sizes["N"] * count_parameters(p)
        gap = (shown - reported) / reported
        ok = shown == counted and abs(rounded - counted) <= 0.05e6 and abs(gap) < 0.05
        return CheckResult(f.id, "numeric", what, ok, shown_sizes, max_error=float(abs(shown - counted)),
                           tolerance=0.0, detail=f"shown {shown:,} (about {rounded:,.0f}), counted {counted:,}, "
                                                 f"reported {reported:,} ({gap:+.1%})")

    return build, check


register(
    "cost.base_params", "cost",
    Text("Parameters of the base model", "基础模型的参数量"),
    Text("[[d_model]] = 512, h = 8, [[d_ff]] = 2048, N = 6, a shared vocabulary of 37,000: 63.0M by the formula; "
         "the paper's Table 3 says 65M, 1.95M more. The biases that the formulas leave out (of the four attention "
         "projections in 18 attention blocks, and of the output layer) come to only about 0.074M, and the big "
         "model's formula already exceeds its 213M, so they do not explain the gap. A shared vocabulary of about "
         "40.8k instead of 37k would give 65M. The paper does not say how it counted.",
         "[[d_model]] = 512、h = 8、[[d_ff]] = 2048、N = 6、共享词表 37,000：按公式为 6300 万；论文表 3 写的是 6500 万，"
         "多出 195 万。公式中未写出的偏置（18 个注意力块中四个投影的偏置，以及输出层的偏置）合计只有约 7.4 万，"
         "而 big 配置按公式已经超过它的 2.13 亿，所以偏置解释不了这个差距。若共享词表约为 4.08 万而不是 3.7 万，"
         "就正好是 6500 万。论文没有说明它的统计口径。"),
    *_table3("base", paper.BASE, "P_base"),
)

register(
    "cost.big_params", "cost",
    Text("Parameters of the big model", "论文 big 配置的参数量"),
    Text("[[d_model]] = 1024, h = 16, [[d_ff]] = 4096, N = 6, vocabulary 37,000: 214.2M by the formula; Table 3 "
         "says 213M.",
         "[[d_model]] = 1024、h = 16、[[d_ff]] = 4096、N = 6、词表 37,000：按公式为 2.142 亿；表 3 写的是 2.13 亿。"),
    *_table3("big", paper.BIG, "P_big"),
)


def _ops_sizes():
    return {"n": 10, "d_model": 16, "h": 4}


def _self_attention_ops():
    return Relation(P("C_self"), cost.written("self_attention_operations"))


def _check_ops(f, expr, sizes=None):
    sz = _ops_sizes()
    s = attention.Sizes.of(n=sz["n"], m=sz["n"], d_model=sz["d_model"], h=sz["h"],
                           d_k=sz["d_model"] // sz["h"], d_v=sz["d_model"] // sz["h"])
    X = notation.matrix("X", s.n, s.d_model)
    counted = int(cost.matmul_operations(attention.multi_head(s, X, X)))
    return _counted(f.id, "formula vs multiply-adds of every product in the symbolic self-attention layer",
                    expr.rhs, counted, sz)


register(
    "cost.self_attention_ops", "cost",
    Text("Multiply-adds of a self-attention layer", "自注意力层的乘加次数"),
    Text("With the paper's [[d_k]] = [[d_v]] = [[d_model]] / h, which this count assumes (and its check uses): "
         "projections Q, K, V and the output, 4 n [[d_model:sq]]; scores and the weighted sum, 2 [[n:sq]] [[d_model]]; "
         "the heads together cost as much as one full-width head. In general the layer costs "
         "n [[d_model]] h (2 [[d_k]] + 2 [[d_v]]) + [[n:sq]] h ([[d_k]] + [[d_v]]).",
         "在论文的 [[d_k]] = [[d_v]] = [[d_model]] / h 之下（这个计数以此为前提，验证也是如此）：Q、K、V 投影和输出投影为 "
         "4 n [[d_model:sq]]；得分和加权求和为 2 [[n:sq]] [[d_model]]；所有头加起来与一个全维度的头代价相同。一般情况下，"
         "这一层的代价是 n [[d_model]] h (2 [[d_k]] + 2 [[d_v]]) + [[n:sq]] h ([[d_k]] + [[d_v]])。"),
    _self_attention_ops, _check_ops,
)


def _table1_others():
    n, d, k, r = (notation.dim(x) for x in ("n", "d_model", "kernel", "radius"))
    return Group(Relation(P("C_rec"), BigO(Times(n, d**2))), Relation(P("C_conv"), BigO(Times(k, n, d**2))),
                 Relation(P("C_restr"), BigO(Times(r, n, d))))




def _check_table1_others(f, expr, sizes=None):
    n, d, k, r = (notation.dim(x) for x in ("n", "d_model", "kernel", "radius"))
    counts = {P("C_rec"): 2 * n * d**2, P("C_conv"): k * n * d**2, P("C_restr"): 2 * r * n * d}
    what = "multiply-adds counted per layer over the growth shown, as each size grows: every limit positive and finite"
    details = []
    try:
        if len(expr.args) != 3 or {row.lhs for row in expr.args} != set(counts):
            raise ValueError("the lines do not define C_recurrent, C_conv and C_restricted")
        for row in expr.args:
            growth = value_of(row.rhs.arg)
            for x in (n, d, k, r):
                limit = sp.limit(counts[row.lhs] / growth, x, sp.oo)
                if not (limit.is_positive and limit.is_finite):
                    return CheckResult(f.id, "identity", what, False, {},
                                       detail=f"{row.lhs}: count over growth tends to {limit} as {x} grows")
            details.append(str(row.lhs))
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "identity", what, {}, exc)
    return CheckResult(f.id, "identity", what, True, {}, detail="limits positive and finite for " + ", ".join(details))


def _table1():
    n, d = notation.dim("n"), notation.dim("d_model")
    return Relation(P("C_attn"), BigO(Times(n**2, d)))


def _check_table1(f, expr, sizes=None):
    """The multiply-adds of Q K^T (n m d_k per head) and A V (n m d_v per head), counted over h heads at
    m = n and d_k = d_v = d_model / h, over the formula's growth, as n grows and as d_model grows:
    both limits must be positive and finite."""
    n, m, h, d_k, d_v, d = (notation.dim(x) for x in ("n", "m", "h", "d_k", "d_v", "d_model"))
    ops = (h * (n * m * d_k + n * m * d_v)).xreplace({m: n, d_k: d / h, d_v: d / h})
    what = "multiply-adds of Q K^T and A V over the growth shown, as n grows and as d_model grows"
    try:
        growth = value_of(expr.rhs.arg)
        limits = [sp.limit(ops / growth, x, sp.oo) for x in (n, d)]
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "identity", what, {}, exc)
    ok = all(v.is_positive and v.is_finite for v in limits) and expr.lhs == P("C_attn")
    return CheckResult(f.id, "identity", what, bool(ok), {},
                       detail=f"count {sp.factor(ops)}; limits {limits[0]} (n) and {limits[1]} (d_model)")


register(
    "cost.table1", "cost",
    Text("Complexity of the attention itself (Table 1)", "注意力本身的复杂度（表 1）"),
    _text("Table 1 gives O([[n:sq]] [[d_model]]) per self-attention layer. That is the order of the attention itself, "
          "the scores (Q times the transpose of K) and the weighted sum A V: 2 [[n:sq]] [[d_model]] multiply-adds. "
          "Counting the four projections too, 4 n [[d_model:sq]], the layer is O([[n:sq]] [[d_model]] + n [[d_model:sq]]) "
          "(this site's count; the paper does not write it): with 4 n [[d_model:sq]] against 2 [[n:sq]] [[d_model]], the "
          "projections dominate while n < 2 [[d_model]]. Table 1 compares self-attention with recurrent layers, "
          "O(n [[d_model:sq]]) with n sequential steps (self-attention is faster when n < [[d_model]], which Section 4 "
          "calls most often the case), and convolutions of kernel width k, O(k n [[d_model:sq]]); self-attention needs O(1) sequential operations and its maximum path length "
          "between positions is O(1).",
          "表 1 给出的自注意力层复杂度是 O([[n:sq]] [[d_model]])，这正是注意力本身的量级，即得分（Q 乘以 K 的转置）与加权求和 A V："
          "共 2 [[n:sq]] [[d_model]] 次乘加。若把四个投影的 4 n [[d_model:sq]] 也算上，整个层是 O([[n:sq]] [[d_model]] + n [[d_model:sq]])"
          "（这是本站的计数，论文没有写出）：4 n [[d_model:sq]] 与 2 [[n:sq]] [[d_model]] 相比，当 n < 2 [[d_model]] 时投影占主导。表 1 将自注意力与循环层 O(n [[d_model:sq]])（需要 n 步顺序计算；当 n < [[d_model]] 时自注意力更快，第 4 节说这是最常见的情形）和卷积核宽度为 k 的卷积层 O(k n [[d_model:sq]]) 比较；"
          "自注意力只需 O(1) 步顺序计算，任意两个位置之间的最长路径为 O(1)。", PAPER),
    _table1, _check_table1,
)


register(
    "cost.table1_others", "cost",
    Text("The other layers of Table 1", "表 1 中的其他层"),
    _text("Per layer, counted directly from the matrix products: a recurrent layer does two [[d_model]] × [[d_model]] products per "
          "step, 2 n [[d_model:sq]] in all, in n sequential steps, with a path of length O(n) between distant positions; "
          "a convolution of kernel width k maps k neighbours to each position, k n [[d_model:sq]], with O(1) sequential "
          "operations; Table 1 gives its maximum path length as O(log_k n) (dilated convolutions), and Section 4 remarks "
          "that contiguous kernels need a stack of O(n/k) layers; self-attention restricted to a neighbourhood of size r "
          "costs 2 r n [[d_model]], with O(1) sequential operations and a maximum path length of O(n/r). "
          "Self-attention's own row is the formula above: O(1) sequential operations and paths.",
          "按层计算，直接按矩阵乘法计数：循环层每一步做两次 [[d_model]] × [[d_model]] 的乘法，共 2 n [[d_model:sq]]，"
          "需要 n 步顺序计算，远处两个位置之间的路径长度为 O(n)；宽度为 k 的卷积把 k 个邻居映射到每个位置，"
          "共 k n [[d_model:sq]]，顺序计算为 O(1)；表 1 给出它的最长路径为 O(log_k n)（空洞卷积），第 4 节另外指出"
          "连续卷积核需要堆叠 O(n/k) 层；限制在大小为 r 的邻域内的自注意力代价为 2 r n [[d_model]]，顺序计算为 O(1)，最长路径为 O(n/r)。"
          "自注意力本身那一行就是上面的公式：顺序计算和路径长度都是 O(1)。", PAPER),
    _table1_others, _check_table1_others,
)
