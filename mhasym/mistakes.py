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
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, Transpose

from . import attention, notation, reference, transformer
from .catalog import Text
from .checks import LAYER_SIZES, SEED, SIZES, CheckResult, attention_inputs, compare_arrays, layer_parameters, rng
from .compile import compile_function
from .errors import MhasymError
from .expressions import (Aligned, Call, Concat, Frac, Group, Minus, Plus, Relation, Residual, Scaled, Softmax,
                          SplitHeads, Sub, Times, let_steps)


@dataclass(frozen=True)
class Mistake:
    """A wrong version: what it is, the right catalog formula, the wrong formula and its numbers."""

    id: str
    title: Text
    right: str  # catalog id of the right formula
    level: str  # "attention", "multihead" or "layer": which inputs and which reference
    wrong: Callable  # () -> the wrong formula as a SymPy relation, for display
    run: Callable  # (inputs, sizes) -> the wrong numbers; may raise MhasymError (a shape check)
    reference: Callable | None = None  # (inputs) -> the right numbers, for "layer" mistakes


def _sizes(values: dict | None = None):
    return attention.Sizes.of(**(values or {}))


def _scores(s, scale=None):
    Q, K, _ = s.qkv()
    return Scaled(MatMul(Q, Transpose(K)), sp.sqrt(s.d_k) if scale is None else scale)


def _lhs(s):
    Q, K, V = s.qkv()
    return attention.attention_call(Q, K, V)


def _attention_variant(build: Callable, extra_args=()):
    """Display and numbers for a wrong scaled dot-product attention ``build(s)``."""

    def wrong():
        s = _sizes()
        return Relation(_lhs(s), build(s))

    def run(x, sizes):
        s = _sizes(sizes)
        Q, K, V = s.qkv()
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
    _, _, V = s.qkv()
    return MatMul(Softmax(_scores(s, sp.sqrt(s.d_model))), V)


def _softmax_columns(s):
    _, _, V = s.qkv()
    return MatMul(Softmax(_scores(s), axis=0), V)


def _v_times_a(s):
    _, _, V = s.qkv()
    return V, Softmax(_scores(s))


def _a_transposed_v(s):
    _, _, V = s.qkv()
    return Transpose(Softmax(_scores(s))), V


def _keys_as_values(s):
    _, K, _ = s.qkv()
    return MatMul(Softmax(_scores(s)), K)


def _mask_after_softmax(s):
    _, _, V = s.qkv()
    return MatMul(HadamardProduct(Softmax(_scores(s)), notation.matrix("B", s.n, s.m)), V)


def _mask_inverted(s):
    _, _, V = s.qkv()
    return MatMul(Softmax(MatAdd(_scores(s), notation.matrix("M", s.n, s.m))), V)


def _show_inverted_mask():
    """The additive mask built with the opposite polarity: minus infinity where B says "may attend"."""
    s = _sizes()
    i, j = notation.scalar("i"), notation.scalar("j")
    B = sp.IndexedBase(sp.Symbol("B"))
    rule = sp.Piecewise((sp.S.Zero, sp.Eq(B[i, j], 0)), (-sp.oo, True), evaluate=False)
    return Relation(MatrixElement(notation.matrix("M", s.n, s.m), i, j), rule)


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

def _inputs(s):
    """The query and key/value sequences of a multi-head block."""
    return notation.matrix("X", s.n, s.d_model), notation.matrix("X_kv", s.m, s.d_model)


def _heads(s, X_q, X_kv):
    return [attention.head(s, i, X_q, X_kv) for i in s.head_indices()]


