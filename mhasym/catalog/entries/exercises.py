"""The exercises, page by page. Each answer is computed by mhasym (``solve``) and checked by another route
(``verify``): the hand-written reference, NumPy, or plain arithmetic."""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from sympy.matrices.expressions import MatMul, Transpose

from mhasym import numeric, reference
from mhasym.catalog.exercise import Answer, Exercise, register
from mhasym.catalog.text import Text
from mhasym.model import notation
from mhasym.model.expressions import Softmax, fixed

T = Text


def _matrix(values, digits=3):
    """A NumPy array as a SymPy matrix of rounded numbers, for the site to print."""
    rows = np.atleast_2d(np.asarray(values, dtype=float))
    return sp.Matrix([[fixed(v, digits) for v in row] for row in rows])


def _close(got, want, tol=1e-12):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=0, atol=tol))


def _count(x: int) -> str:
    return f"{x:,}"


# Scaled dot-product attention

def _shapes_solve():
    n, m, d_k, d_v = 5, 7, 4, 3
    Q, K, V = notation.matrix("Q", n, d_k), notation.matrix("K", m, d_k), notation.matrix("V", m, d_v)
    scores = MatMul(Q, Transpose(K))
    weights = Softmax(scores)
    out = MatMul(weights, V)
    return tuple(tuple(int(s) for s in e.shape) for e in (scores, weights, out))


def _shapes_verify(value):
    g = np.random.default_rng(1)
    q, k, v = g.normal(size=(5, 4)), g.normal(size=(7, 4)), g.normal(size=(7, 3))
    want = ((q @ k.T).shape, reference.attention_weights(q, k).shape, reference.scaled_dot_product_attention(q, k, v).shape)
    return value == want, "the shapes from the model's matrix symbols vs the reference's arrays"


register(Exercise(
    "ex.attention.shapes", "attention", "shapes",
    T("Q has 5 rows and K and V have 7 rows; [[d_k]] = 4 and [[d_v]] = 3. What are the shapes of the scores "
      "[[expr:QK_T]], of the weights [[A]] and of the output [[expr:A_V]]?",
      "Q 有 5 行，K 和 V 有 7 行；[[d_k]] = 4，[[d_v]] = 3。得分 [[expr:QK_T]]、权重 [[A]] 和输出 [[expr:A_V]] 的形状各是多少？"),
    _shapes_solve, _shapes_verify,
    lambda v: Answer(T(f"Scores and [[A]]: {v[0][0]} × {v[0][1]} (one row per query, one column per key); output: "
                       f"{v[2][0]} × {v[2][1]}.",
                       f"得分和 [[A]]：{v[0][0]} × {v[0][1]}（每个查询一行，每个键一列）；输出：{v[2][0]} × {v[2][1]}。")),
))


def _scale_solve():
    from mhasym.catalog.registry import formula
    from mhasym.model.expressions import Scaled

    expr = formula("attention.sdpa").expr
    scaled = next(e for e in sp.preorder_traversal(expr) if isinstance(e, Scaled))
    return int(scaled.denominator.xreplace({notation.dim("d_k"): 64}))


def _scale_verify(value):
    g = np.random.default_rng(2)
    q, k = g.normal(size=(3, 64)), g.normal(size=(5, 64))
    scores = q @ k.T / value
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    ok = value == math.isqrt(64) and _close(e / e.sum(axis=1, keepdims=True), reference.attention_weights(q, k))
    return ok, "the divisor read from attention.sdpa at d_k = 64 vs the reference's weights"


register(Exercise(
    "ex.attention.scale", "attention", "computation",
    T("In the base model [[d_k]] = 64. By what number are the scores divided before the softmax?",
      "基础模型中 [[d_k]] = 64。做 softmax 之前，得分要除以多少？"),
    _scale_solve, _scale_verify,
    lambda v: Answer(T(f"By [[sqrt:d_k]] = {v}.", f"除以 [[sqrt:d_k]] = {v}。")),
))

_Q2 = np.array([[1.0, 0.0], [0.0, 2.0]])
_K3 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
_V3 = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])


def _small_solve():
    weights = numeric.scaled_dot_product_attention(_Q2, _K3, np.eye(3))  # A V with V = I is A
    scores = _Q2 @ _K3.T / np.sqrt(2)  # the working shown: S = Q K^T / sqrt(d_k)
    return weights, numeric.scaled_dot_product_attention(_Q2, _K3, _V3), scores


def _small_verify(value):
    weights, out, scores = value
    ok = _close(weights, reference.attention_weights(_Q2, _K3)) and \
        _close(out, reference.scaled_dot_product_attention(_Q2, _K3, _V3)) and \
        _close(reference.softmax_rows(scores), weights)
    return ok, "weights and output from mhasym.numeric vs mhasym.reference; the scores shown give those weights"


