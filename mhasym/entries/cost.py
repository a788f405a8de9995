"""Parameter counts and cost per layer (the paper's Tables 1 and 3), and identities proven by SymPy."""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions import MatMul

from .. import attention, cost, notation, paper, reference
from ..catalog import Text, register
from ..checks import LAYER_SIZES, CheckResult, count_parameters, failed, layer_parameters, vacuous
from ..expressions import BigO, Scientific, Concat, Elided, MatSum, Relation, SplitHeads, Times, value_of
from .attention import PAPER, _text

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
    _text("h heads of [[W_Q]], [[W_K]] ([[d_model]] × [[d_k]]) and [[W_V]] ([[d_model]] × [[d_v]]), plus [[W_O]]; no biases, as in the "
          "paper's formulas. With [[d_k]] = [[d_v]] = [[d_model]] / h this is 4 [[d_model:sq]].",
          "h 个头的 [[W_Q]]、[[W_K]]（[[d_model]] × [[d_k]]）和 [[W_V]]（[[d_model]] × [[d_v]]），加上 [[W_O]]；与论文公式一致，不含偏置。"
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
        from ..checks import layer_parameters

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
    Text("[[d_model]] = 512, h = 8, [[d_ff]] = 2048, N = 6, a shared vocabulary of 37000: 63.0M by the formula; "
         "the paper's Table 3 says 65M. It does not say what it counted; the vocabulary size and the "
         "biases it leaves out of its formulas are the likely difference.",
         "[[d_model]] = 512、h = 8、[[d_ff]] = 2048、N = 6、共享词表 37000：按公式为 6300 万；论文表 3 写的是 6500 万。"
         "论文没有说明统计口径；词表大小以及公式中未写出的偏置可能是差异的来源。"),
    *_table3("base", paper.BASE, "P_base"),
)

register(
    "cost.big_params", "cost",
    Text("Parameters of the big model", "大模型的参数量"),
    Text("[[d_model]] = 1024, h = 16, [[d_ff]] = 4096, N = 6, vocabulary 37000: 214.2M by the formula; Table 3 "
         "says 213M.",
         "[[d_model]] = 1024、h = 16、[[d_ff]] = 4096、N = 6、词表 37000：按公式为 2.142 亿；表 3 写的是 2.13 亿。"),
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
    Text("Projections Q, K, V and the output: 4 n [[d_model:sq]]; scores and the weighted sum: 2 [[n:sq]] [[d_model]] "
         "(with [[d_k]] = [[d_v]] = [[d_model]] / h, the heads together cost as much as one full-width head).",
         "Q、K、V 投影和输出投影：4 n [[d_model:sq]]；得分和加权求和：2 [[n:sq]] [[d_model]]"
         "（当 [[d_k]] = [[d_v]] = [[d_model]] / h 时，所有头加起来与一个全维度的头代价相同）。"),
    _self_attention_ops, _check_ops,
)


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
    _text("Table 1 counts the attention itself, the scores (Q times the transpose of K) and the weighted sum A V: 2 [[n:sq]] [[d_model]] multiply-adds, "
          "O([[n:sq]] [[d_model]]). The whole layer adds the four projections, 4 n [[d_model:sq]], so it is "
          "O([[n:sq]] [[d_model]] + n [[d_model:sq]]): the projections dominate while n < [[d_model]], which the paper calls "
          "the usual case. Table 1 compares this with recurrent layers, O(n d²) with n sequential steps, and "
          "convolutions, O(k n d²); self-attention needs O(1) sequential operations and its maximum path length "
          "between positions is O(1).",
          "表 1 统计的是注意力本身，即得分（Q 乘以 K 的转置）与加权求和 A V：共 2 [[n:sq]] [[d_model]] 次乘加，O([[n:sq]] [[d_model]])。"
          "整个层还要加上四个投影的 4 n [[d_model:sq]]，因此是 O([[n:sq]] [[d_model]] + n [[d_model:sq]])：当 n < [[d_model]] 时"
          "（论文所说的常见情形）投影占主导。表 1 将它与循环层 O(n d²)（需要 n 步顺序计算）和卷积层 O(k n d²) 比较；"
          "自注意力只需 O(1) 步顺序计算，任意两个位置之间的最长路径为 O(1)。", PAPER),
    _table1, _check_table1,
)


# Identities proven by SymPy on explicit matrices of symbols.

def _symbols(name, rows, cols):
    return sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"{name}_{r}{c}"))