def _run_multihead(build):
    def run(x, sizes):
        s = _sizes(sizes)
        X_q, X_kv = _inputs(s)
        run = compile_function([X_q, X_kv, *attention.weights(s)], build(s, X_q, X_kv))
        return run(x["x_q"], x["x_kv"], *x["w_q"], *x["w_k"], *x["w_v"], x["w_o"])

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
        X_q, X_kv = _inputs(s)
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
    add("scale_d_model", t("Scaling by [[sqrt:d_model]] instead of [[sqrt:d_k]]", "除以 [[sqrt:d_model]] 而不是 [[sqrt:d_k]]"),
        "attention.sdpa", "attention", w, r)
    w, r = _attention_variant(_softmax_columns, [_Arg(lambda s: s.d_k, lambda x, sz: sz["d_k"])])
    add("softmax_columns", t("Softmax over the wrong axis (each column)", "在错误的轴上做 softmax（按列）"),
        "attention.softmax", "attention", w, r)
    add("v_times_a", t("[[V]] [[A]] instead of [[A]] [[V]]", "写成 [[V]] [[A]] 而不是 [[A]] [[V]]"), "attention.sdpa", "attention",
        *_shape_checked(_v_times_a))
    add("a_transposed_v", t("[[A]] transposed before multiplying by [[V]]", "先把 [[A]] 转置再乘以 [[V]]"), "attention.sdpa", "attention",
        *_shape_checked(_a_transposed_v))
    w, r = _attention_variant(_keys_as_values, [_Arg(lambda s: s.d_k, lambda x, sz: sz["d_k"])])
    add("keys_as_values", t("Keys where values belong", "把键当作值使用"), "attention.sdpa", "attention", w, r)
    w, r = _attention_variant(_mask_after_softmax, [_Arg(lambda s: s.d_k, lambda x, sz: sz["d_k"]), _MASK_01])
    add("mask_after_softmax", t("Mask applied after the softmax", "在 softmax 之后才施加掩码"),
        "attention.masked", "attention", w, r)
    _, r = _attention_variant(_mask_inverted, [_Arg(lambda s: s.d_k, lambda x, sz: sz["d_k"]), _MASK_INVERTED])
    w = _show_inverted_mask
    add("mask_polarity", t("Mask polarity inverted (True read as 'masked out')",
                           "掩码极性颠倒（把 True 当作“屏蔽”）"),
        "masks.boolean_to_additive", "attention", w, r)

    def summed_run(x, sizes):
        s = _sizes(sizes)
        X_q, X_kv = _inputs(s)
        _summed(s, X_q, X_kv)
        raise MhasymError("shape check passed unexpectedly")  # pragma: no cover

    add("heads_summed", t("Head outputs summed instead of concatenated", "把各头输出相加而不是拼接"),
        "mha.multihead", "multihead", _wrong_general("summed"), summed_run)
    add("no_w_o", t("[[W_O]] left out", "遗漏输出投影 [[W_O]]"), "mha.multihead", "multihead",
        _wrong_general("without"), _run_multihead(_without_w_o))
    add("reshape_without_transpose", t("Heads split by reshape without the transpose",
                                       "拆分多头时只做 reshape 而没有 transpose"),
        "id.split_heads", "multihead", _wrong_general("reshape"), _run_multihead(_reshape_without_transpose))
    for mistake in _layer_mistakes():
        found[mistake.id] = mistake
    return found


def _reference(level: str, x: dict, masked: bool):
    mask = x["mask"] if masked else None
    if level == "attention":
        return reference.scaled_dot_product_attention(x["q"], x["k"], x["v"], mask)
    return reference.multi_head_attention(x["x_q"], x["x_kv"], x["w_q"], x["w_k"], x["w_v"], x["w_o"], mask)


def layer_inputs(sizes: dict = LAYER_SIZES, seed: int = SEED) -> dict:
    """Inputs for the Transformer-level mistakes: sequences, layer parameters, a mask with an empty row."""
    g = rng(seed)
    n, m, d_model = sizes["n"], sizes["m"], sizes["d_model"]
    mask = np.ones((n, m), bool)
    mask[n - 1] = False
    return {"x": g.normal(size=(n, d_model)), "memory": g.normal(size=(m, d_model)),
            "p": layer_parameters(sizes, seed), "p_dec": layer_parameters(sizes, seed, decoder=True),
            "q": g.normal(size=(n, 3)), "k": g.normal(size=(m, 3)), "v": g.normal(size=(m, 2)),
            "empty_row_mask": mask, "positions": 9}