register(Exercise(
    "ex.attention.small", "attention", "computation",
    T("Two queries, three keys, [[d_k]] = 2: Q has rows (1, 0) and (0, 2); K has rows (1, 0), (0, 1), (1, 1); "
      "V has rows (1, 0), (0, 1), (2, 2). Compute the weights [[A]] (to 3 decimals) and the output.",
      "两个查询、三个键，[[d_k]] = 2：Q 的两行是 (1, 0) 和 (0, 2)；K 的三行是 (1, 0)、(0, 1)、(1, 1)；"
      "V 的三行是 (1, 0)、(0, 1)、(2, 2)。计算权重 [[A]]（保留 3 位小数）和输出。"),
    _small_solve, _small_verify,
    lambda v: Answer(T(f"Scores [[expr:sdpa_scores]]: [[S]] has rows ({', '.join(f'{x:.3f}' for x in v[2][0])}) and "
                       f"({', '.join(f'{x:.3f}' for x in v[2][1])}). Then a softmax per row: [[A]] has rows "
                       f"({', '.join(f'{x:.3f}' for x in v[0][0])}) and ({', '.join(f'{x:.3f}' for x in v[0][1])}); "
                       f"each row sums to 1. The output [[expr:A_V]] is shown below.",
                       f"先算 [[expr:sdpa_scores]]：[[S]] 的两行是 ({', '.join(f'{x:.3f}' for x in v[2][0])}) 和 "
                       f"({', '.join(f'{x:.3f}' for x in v[2][1])})。再对每行做 softmax：[[A]] 的两行是 "
                       f"({', '.join(f'{x:.3f}' for x in v[0][0])}) 和 ({', '.join(f'{x:.3f}' for x in v[0][1])})，"
                       f"每行之和为 1。输出 [[expr:A_V]] 见下。"), _matrix(v[1])),
))


# Multi-head attention

def _concat_solve():
    from mhasym.model.heads import concat_shape

    return concat_shape(100, 3, 8)


register(Exercise(
    "ex.multihead.concat_shape", "multihead", "shapes",
    T("100 tokens and 8 heads, each head's output with [[d_v]] = 3 columns. What is the shape of the concatenation?",
      "100 个词元、8 个头，每个头的输出有 [[d_v]] = 3 列。拼接之后的形状是多少？"),
    _concat_solve,
    lambda v: (v == np.concatenate([np.zeros((100, 3))] * 8, axis=1).shape,
               "mhasym.concat_shape vs the shape of 8 NumPy blocks concatenated"),
    lambda v: Answer(T(f"The concatenation is {v[0]} × {v[1]}: 8 blocks of 3 columns side by side.",
                       f"拼接结果是 {v[0]} × {v[1]}：8 块、每块 3 列，左右并排。")),
))


def _wo_solve():
    from mhasym.model import attention, paper

    s = attention.Sizes.of(h=paper.BASE["h"])
    table = {notation.dim(k): v for k, v in paper.BASE.items() if k in notation.DIMENSIONS}
    return tuple(int(sp.sympify(x).xreplace(table)) for x in s.W_O().shape)


def _wo_verify(value):
    h, d_v, d_model = 8, 64, 512
    try:  # the reference accepts a W^O of (h d_v) x d_model and refuses one of d_v rows
        reference.multi_head_attention(np.zeros((1, d_model)), np.zeros((1, d_model)), np.zeros((h, d_model, d_v)),
                                       np.zeros((h, d_model, d_v)), np.zeros((h, d_model, d_v)), np.zeros(value))
        accepted = True
    except ValueError:
        accepted = False
    return accepted and value == (h * d_v, d_model), "the model's W^O shape vs what the reference accepts"


register(Exercise(
    "ex.multihead.w_o", "multihead", "shapes",
    T("In the base model h = 8, [[d_v]] = 64 and [[d_model]] = 512. What is the shape of [[W_O]]?",
      "基础模型中 h = 8，[[d_v]] = 64，[[d_model]] = 512。[[W_O]] 的形状是多少？"),
    _wo_solve, _wo_verify,
    lambda v: Answer(T(f"{v[0]} × {v[1]}: h [[d_v]] rows, to take the concatenation back to [[d_model]] columns.",
                       f"{v[0]} × {v[1]}：h [[d_v]] 行，把拼接结果变回 [[d_model]] 列。")),
))