def _concat_wo():
    s = attention.Sizes.of()
    i = notation.scalar("i")
    Z = lambda k: notation.matrix("Z", s.n, s.d_v, k)  # noqa: E731
    W_O_i = notation.matrix("W_O", s.d_v, s.d_model, i)
    lhs = MatMul(Concat(Z(1), Elided(s.n, (s.h - 2) * s.d_v, Z(i), i, 2, s.h - 1), Z(s.h)), s.W_O())
    return Relation(lhs, MatSum(MatMul(Z(i), W_O_i), i, 1, s.h))


def _explicit(expr, sizes: dict, blocks: dict):
    """``expr`` at ``sizes`` with every matrix symbol replaced by a matrix of symbolic entries;
    ``blocks`` maps a key to a function (symbol -> explicit matrix) for symbols defined as blocks of others."""
    from ..evaluate import size_values

    expr = expr.xreplace(size_values(sizes)).doit()
    table = {}
    for s in expr.free_symbols:
        if isinstance(s, notation.NamedMatrix):
            make = blocks.get(s.key)
            table[s] = make(s) if make else sp.ImmutableMatrix(_symbols(s.name, int(s.shape[0]), int(s.shape[1])))
    return sp.ImmutableMatrix(expr.xreplace(table).doit().as_explicit())


def _identity_at(f, expr, what, size_list, blocks):
    """Both sides of ``expr`` with symbolic entries, expanded, at each sizes of ``size_list``."""
    empty = vacuous(f.id, expr, what, size_list[-1])
    if empty:
        return empty
    for sizes in size_list:
        try:
            diff = (_explicit(expr.lhs, sizes, blocks(sizes)) - _explicit(expr.rhs, sizes, blocks(sizes))).expand()
        except Exception as exc:  # noqa: BLE001
            return failed(f.id, "identity", what, sizes, exc)
        if not diff.is_zero_matrix:
            return CheckResult(f.id, "identity", what, False, sizes, detail="the two sides differ, expanded")
    return CheckResult(f.id, "identity", what, True, size_list[-1],
                       detail=f"equal with symbolic entries at {len(size_list)} sizes")


def _check_concat_wo(f, expr, sizes=None):
    def blocks(sz):
        W = sp.ImmutableMatrix(_symbols("W_O", sz["h"] * sz["d_v"], sz["d_model"]))
        d_v = sz["d_v"]
        return {"W_O": lambda s: W if s.index is None else W[(int(s.index) - 1) * d_v:int(s.index) * d_v, :]}

    return _identity_at(f, expr, "both sides with symbolic entries, W^O_i the i-th block of d_v rows of W^O",
                        [{"h": 2, "n": 2, "d_v": 2, "d_model": 3}, {"h": 3, "n": 2, "d_v": 1, "d_model": 2}], blocks)


register(
    "id.concat_wo", "multihead",
    Text("Concatenate then project = sum of per-head projections", "先拼接再投影 = 各头投影之和"),
    _text("[[W_O:i]] is the i-th block of [[d_v]] rows of [[W_O]]. So [[W_O]] mixes the heads: with it, each output "
          "column combines every head; the notebook's concatenation alone keeps them apart.",
          "[[W_O:i]] 是 [[W_O]] 的第 i 块（[[d_v]] 行）。因此 [[W_O]] 把各头混合起来：每个输出列都组合了所有头；"
          "只做课程笔记中的拼接，各头仍是分开的。", PAPER),
    _concat_wo, _check_concat_wo,
)


def _split():
    s = attention.Sizes.of()
    i = notation.scalar("i")
    X = notation.matrix("X", s.n, s.d_model)
    fused = notation.matrix("W_Q", s.d_model, s.h * s.d_k)
    return Relation(SplitHeads(MatMul(X, fused), s.h, i), MatMul(X, s.W("Q", i)))


def _check_split(f, expr, sizes=None):
    """Both sides with symbolic entries for every head i, where the fused W^Q is [W^Q_1 ... W^Q_h] side by side."""
    def blocks(sz):
        heads = [sp.ImmutableMatrix(_symbols(f"W_Q_{k}", sz["d_model"], sz["d_k"])) for k in range(1, sz["h"] + 1)]
        return {"W_Q": lambda s: sp.ImmutableMatrix(sp.Matrix.hstack(*heads)) if s.index is None else heads[int(s.index) - 1]}

    sizes_list = [{"n": 3, "d_model": 2, "h": 3, "d_k": 2, "i": i} for i in (1, 2, 3)] + \
                 [{"n": 2, "d_model": 3, "h": 2, "d_k": 1, "i": i} for i in (1, 2)]
    return _identity_at(f, expr, "split_i(X W^Q) vs X W^Q_i with symbolic entries, W^Q = [W^Q_1 ... W^Q_h]",
                        sizes_list, blocks)