def detect(mistake: Mistake, sizes: dict | None = None, seed: int = SEED) -> CheckResult:
    """Run the wrong version through the checks; ``passed`` is False when it is caught."""
    layer = mistake.level == "layer"
    sizes = dict(sizes or (LAYER_SIZES if layer else SIZES))
    x = layer_inputs(sizes, seed) if layer else attention_inputs(sizes, seed)
    what = f"wrong version ({mistake.id}) vs reference"
    try:
        got = mistake.run(x, sizes)
    except MhasymError as exc:
        return CheckResult(mistake.id, "shape", what, False, sizes, seed, detail=f"shape check: {exc}")
    try:
        want = mistake.reference(x) if layer else _reference(mistake.level, x, mistake.id.startswith("mask"))
    except ValueError as exc:
        return CheckResult(mistake.id, "numeric", what, False, sizes, seed,
                           detail=f"the reference refuses this input ({exc}); the wrong version returned numbers")
    with np.errstate(invalid="ignore", divide="ignore"):
        return compare_arrays(mistake.id, what, got, want, sizes, seed)




# Mistakes around attention: LayerNorm placement and formula, positional encoding, decoder wiring, masks.

def _compiled_layer(kind, norm, sizes, mask=True, cross_queries_from_memory=False):
    """A layer built from the symbolic pieces, with one wiring choice changed, compiled."""
    s = transformer.Sizes.of(h=sizes["h"])
    X, memory = s.X("X", s.n), notation.matrix("memory", s.m, s.d_model)
    norms = [w for k in (1, 2, 3) for w in s.norm_weights(k)][: 4 if kind == "encoder" else 6]
    if kind == "encoder":
        expr = transformer.encoder_layer(s, X, norm)
        blocks = attention.weights(s.attention(s.n, s.n))
        args = [X, *blocks, *s.ffn_weights(), *norms, s.d_k, transformer.epsilon()]
    else:
        M = notation.matrix("M", s.n, s.n) if mask else None
        if cross_queries_from_memory:
            # the encoder output is used as the queries of the cross-attention
            H1 = transformer.sublayer(X, lambda z: transformer._self_attention(s, z, M), norm,
                                      lambda z: transformer.layer_norm(s, z, 1))
            cross = attention.multi_head(s.attention(s.m, s.m), memory, memory, block="x")
            expr = transformer.layer_norm(s, Residual(H1, cross), 2)
        else:
            expr = transformer.decoder_layer(s, X, memory, norm, mask=M)
        blocks = attention.weights(s.attention(s.n, s.n)) + attention.weights(s.attention(s.n, s.m), "x")
        args = [X, memory, *blocks, *s.ffn_weights(), *norms] + ([M] if M is not None else []) + \
            [s.d_k, transformer.epsilon()]
    return compile_function(args, expr)


def _weights(p, blocks):
    out = []
    for b in blocks:
        out += [*p[b]["w_q"], *p[b]["w_k"], *p[b]["w_v"], p[b]["w_o"]]
    f = p["ffn"]
    out += [f["w_1"], f["b_1"][None, :], f["w_2"], f["b_2"][None, :]]
    for k in (1, 2, 3):
        if f"norm_{k}" in p:
            out += [p[f"norm_{k}"]["gamma"][None, :], p[f"norm_{k}"]["beta"][None, :]]
    return out