def _block_solve():
    from mhasym.model.cost import attention_parameters

    table = {notation.dim("d_model"): 512, notation.dim("h"): 8, notation.dim("d_k"): 64, notation.dim("d_v"): 64}
    one = int(attention_parameters().xreplace(table))
    single = int(attention_parameters().xreplace({**table, notation.dim("h"): 1, notation.dim("d_k"): 512,
                                                  notation.dim("d_v"): 512}))
    return one, single


def _block_verify(value):
    def count(h, d):
        arrays = [np.zeros((h, 512, d)), np.zeros((h, 512, d)), np.zeros((h, 512, d)), np.zeros((h * d, 512))]
        return sum(a.size for a in arrays)

    return value == (count(8, 64), count(1, 512)), "the parameter formula vs the entries of the reference's weight arrays"


register(Exercise(
    "ex.multihead.parameters", "multihead", "parameters",
    T("How many parameters does one multi-head attention block of the base model have ([[d_model]] = 512, h = 8, "
      "[[d_k]] = [[d_v]] = 64, no biases)? And with one head of [[d_k]] = [[d_v]] = 512?",
      "基础模型中一个多头注意力块有多少参数（[[d_model]] = 512，h = 8，[[d_k]] = [[d_v]] = 64，不含偏置）？"
      "如果只用一个头、[[d_k]] = [[d_v]] = 512 呢？"),
    _block_solve, _block_verify,
    lambda v: Answer(T(f"{_count(v[0])}: 8 heads of [[W_Q:i]] and [[W_K:i]] (512 × 64 each) and [[W_V:i]] (512 × 64), "
                       f"8 × 3 × 512 × 64 = 786,432, plus [[W_O]] (512 × 512) = 262,144; that is 4 × 512². "
                       f"The same {_count(v[1])} with one head: splitting into heads "
                       "does not add parameters when [[d_k]] = [[d_model]] / h.",
                       f"{_count(v[0])}：8 个头的 [[W_Q:i]]、[[W_K:i]]、[[W_V:i]]（各 512 × 64）共 8 × 3 × 512 × 64 = 786,432，"
                       f"加上 [[W_O]]（512 × 512）262,144，即 4 × 512²。只用一个头时同样是 {_count(v[1])}：当 [[d_k]] = [[d_model]] / h 时，"
                       "拆分成多个头并不增加参数。")),
))


# Masks

def _causal_solve():
    mask = numeric.causal_mask(2, 4, "bottom-right")
    return [[int(j) + 1 for j in np.flatnonzero(row)] for row in mask]


register(Exercise(
    "ex.masks.bottom_right", "masks", "mask",
    T("A decoder has 2 new queries and 4 keys (2 cached, then the 2 new ones). With the causal mask aligned "
      "bottom-right, which keys may query 1 and query 2 attend (counting from 1)?",
      "解码器有 2 个新查询和 4 个键（2 个缓存的，然后是这 2 个新的）。使用右下对齐的因果掩码时，"
      "查询 1 和查询 2 各能关注哪些键（从 1 开始数）？"),
    _causal_solve,
    lambda v: (v == [[int(j) + 1 for j in np.flatnonzero(r)] for r in reference.causal_mask(2, 4, "bottom-right")],
               "mhasym.numeric.causal_mask vs mhasym.reference.causal_mask"),
    lambda v: Answer(T(f"Query 1: keys {', '.join(map(str, v[0]))}; query 2: keys {', '.join(map(str, v[1]))}. "
                       "Each new query sees everything up to its own position.",
                       f"查询 1：键 {', '.join(map(str, v[0]))}；查询 2：键 {', '.join(map(str, v[1]))}。"
                       "每个新查询都能看到截至它自己位置的所有键。")),
))


def _padding_solve():
    from mhasym.catalog.registry import formula

    f = formula("masks.padding")
    piecewise = next(e for e in sp.preorder_traversal(f.expr) if isinstance(e, sp.Piecewise))
    j, L = notation.scalar("j"), notation.dim("L")
    return [piecewise.xreplace({j: sp.Integer(col), L: sp.Integer(3)}) == 0 for col in range(1, 6)]


register(Exercise(
    "ex.masks.padding", "masks", "mask",
    T("A batch pads a sentence of 3 tokens to 5 positions. Which of the 5 keys may every query attend? What does "
      "the additive mask hold at the other keys?",
      "一个批次把 3 个词元的句子填充到 5 个位置。每个查询可以关注 5 个键中的哪些？其余键处加性掩码的值是什么？"),
    _padding_solve,
    lambda v: (v == [j < 3 for j in range(5)], "the padding formula (masks.padding) at L = 3 vs the keys before L"),
    lambda v: Answer(T(f"Keys {', '.join(str(k + 1) for k, ok in enumerate(v) if ok)} (the real tokens); the mask "
                       "is minus infinity at keys 4 and 5, so they get weight 0.",
                       f"键 {', '.join(str(k + 1) for k, ok in enumerate(v) if ok)}（真实词元）；键 4 和 5 处掩码为负无穷，"
                       "权重为 0。")),
))