register(
    "id.split_heads", "multihead",
    Text("One big projection, split into heads", "一次大投影再拆分成多个头"),
    Text("Implementations compute X [[W_Q]] with all heads' columns side by side, then reshape to "
         "(n, h, [[d_k]]) and transpose to (h, n, [[d_k]]). That equals the h separate projections X [[W_Q:i]]; "
         "a reshape to (h, n, [[d_k]]) without the transpose mixes tokens and heads.",
         "实现中通常把所有头的列并排，一次算出 X [[W_Q]]，再 reshape 成 (n, h, [[d_k]]) 并转置为 (h, n, [[d_k]])。"
         "这与 h 个单独的投影 X [[W_Q:i]] 相等；若直接 reshape 成 (h, n, [[d_k]]) 而不转置，就会把词元和头混在一起。"),
    _split, _check_split,
)


def _permutation():
    s = attention.Sizes.of()
    Pm = notation.matrix("P", s.n, s.n)
    X = notation.matrix("X", s.n, s.d_model)
    PX = MatMul(Pm, X)
    lhs = attention.Apply("MultiHead", s.n, s.d_model, PX, PX, PX)
    return Relation(lhs, MatMul(Pm, attention.Apply("MultiHead", s.n, s.d_model, X, X, X)))


def _check_permutation(f, expr, sizes=None):
    """Both sides run through the catalog's MultiHead (mha.multihead) on random numbers with a 3-cycle P
    (not symmetric), at sizes with n = m; they must agree, and the reference must agree with the right side."""
    from ..checks import SEED, attention_bindings, attention_inputs, compare_arrays, run_formula
    from .. import reference

    sizes = {"n": 5, "m": 5, "d_model": 6, "h": 2, "d_k": 3, "d_v": 4}
    x = attention_inputs(sizes)
    x["x_kv"] = x["x_q"]
    perm = np.eye(sizes["n"])[[1, 2, 0, 4, 3], :]
    inputs = attention_bindings(x)
    inputs.table.update({"P": [perm], "X": [x["x_q"]]})
    what = "both sides, compiled, on random X and a permutation P; the right side vs P times the reference"
    empty = vacuous(f.id, expr, what, sizes)
    if empty:
        return empty
    try:
        lhs, via = run_formula(f, expr.lhs, sizes, inputs)
        rhs, _ = run_formula(f, expr.rhs, sizes, inputs)
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "identity", what, sizes, exc, SEED)
    want = perm @ reference.multi_head_attention(x["x_q"], x["x_q"], x["w_q"], x["w_k"], x["w_v"], x["w_o"])
    first = compare_arrays(f.id, what, rhs, want, sizes, SEED)
    if not first.passed:
        return first
    result = compare_arrays(f.id, what + f" (via {', '.join(via)})", lhs, rhs, sizes, SEED)
    return CheckResult(**{**result.__dict__, "kind": "identity"})


def explicit(expr, values):
    """The explicit matrix of ``expr`` with matrix symbols replaced by explicit matrices."""
    from ..expressions import Scaled, Softmax
    from sympy.matrices.expressions import MatAdd, Transpose

    def go(e):
        if e in values:
            return values[e]
        if isinstance(e, MatMul):
            out = None
            for a in e.args:
                v = go(a) if isinstance(a, sp.Basic) and hasattr(a, "shape") else a
                out = v if out is None else out * v
            return out
        if isinstance(e, Transpose):
            return go(e.arg).T
        if isinstance(e, MatAdd):
            return sum((go(a) for a in e.args[1:]), go(e.args[0]))
        if isinstance(e, Scaled):
            return go(e.numerator) / e.denominator
        if isinstance(e, Softmax):
            a = go(e.arg)
            return sp.Matrix(a.rows, a.cols, lambda r, c: sp.exp(a[r, c]) / sum(sp.exp(a[r, k]) for k in range(a.cols)))
        if isinstance(e, Concat):
            return sp.Matrix.hstack(*(go(b) for b in e.blocks))
        raise TypeError(f"no explicit form for {type(e).__name__}")

    return go(expr)


register(
    "id.permutation", "transformer",
    Text("Self-attention is permutation-equivariant", "自注意力对置换等变"),
    Text("Reordering the input rows reorders the output rows the same way (P is a permutation matrix): "
         "without positional encoding, attention cannot tell positions apart. This is why the "
         "Transformer adds positional encodings.",
         "把输入的行重新排列，输出的行以同样方式重新排列（P 为置换矩阵）：没有位置编码，注意力无法区分位置。"
         "这正是 Transformer 要加入位置编码的原因。"),
    _permutation, _check_permutation,
)