def _layer_mistakes():
    t = Text
    eps = 1e-5
    d_k = lambda x: x["p"]["self_attn"]["w_q"].shape[2]  # noqa: E731
    ln_sym = lambda **kw: transformer.layer_norm(transformer.Sizes.of(), notation.matrix("X", "n", "d_model"), 1, **kw)  # noqa: E731

    def ln_run(**flags):
        def run(x, sizes):
            s = transformer.Sizes.of()
            X = notation.matrix("X", "n", "d_model")
            f = compile_function([X, *s.norm_weights(1), transformer.epsilon()], ln_sym(**flags))
            g = x["p"]["norm_1"]
            return f(x["x"], g["gamma"][None, :], g["beta"][None, :], eps)
        return run

    def ln_reference(x):
        g = x["p"]["norm_1"]
        return reference.layer_norm(x["x"], g["gamma"], g["beta"], eps)

    def pre_for_post(x, sizes):
        f = _compiled_layer("encoder", "pre", sizes)
        return f(x["x"], *_weights(x["p"], ["self_attn"]), d_k(x), eps)

    def no_causal(x, sizes):
        f = _compiled_layer("decoder", "post", sizes, mask=False)
        return f(x["x"], x["memory"], *_weights(x["p_dec"], ["self_attn", "cross_attn"]), d_k(x), eps)

    def cross_from_memory(x, sizes):
        f = _compiled_layer("decoder", "post", sizes, cross_queries_from_memory=True)
        return f(x["x"], x["memory"], *_weights(x["p_dec"], ["self_attn", "cross_attn"]),
                 np.zeros((len(x["x"]),) * 2), d_k(x), eps)

    def pe_blocks(x, sizes):
        pos, col, d = sp.Symbol("pos"), sp.Symbol("col"), notation.dim("d_model")
        half = d / 2
        entry = sp.Piecewise((sp.sin(transformer.pe_angle(pos, 2 * col, d)), col < half),
                             (sp.cos(transformer.pe_angle(pos, 2 * (col - half), d)), True))
        f = compile_function([pos, col, d], entry)
        n, dm = x["positions"], sizes["d_model"]
        return np.broadcast_to(f(np.arange(n)[:, None] * 1.0, np.arange(dm)[None, :], dm), (n, dm))

    def constant_mask(x, sizes):
        q, k, v, mask = x["q"], x["k"], x["v"], x["empty_row_mask"]
        s = q @ k.T / np.sqrt(q.shape[1])
        s = np.where(mask, s, -1e9)  # masked_fill with a large negative constant
        w = np.exp(s - s.max(axis=1, keepdims=True))
        return (w / w.sum(axis=1, keepdims=True)) @ v

    def show_layer(kind, norm, **kw):
        def wrong():
            s = transformer.Sizes.of()
            X, memory = s.X("X" if kind == "encoder" else "Y", s.n), notation.matrix("memory", s.m, s.d_model)
            if kind == "encoder":
                lhs = attention.Apply("EncoderLayer", X.shape, X)
                out = transformer.encoder_layer(s, X, norm, expand=False, steps=True)
            else:
                lhs = attention.Apply("DecoderLayer", X.shape, X, memory)
                out = transformer.decoder_layer(s, X, memory, norm, expand=False, steps=True, **kw)
            rows = [Relation(step.name, step.value) for step in let_steps(out)]
            return Aligned(*rows, Relation(lhs, out))
        return wrong

    def _ln_symbols():
        x = sp.IndexedBase(sp.Symbol("x"))
        gamma, beta = sp.IndexedBase(sp.Symbol("gamma")), sp.IndexedBase(sp.Symbol("beta"))
        j, k = notation.scalar("j"), notation.scalar("k")
        return x, gamma, beta, j, k, notation.scalar("mu"), notation.scalar("sigma"), notation.scalar("epsilon")

    def show_unbiased():
        x, _, _, _, k, mu, sigma, _ = _ln_symbols()
        d = notation.dim("d_model")
        return Relation(sigma**2, Times(Frac(1, Minus(d, 1)), sp.Sum(Minus(x[k], mu) ** 2, (k, 1, d))))

    def show_eps_outside():
        x, gamma, beta, j, _, mu, sigma, eps = _ln_symbols()
        return Relation(Sub(Call("LayerNorm", sp.Symbol("x")), j),
                        Plus(Times(gamma[j], Frac(Minus(x[j], mu), Plus(sigma, eps))), beta[j]))

    def show_pe():
        pos, i, d = notation.scalar("pos"), notation.scalar("i"), notation.dim("d_model")
        angle = Frac(pos, sp.Pow(10000, Frac(2 * i, d), evaluate=False))
        return Group(Relation(Call("PE", pos, i), sp.sin(angle)),
                     Relation(Call("PE", pos, Plus(Frac(d, 2), i)), sp.cos(angle)))

    def show_cross():
        s = transformer.Sizes.of()
        memory = notation.matrix("memory", s.m, s.d_model)
        H1 = notation.matrix("H", s.n, s.d_model, 1)
        return Relation(notation.matrix("H", s.m, s.d_model, 2),
                        attention.Apply("MultiHead", (s.m, s.d_model), memory, memory, H1))

    def show_constant():
        S, B = sp.IndexedBase(sp.Symbol("S")), sp.IndexedBase(sp.Symbol("B"))
        filled_scores = sp.IndexedBase(sp.Symbol("S_filled"))
        i, j = notation.scalar("i"), notation.scalar("j")
        filled = sp.Piecewise((S[i, j], sp.Eq(B[i, j], 1)), (-sp.Pow(10, 9, evaluate=False), True), evaluate=False)
        return Relation(filled_scores[i, j], filled)

    layer = lambda x: reference.encoder_layer(x["x"], x["p"], "post", eps)  # noqa: E731
    decoder = lambda x: reference.decoder_layer(x["x"], x["memory"], x["p_dec"], "post", eps)  # noqa: E731
    return [
        Mistake("pre_ln_for_post", t("Pre-LN where the paper's post-LN is meant", "把 Pre-LN 当作论文的 Post-LN"),
                "tr.encoder_layer", "layer", show_layer("encoder", "pre"), pre_for_post, layer),
        Mistake("unbiased_variance", t("LayerNorm with the unbiased variance (divide by [[d_model]] − 1)",
                                       "层标准化使用无偏方差（除以 [[d_model]] − 1）"),
                "tr.layer_norm", "layer", show_unbiased, ln_run(unbiased=True), ln_reference),
        Mistake("eps_outside_sqrt", t("[[epsilon]] outside the square root", "[[epsilon]] 放在平方根之外"),
                "tr.layer_norm", "layer", show_eps_outside, ln_run(eps_inside=False), ln_reference),
        Mistake("pe_concatenated", t("Sines and cosines as two blocks instead of interleaved",
                                     "正弦和余弦分成两块，而不是交错排列"),
                "tr.positional_encoding", "layer", show_pe, pe_blocks,
                lambda x: reference.positional_encoding(x["positions"], x["p"]["ffn"]["w_1"].shape[0])),
        Mistake("decoder_without_mask", t("Decoder self-attention without the causal mask",
                                          "解码器自注意力没有因果掩码"),
                "tr.decoder_layer", "layer", show_layer("decoder", "post"), no_causal, decoder),
        Mistake("cross_queries_from_encoder", t("Cross-attention taking its queries from the encoder",
                                                "交叉注意力的查询取自编码器"),
                "masks.cross_attention", "layer", show_cross, cross_from_memory, decoder),
        Mistake("fully_masked_row_uniform", t("A fully masked row turned into a uniform row",
                                              "被完全屏蔽的一行变成了均匀分布"),
                "masks.boolean_to_additive", "layer", show_constant, constant_mask,
                lambda x: reference.scaled_dot_product_attention(x["q"], x["k"], x["v"], x["empty_row_mask"])),
    ]


MISTAKES = _make()