_CAUSAL_SEED = 20261202


def _changed_rows(attention, causal_mask, masked: bool) -> list:
    """Rows (from 1) of a decoder self-attention output that change when only the last of 4 tokens changes."""
    rng = np.random.default_rng(_CAUSAL_SEED)
    x, w_q, w_k, w_v = (rng.standard_normal(shape) for shape in ((4, 6), (6, 3), (6, 3), (6, 2)))
    x_new = x.copy()
    x_new[3] = rng.standard_normal(6)
    mask = causal_mask(4, 4) if masked else None
    out, out_new = (attention(t @ w_q, t @ w_k, t @ w_v, mask) for t in (x, x_new))
    return [int(r) + 1 for r in np.flatnonzero(np.abs(out - out_new).max(axis=1) > 1e-12)]


def _consistency_solve():
    return [_changed_rows(numeric.scaled_dot_product_attention, numeric.causal_mask, masked) for masked in (True, False)]


register(Exercise(
    "ex.masks.causal_consistency", "masks", "mask",
    T("A decoder's input has 4 tokens. Change only the last one. Which rows of the self-attention output change "
      "with the causal mask, and which without it? What does that mean for training all positions at once?",
      "解码器的输入有 4 个词元，只改变最后一个。使用因果掩码时，自注意力输出的哪些行会改变？不用掩码时呢？"
      "这对一次训练所有位置意味着什么？"),
    _consistency_solve,
    lambda v: (v == [_changed_rows(reference.scaled_dot_product_attention, reference.causal_mask, masked)
                     for masked in (True, False)], "mhasym.numeric vs mhasym.reference on random numbers"),
    lambda v: Answer(T(f"With the mask only row {', '.join(map(str, v[0]))} changes; without it rows "
                       f"{', '.join(map(str, v[1]))} change. With the mask, each position's output depends only on the "
                       "tokens up to it, so computing all positions at once in training gives each position exactly "
                       "what generating one token at a time will give it; without the mask, earlier positions would "
                       "use a token that does not exist yet when they are generated.",
                       f"使用掩码时只有第 {'、'.join(map(str, v[0]))} 行改变；不用掩码时第 {'、'.join(map(str, v[1]))} 行都改变。"
                       "有掩码时，每个位置的输出只依赖截至它的词元，所以训练时一次算出所有位置，每个位置得到的正是逐个生成时它会得到的；"
                       "没有掩码，前面的位置就会用到生成它们时还不存在的词元。")),
))


# The Transformer

def _pe_solve():
    return numeric.positional_encoding(2, 4)[1]


register(Exercise(
    "ex.transformer.pe", "transformer", "computation",
    T("With [[d_model]] = 4, what is the positional encoding of position 1 (positions count from 0)?",
      "[[d_model]] = 4 时，位置 1（位置从 0 开始数）的位置编码是什么？"),
    _pe_solve,
    lambda v: (_close(v, reference.positional_encoding(2, 4)[1]), "mhasym.numeric vs mhasym.reference"),
    lambda v: Answer(T("sin(1), cos(1), sin(1/100), cos(1/100): the second pair turns 100 times more slowly.",
                       "sin(1)、cos(1)、sin(1/100)、cos(1/100)：第二对列转得慢 100 倍。"), _matrix(v)),
))

_ROW = np.array([[1.0, 2.0, 3.0, 6.0]])


def _ln_solve():
    return numeric.layer_norm(_ROW, np.ones(4), np.zeros(4))


register(Exercise(
    "ex.transformer.layer_norm", "transformer", "computation",
    T("LayerNorm of the row (1, 2, 3, 6) with [[gamma]] = 1, [[beta]] = 0 and [[epsilon]] = 1e-5: what comes out "
      "(to 3 decimals)?",
      "对行 (1, 2, 3, 6) 做层标准化（层归一化），[[gamma]] = 1，[[beta]] = 0，[[epsilon]] = 1e-5：结果是什么（保留 3 位小数）？"),
    _ln_solve,
    lambda v: (_close(v, reference.layer_norm(_ROW, np.ones(4), np.zeros(4))), "mhasym.numeric vs mhasym.reference"),
    lambda v: Answer(T("Mean 3 and (biased) variance 3.5, so each entry [[expr:x_j]] becomes [[expr:ln_example]]:",
                       "均值为 3，（有偏）方差为 3.5，所以每个数 [[expr:x_j]] 变为 [[expr:ln_example]]："), _matrix(v)),
))


def _encoder_shape_solve():
    from mhasym.catalog.registry import formula
    from mhasym.model import paper

    lhs = formula("tr.encoder_stack").expr.args[0].lhs  # Encoder(X), the first line
    table = {notation.dim("n"): 10, notation.dim("d_model"): paper.BASE["d_model"]}
    return tuple(int(sp.sympify(x).xreplace(table)) for x in lhs.shape)


def _encoder_shape_verify(value):
    from mhasym.catalog.checks import layer_parameters

    d_model = 512
    p = layer_parameters({"d_model": d_model, "h": 8, "d_k": 64, "d_v": 64, "d_ff": 2048}, fill=False)
    out = reference.encoder_layer(np.zeros((10, d_model)), p)
    return value == out.shape, "the encoder formula's shape at n = 10 vs the reference encoder layer's output"


register(Exercise(
    "ex.transformer.encoder_shape", "transformer", "shapes",
    T("A source sentence of 10 tokens goes through the base model's encoder. What is the shape of the encoder's output?",
      "一个 10 个词元的源句子经过基础模型的编码器。编码器输出的形状是多少？"),
    _encoder_shape_solve, _encoder_shape_verify,
    lambda v: Answer(T(f"{v[0]} × {v[1]}: one row of [[d_model]] numbers per token; every layer keeps this shape.",
                       f"{v[0]} × {v[1]}：每个词元一行、[[d_model]] 个数；每一层都保持这个形状。")),
))


_WALK = {"d_model": 512, "h": 8, "d_k": 64, "d_v": 64, "d_ff": 2048}
_WALK_STEPS = ("source", "encoder", "target", "self", "cross", "hidden", "decoder")


def _walk(attention, positional, encoder, decoder, ffn_hidden):
    """Shapes along the base model for a source of 3 tokens and a target input of 4 (start token + 3), on random
    numbers; each function is the package's (numeric) or the reference's."""
    from mhasym.catalog.checks import layer_parameters

    g = np.random.default_rng(_CAUSAL_SEED)
    d = _WALK["d_model"]
    enc_p, dec_p = layer_parameters(_WALK, decoder=False), layer_parameters(_WALK, decoder=True)
    source = g.standard_normal((3, d)) + positional(3, d)
    memory = encoder(source, enc_p)
    target = g.standard_normal((4, d)) + positional(4, d)
    w_q, w_k = dec_p["self_attn"]["w_q"][0], dec_p["self_attn"]["w_k"][0]
    self_weights = attention(target @ w_q, target @ w_k, np.eye(4))  # with V = I the output is the weights
    cross_weights = attention(target @ dec_p["cross_attn"]["w_q"][0], memory @ dec_p["cross_attn"]["w_k"][0], np.eye(3))
    hidden = ffn_hidden(target, dec_p["ffn"])
    out = decoder(target, memory, dec_p)
    return [tuple(int(x) for x in a.shape) for a in (source, memory, target, self_weights, cross_weights, hidden, out)]


def _walk_solve():
    return _walk(numeric.scaled_dot_product_attention, numeric.positional_encoding, numeric.encoder_layer,
                 numeric.decoder_layer, lambda x, f: np.maximum(x @ f["w_1"] + f["b_1"], 0))


def _walk_verify(value):
    want = _walk(reference.scaled_dot_product_attention, reference.positional_encoding, reference.encoder_layer,
                 reference.decoder_layer, lambda x, f: np.maximum(x @ f["w_1"] + f["b_1"], 0))
    return value == want, "shapes from mhasym.numeric's layers vs mhasym.reference's, base model, random numbers"


def _shape(t):
    return " × ".join(f"{x:,}" for x in t)


register(Exercise(
    "ex.transformer.walk", "transformer", "shapes",
    T("Follow a translation through the base model: a source sentence of 3 tokens, and a target of 4 tokens (3 "
      "words and the end-of-sentence token). In training the decoder's input is the target shifted right: the "
      "start token, then the first 3 target tokens, 4 positions. Give the shape of: the source after "
      "embedding and positional encoding; the encoder's output; the decoder's input; one head's weights in the "
      "decoder's self-attention; one head's weights in its cross-attention; the feed-forward network's hidden "
      "layer; the decoder layer's output; and the output probabilities, with a vocabulary of 37,000 tokens.",
      "跟着一次翻译走过基础模型：源句子有 3 个词元，目标有 4 个词元（3 个词和句末词元）。训练时解码器的输入是右移一位的目标："
      "起始词元，然后是前 3 个目标词元，共 4 个位置。"
      "写出以下各项的形状：源句子经过词嵌入和位置编码之后；编码器的输出；解码器的输入；解码器自注意力中一个头的权重；"
      "交叉注意力中一个头的权重；前馈网络的隐藏层；解码器层的输出；以及词表为 37,000 个词元时的输出概率。"),
    _walk_solve, _walk_verify,
    lambda v: Answer(T(f"Source {_shape(v[0])}; encoder output {_shape(v[1])} after each of the 6 layers (one row per "
                       f"source token); decoder input {_shape(v[2])}; self-attention weights {_shape(v[3])} (each "
                       f"position over the positions up to it); cross-attention weights {_shape(v[4])} (each target "
                       f"position over the source tokens); hidden layer {_shape(v[5])}; decoder output {_shape(v[6])}; "
                       f"output probabilities {v[6][0]} × 37,000, one distribution over the vocabulary per position.",
                       f"源句子 {_shape(v[0])}；编码器输出 {_shape(v[1])}，6 层中每层之后都是这个形状（每个源词元一行）；"
                       f"解码器输入 {_shape(v[2])}；自注意力权重 {_shape(v[3])}（每个位置对截至它的各位置）；"
                       f"交叉注意力权重 {_shape(v[4])}（每个目标位置对各源词元）；隐藏层 {_shape(v[5])}；"
                       f"解码器输出 {_shape(v[6])}；输出概率 {v[6][0]} × 37,000，每个位置一个词表上的分布。")),
))


# Parameters and cost

def _base_solve():
    from mhasym.model.cost import parameter_count

    return parameter_count(512, 8, 2048, 6, 37000)


def _parts():
    """The base model's encoder layer, decoder layer and embedding, from the catalog's formulas (mhasym.model.cost)."""
    from mhasym.model.cost import decoder_layer_parameters, encoder_layer_parameters

    sizes = {notation.dim(k): v for k, v in {"d_model": 512, "h": 8, "d_ff": 2048, "d_k": 64, "d_v": 64}.items()}
    return (int(encoder_layer_parameters().xreplace(sizes)), int(decoder_layer_parameters().xreplace(sizes)), 37000 * 512)


def _base_verify(value):
    d, ff, N, V = 512, 2048, 6, 37000
    attention = 4 * d * d
    ffn = d * ff + ff + ff * d + d
    norm = 2 * d
    encoder = attention + ffn + 2 * norm
    decoder = 2 * attention + ffn + 3 * norm
    return value == N * (encoder + decoder) + V * d, "the catalog's count vs a sum written out by hand"


register(Exercise(
    "ex.cost.base_parameters", "cost", "parameters",
    T("Count the parameters of the base model: [[d_model]] = 512, h = 8, [[d_ff]] = 2048, N = 6, a shared vocabulary "
      "of 37,000 tokens and one embedding matrix.",
      "数一数基础模型的参数：[[d_model]] = 512，h = 8，[[d_ff]] = 2048，N = 6，共享词表 37,000 个词元，一个嵌入矩阵。"),
    _base_solve, _base_verify,
    lambda v: Answer(T(f"{_count(v)}, about 63.0M: 6 encoder layers of {_count(_parts()[0])}, 6 decoder layers of "
                       f"{_count(_parts()[1])} and the embedding matrix of {_count(_parts()[2])} (37,000 × 512). "
                       "The paper's Table 3 says 65M (it does not say how it counted).",
                       f"{_count(v)}，约 6300 万：6 个编码器层各 {_count(_parts()[0])}，6 个解码器层各 {_count(_parts()[1])}，"
                       f"嵌入矩阵 {_count(_parts()[2])}（37,000 × 512）。论文表 3 写的是 6500 万（论文没有说明它是怎么计数的）。")),
))


def _ops_solve():
    """The model's count of multiply-adds (cost.matmul_operations) of one head's Q K^T and A V, times h."""
    from mhasym.model.cost import matmul_operations

    n, h, d_k = 128, 8, 64
    Q, K = notation.matrix("Q", n, d_k), notation.matrix("K", n, d_k)
    A, V = notation.matrix("A", n, n), notation.matrix("V", n, d_k)
    return h * int(matmul_operations(MatMul(Q, Transpose(K))) + matmul_operations(MatMul(A, V)))


register(Exercise(
    "ex.cost.attention_ops", "cost", "computation",
    T("How many multiply-adds do the scores [[expr:QK_T]] and the product [[expr:A_V]] take for n = 128 tokens and "
      "[[d_model]] = 512 (all heads together)?",
      "当 n = 128、[[d_model]] = 512 时，得分 [[expr:QK_T]] 和乘积 [[expr:A_V]] 共需要多少次乘加（所有头合计）？"),
    _ops_solve,
    lambda v: (v == 2 * 128 * 128 * 512, "the model's count of the products (8 heads of d_k = 64) vs 2 n^2 d_model by hand"),
    lambda v: Answer(T(f"2 [[n:sq]] [[d_model]] = {_count(v)}.", f"2 [[n:sq]] [[d_model]] = {_count(v)}。")),
))


def _lrate_solve():
    from mhasym.catalog.registry import formula
    from mhasym.model.expressions import value_of

    definition, warm = formula("tr.learning_rate").expr.args
    rule = value_of(definition.rhs).xreplace({notation.dim("d_model"): 512, notation.scalar("warmup"): warm.rhs})
    return [float(rule.xreplace({notation.scalar("step"): s})) for s in (1000, 4000, 16000)]


register(Exercise(
    "ex.cost.learning_rate", "cost", "computation",
    T("With [[d_model]] = 512 and 4000 warm-up steps, what is the learning rate at steps 1000, 4000 and 16000?",
      "[[d_model]] = 512、预热 4000 步时，第 1000、4000、16000 步的学习率各是多少？"),
    _lrate_solve,
    lambda v: (_close(v, [reference.learning_rate(s, 512) for s in (1000, 4000, 16000)], 1e-15),
               "the catalog's schedule (tr.learning_rate) vs mhasym.reference.learning_rate"),
    lambda v: Answer(T(f"{v[0]:.2e}, {v[1]:.2e} (the peak, at the end of warm-up) and {v[2]:.2e}: it rises linearly, "
                       "then falls like [[expr:inv_sqrt_step]].",
                       f"{v[0]:.2e}、{v[1]:.2e}（峰值，在预热结束时）和 {v[2]:.2e}：先线性上升，然后按 [[expr:inv_sqrt_step]] 下降。")),
))


# Derivations

def _variance_solve():
    from mhasym.catalog import proofs
    from mhasym.catalog.derivation import derivation

    step = derivation("deriv.scaling").steps[2]  # Var[q . k] = sum E[q_t^2] E[k_t^2]
    d_k = 16
    q, k = sp.IndexedBase("q"), sp.IndexedBase("k")
    names = [q[x] for x in range(1, d_k + 1)] + [k[x] for x in range(1, d_k + 1)]
    from mhasym.model.expressions import value_of

    e = value_of(proofs.at_sizes(step.lhs, {"d_k": d_k}).replace(lambda x: isinstance(x, sp.Sum), proofs._sum_out))
    inner = e.args[0]  # Var[q . k]: the dot product written out
    assume = frozenset({"mean 0", "variance 1"})
    return int(proofs.expectation(inner ** 2, names, assume) - proofs.expectation(inner, names, assume) ** 2)


def _variance_verify(value):
    g = np.random.default_rng(3)
    q, k = g.normal(size=(200000, 16)), g.normal(size=(200000, 16))
    sampled = float(np.var(np.sum(q * k, axis=1)))
    return abs(sampled - value) < 0.03 * value, f"the derivation's value vs the variance of 200,000 samples ({sampled:.2f})"


register(Exercise(
    "ex.derivations.variance", "derivations", "computation",
    T("q and k have [[d_k]] = 16 independent entries with mean 0 and variance 1. What is the variance of q · k, and of "
      "q · k / [[sqrt:d_k]]?",
      "q 和 k 各有 [[d_k]] = 16 个独立分量，均值 0、方差 1。q · k 的方差是多少？q · k / [[sqrt:d_k]] 的呢？"),
    _variance_solve, _variance_verify,
    lambda v: Answer(T(f"{v} and 1: the sum of {v} products of variance 1, then divided by {int(math.sqrt(v))}² = {v}.",
                       f"{v} 和 1：{v} 个方差为 1 的乘积之和，再除以 {int(math.sqrt(v))}² = {v}。")),
))


def _jacobian_solve():
    from mhasym.catalog.derivation import derivation

    step = derivation("deriv.softmax_jacobian").steps[-1]
    a = sp.IndexedBase("a")
    i, j = notation.scalar("i"), notation.scalar("j")
    weights = {a[1]: sp.Rational(1, 3), a[2]: sp.Rational(2, 3)}
    from mhasym.model.expressions import value_of

    rhs = value_of(step.rhs)
    return [[rhs.xreplace({i: r, j: c}).xreplace(weights) for c in (1, 2)] for r in (1, 2)]


def _jacobian_verify(value):
    s, h = np.array([[0.0, math.log(2.0)]]), 1e-6
    numeric_jacobian = np.zeros((2, 2))
    for c in range(2):
        up, down = s.copy(), s.copy()
        up[0, c] += h
        down[0, c] -= h
        numeric_jacobian[:, c] = (reference.softmax_rows(up) - reference.softmax_rows(down))[0] / (2 * h)
    return _close(np.array(value, dtype=float), numeric_jacobian, 1e-8), "the derivation's a_i(δ_ij − a_j) vs finite differences"


register(Exercise(
    "ex.derivations.jacobian", "derivations", "computation",
    T("The scores of one row are s = (0, ln 2), so the weights are a = (1/3, 2/3). What is the Jacobian of the softmax there?",
      "某一行的得分是 s = (0, ln 2)，于是权重 a = (1/3, 2/3)。此处 softmax 的雅可比矩阵是什么？"),
    _jacobian_solve, _jacobian_verify,
    lambda v: Answer(T("The derivation's [[expr:jacobian_entry]], here with a = (1/3, 2/3): each row sums to 0.", "即推导中的 [[expr:jacobian_entry]]，这里 a = (1/3, 2/3)：每行之和为 0。"),
                     sp.Matrix(v)),
))

_QB, _KB, _VB = np.array([[1.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]])
_DZ = np.array([[1.0, 2.0]])


def _dv_solve():
    return numeric.attention_backward(_QB, _KB, _VB, _DZ)


register(Exercise(
    "ex.derivations.backward", "derivations", "computation",
    T("One query q = (1, 0) and two identical keys, both (1, 1), so [[A]] = (1/2, 1/2); the values are (1, 0) and "
      "(0, 1), and the upstream gradient of the output is [[expr:dZ]] = (1, 2). What are [[expr:dV]] and [[expr:dQ]]?",
      "一个查询 q = (1, 0)，两个完全相同的键，都是 (1, 1)，于是 [[A]] = (1/2, 1/2)；两个值是 (1, 0) 和 (0, 1)，"
      "输出的上游梯度是 [[expr:dZ]] = (1, 2)。[[expr:dV]] 和 [[expr:dQ]] 各是多少？"),
    _dv_solve,
    lambda v: (all(_close(a, b) for a, b in zip(v, reference.attention_backward(_QB, _KB, _VB, _DZ))),
               "mhasym.numeric.attention_backward (compiled from the derivation) vs mhasym.reference"),
    lambda v: Answer(T("[[expr:dV_matrix]]: each key's value row gets half of [[expr:dZ]] (below). [[expr:dQ_zero]]: the keys are identical, "
                       "so moving the query changes both scores alike and the weights stay (1/2, 1/2).",
                       "[[expr:dV_matrix]]：每个键的值行得到 [[expr:dZ]] 的一半（见下）。[[expr:dQ_zero]]：两个键完全相同，移动查询会同等地改变两个得分，"
                       "权重仍是 (1/2, 1/2)。"), _matrix(v[2])),
))


# Common mistakes

def _which(fid):
    def solve():
        from mhasym.catalog.mistakes import MISTAKES
        from mhasym.catalog.registry import formula

        shown = formula(fid).expr
        return [m.id for m in MISTAKES.values() if m.wrong() == shown]

    return solve


def _caught(value):
    from mhasym.catalog.mistakes import MISTAKES, caught, detect

    if len(value) != 1:
        return False, f"{len(value)} mistakes match"
    m = MISTAKES[value[0]]
    return caught(m, detect(m)), "the rewrite that gives the formula shown, run through its right formula's check"


def _named(value):
    from mhasym.catalog.mistakes import MISTAKES

    m = MISTAKES[value[0]]
    kind = {"en": "an error" if m.kind == "error" else "a convention that differs from the paper",
            "zh": "错误" if m.kind == "error" else "与论文不同的约定"}
    return Answer(T(f"{m.title.en}: {kind['en']}. {m.why.en}", f"{m.title.zh}：{kind['zh']}。{m.why.zh}"))


for _id, _en, _zh in (
    ("scale_d_model", "A tutorial writes [[mistake.scale_d_model]]. What is wrong?", "某教程写成 [[mistake.scale_d_model]]。错在哪里？"),
    ("v_times_a", "A test passes for [[mistake.v_times_a]] when n = m = [[d_v]]. What is wrong, and why did the test not see it?",
     "当 n = m = [[d_v]] 时，[[mistake.v_times_a]] 通过了某个测试。错在哪里？测试为什么没发现？"),
    ("pe_concatenated", "An implementation writes [[mistake.pe_concatenated]]. Is it an error or another convention?",
     "某实现写成 [[mistake.pe_concatenated]]。这是错误，还是另一种约定？"),
):
    register(Exercise(f"ex.mistakes.{_id}", "mistakes", "mistake", T(_en, _zh), _which(f"mistake.{_id}"), _caught, _named))
