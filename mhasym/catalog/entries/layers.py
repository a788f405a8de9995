"""The Transformer: embedding and positional encoding, LayerNorm, feed-forward, residual + norm,
encoder and decoder layers, stacks of N = 6. The lecture notebook describes these in words; the
formulas follow the paper."""

from __future__ import annotations

import numpy as np
import sympy as sp

from mhasym.model import notation, paper, transformer
from mhasym import reference
from mhasym.catalog.registry import register
from mhasym.catalog.text import Text
from mhasym.catalog.checks import (EPSILON, LAYER_SIZES, SEED, CheckResult, Inputs, compare_arrays, failed, layer_bindings,
                      layer_parameters, numeric as run_and_compare, rng)
from mhasym.model.expressions import Aligned, Apply, Call, Frac, Group, Minus, Plus, Relation, Stack, Sub, Times, value_of
from mhasym.catalog.entries.sources import PAPER, cite as _text

NOTEBOOK_AND_PAPER = Text(
    "The lecture notebook describes this in words; the formula follows “Attention Is All You Need”.",
    "课程笔记只用文字描述了这一部分；公式依据论文《Attention Is All You Need》。")


def _sizes():
    return transformer.Sizes.of()


def _inputs(seed=SEED, sizes=LAYER_SIZES):
    g = rng(seed)
    s = sizes
    return g.normal(size=(s["n"], s["d_model"])), g.normal(size=(s["m"], s["d_model"]))


# Embedding and positional encoding

def _embedding():
    s = _sizes()
    return Relation(s.X("X", s.n), transformer.embedding_input(s, s.n))


def _check_embedding(f, expr, sizes=None):
    n, d_model, vocab = 6, 8, 30
    g = rng(SEED)
    table, tokens = g.normal(size=(vocab, d_model)), g.integers(0, vocab, n)
    inputs = Inputs({"E_x": [table[tokens]], "PE": [reference.positional_encoding(n, d_model)]})
    want = table[tokens] * np.sqrt(d_model) + reference.positional_encoding(n, d_model)
    return run_and_compare(f, expr, "the formula, compiled, vs embedding rows * sqrt(d_model) + reference encoding",
                           {"n": n, "d_model": d_model}, inputs, want, shown_sizes={"n": n, "d_model": d_model, "vocab": vocab})


register(
    "tr.embedding", "transformer",
    Text("Input of the encoder and decoder", "编码器和解码器的输入"),
    _text("[[E_x]] holds the rows of the embedding matrix [[E]] ([[vocab]] × [[d_model]], one row per vocabulary entry) "
          "for the n tokens of the sequence; they are multiplied by [[sqrt:d_model]] and the positional encoding "
          "of each position is added. This is the encoder's input X; for the decoder the same formula gives its input Y "
          "from the target tokens shifted right. Embedding and positional encoding are the two encodings the notebook names.",
          "[[E_x]] 是嵌入矩阵 [[E]]（[[vocab]] × [[d_model]]，词表中每个词元一行）中对应序列 n 个词元的那些行；"
          "它们乘以 [[sqrt:d_model]]，再加上各自位置的位置编码。这是编码器的输入 X；对解码器，同一个公式由右移一位的目标词元给出它的输入 Y。"
          "这就是课程笔记提到的 Embedding 和 Positional Encoding 两种编码。",
          PAPER),
    _embedding, _check_embedding,
)


def _pe():
    (lhs1, rhs1), (lhs2, rhs2) = transformer.pe_definition()
    return Group(Relation(lhs1, rhs1), Relation(lhs2, rhs2))


def _check_pe(f, expr, sizes=None):
    """Each line PE(pos, column) = value at every pos and i = 0 .. d_model/2 - 1: the column comes from
    the left-hand side, the value from the right; every column must be written exactly once."""
    n, d_model = 12, 10
    want = reference.positional_encoding(n, d_model)
    pos, i, d = notation.scalar("pos"), notation.scalar("i"), notation.dim("d_model")
    what = "the two formulas at every (pos, column) vs reference.positional_encoding"
    shown = {"positions": n, "d_model": d_model}
    got, written = np.full((n, d_model), np.nan), np.zeros((n, d_model), int)
    try:
        for rel in expr.args:
            for half in range(d_model // 2):
                at = {i: half, d: d_model}
                column = int(value_of(rel.lhs.operands[1]).xreplace(at))
                for p_ in range(n):
                    got[p_, column] = float(value_of(rel.rhs).xreplace({**at, pos: p_}))
                    written[p_, column] += 1
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, shown, exc)
    if (written != 1).any():
        return CheckResult(f.id, "numeric", what, False, shown, detail="some columns are written twice or never")
    return compare_arrays(f.id, what, got, want, shown)


register(
    "tr.positional_encoding", "transformer",
    Text("Sinusoidal positional encoding", "正弦位置编码"),
    _text("Even columns 2i hold the sine and odd columns 2i+1 the cosine of the same angle: the columns "
          "are interleaved, not a block of sines followed by a block of cosines.",
          "偶数列 2i 是正弦，奇数列 2i+1 是同一角度的余弦：两者交错排列，而不是先一块正弦再一块余弦。", PAPER),
    _pe, _check_pe,
)


# LayerNorm, feed-forward, residual

def _layer_norm():
    d = notation.dim("d_model")
    x = sp.IndexedBase(sp.Symbol("x"))
    gamma, beta = sp.IndexedBase(sp.Symbol(r"gamma")), sp.IndexedBase(sp.Symbol("beta"))
    j, k = notation.scalar("j"), notation.scalar("k")
    mu, sigma, eps = notation.scalar("mu"), notation.scalar("sigma"), notation.scalar("epsilon")
    ln = Call("LayerNorm", sp.Symbol("x"))
    return Aligned(
        Relation(mu, Times(Frac(1, d), sp.Sum(x[k], (k, 1, d)))),
        Relation(sigma**2, Times(Frac(1, d), sp.Sum(Minus(x[k], mu) ** 2, (k, 1, d)))),
        Relation(Sub(ln, j),
                 Plus(Times(gamma[j], Frac(Minus(x[j], mu), sp.sqrt(Plus(sigma**2, eps)))), beta[j])),
    )


def _check_layer_norm(f, expr, sizes=None):
    d_model, eps_value = 6, 1e-5
    g = rng(SEED)
    row, gam, bet = g.normal(size=d_model) * 3 + 1, 1 + g.normal(size=d_model), g.normal(size=d_model)
    x = sp.IndexedBase(sp.Symbol("x"))
    gamma, beta = sp.IndexedBase(sp.Symbol("gamma")), sp.IndexedBase(sp.Symbol("beta"))
    j = notation.scalar("j")
    mu_s, sigma, eps, d = (notation.scalar("mu"), notation.scalar("sigma"), notation.scalar("epsilon"),
                           notation.dim("d_model"))
    values = {x[k + 1]: row[k] for k in range(d_model)}
    what = "the formulas on one row vs reference.layer_norm (each line solved for the symbol it defines)"
    shown = {"d_model": d_model, "eps": eps_value}
    try:
        mean_rel, var_rel, out_rel = expr.args
        known = {}
        for rel in (mean_rel, var_rel):
            value = value_of(rel.rhs).xreplace({d: d_model}).doit().xreplace(values).xreplace(known)
            lhs = value_of(rel.lhs)
            unknown = [s for s in lhs.free_symbols if s in (mu_s, sigma)][0]
            if lhs == unknown:
                known[unknown] = sp.Float(value)
            elif isinstance(lhs, sp.Pow) and lhs.base == unknown and lhs.exp.is_number:
                known[unknown] = sp.Float(value) ** (1 / lhs.exp)  # sigma^2 = v: sigma = v^(1/2)
            else:
                roots = [r for r in sp.solve(sp.Eq(lhs, value), unknown) if r.is_real]
                known[unknown] = sp.Float(max(roots) if unknown == sigma else roots[0])
        got = [float(value_of(out_rel.rhs).xreplace({j: c + 1}).xreplace(
            {x[c + 1]: row[c], gamma[c + 1]: gam[c], beta[c + 1]: bet[c], eps: eps_value, **known}))
            for c in range(d_model)]
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, shown, exc, SEED)
    want = reference.layer_norm(row[None, :], gam, bet, eps_value)
    return compare_arrays(f.id, what, np.array([got]), want, shown, SEED)


register(
    "tr.layer_norm", "transformer",
    Text("Layer normalisation", "层标准化（又称层归一化，Layer Normalization）"),
    Text("Each position (row) is normalised over its [[d_model]] features, and [[gamma]] and [[beta]] are learned. "
         "The paper gives no formula for it and no [[epsilon]]; it cites Ba et al. (2016), whose variance divides "
         "by [[d_model]] (biased), as here. [[epsilon]] inside the square root is how PyTorch's nn.LayerNorm "
         "writes it (default 1e-5). The lecture notebook only names the layer.",
         "每个位置（每一行）在其 [[d_model]] 个特征上标准化，[[gamma]] 和 [[beta]] 是可学习参数。论文没有给出它的公式，"
         "也没有给出 [[epsilon]]；论文引用了 Ba 等（2016），其方差除以 [[d_model]]（有偏估计），与这里相同。"
         "[[epsilon]] 放在平方根之内是 PyTorch 的 nn.LayerNorm 的写法（默认 1e-5）。课程笔记只提到了这一层的名字。"),
    _layer_norm, _check_layer_norm,
)


def _ffn():
    s = _sizes()
    X = s.X("X", s.n)
    return Relation(transformer.feed_forward(s, X, expand=False), transformer.feed_forward(s, X))


def _check_ffn(f, expr, sizes=None):
    x, memory = _inputs()
    p = layer_parameters()
    w = p["ffn"]
    want = reference.feed_forward(x, w["w_1"], w["b_1"], w["w_2"], w["b_2"])
    return run_and_compare(f, expr, "the formula, compiled, vs reference.feed_forward", dict(LAYER_SIZES),
                           layer_bindings(x, memory, p), want, args=[x],
                           shown_sizes={k: LAYER_SIZES[k] for k in ("n", "d_model", "d_ff")})


register(
    "tr.ffn", "transformer",
    Text("Position-wise feed-forward network", "逐位置前馈网络"),
    _text("Two linear maps with a ReLU between them, applied to every position separately with the same weights: "
          "[[W:1]] ([[d_model]] × [[d_ff]]) with the bias [[b:1]] (1 × [[d_ff]], added to every row), then [[W:2]] "
          "([[d_ff]] × [[d_model]]) with the bias [[b:2]] (1 × [[d_model]]); the inner size is [[d_ff]] (2048 in the base model).",
          "两个线性变换中间夹一个 ReLU，用相同的权重分别作用于每个位置：先是 [[W:1]]（[[d_model]] × [[d_ff]]）加偏置 [[b:1]]"
          "（1 × [[d_ff]]，加到每一行上），再是 [[W:2]]（[[d_ff]] × [[d_model]]）加偏置 [[b:2]]（1 × [[d_model]]）；"
          "中间层大小为 [[d_ff]]（基础模型中为 2048）。", PAPER),
    _ffn, _check_ffn,
)


def _residual(norm):
    def build():
        s = _sizes()
        x = s.X("X", s.n)
        sub = lambda z: Apply("Sublayer", *z.shape, z)  # noqa: E731
        ln = lambda z: Apply("LayerNorm", *z.shape, z)  # noqa: E731
        return Relation(notation.matrix("H", s.n, s.d_model), transformer.sublayer(x, sub, norm, ln))

    def check(f, expr, sizes=None):
        """Sublayer is the reference feed-forward network and LayerNorm the reference layer norm; the
        formula is compared with the wrapping that the paper (post) or pre-LN prescribes."""
        x, memory = _inputs()
        p = layer_parameters()
        w, g = p["ffn"], p["norm_1"]

        def sub(z):
            return reference.feed_forward(z, w["w_1"], w["b_1"], w["w_2"], w["b_2"])

        def ln(z):
            return reference.layer_norm(z, g["gamma"], g["beta"], EPSILON)

        want = ln(x + sub(x)) if norm == "post" else x + sub(ln(x))
        what = ("the formula, compiled, with Sublayer = reference.feed_forward and LayerNorm = reference.layer_norm, "
                f"vs {'LayerNorm(x + Sublayer(x))' if norm == 'post' else 'x + Sublayer(LayerNorm(x))'} computed by the reference")
        return run_and_compare(f, expr, what, dict(LAYER_SIZES), layer_bindings(x, memory, p), want,
                               functions={"Sublayer": sub, "LayerNorm": ln})

    return build, check


register(
    "tr.residual_post", "transformer",
    Text("Residual connection and LayerNorm: post-LN (the paper)", "残差连接与层标准化：Post-LN（论文）"),
    Text("The paper adds the sublayer's output to its input, then normalises. " + PAPER.en,
         "论文先把子层输出与输入相加，再做层标准化。" + PAPER.zh),
    *_residual("post"),
)

register(
    "tr.residual_pre", "transformer",
    Text("Residual connection and LayerNorm: pre-LN", "残差连接与层标准化：Pre-LN"),
    Text("Many later implementations normalise the sublayer's input instead and leave the residual path "
         "untouched; it trains more stably in deep stacks but is not the paper's formula, and the numbers "
         "differ.",
         "许多后来的实现改为对子层的输入做标准化，残差通路保持不变；它在深层网络中训练更稳定，"
         "但不是论文的公式，数值也不同。"),
    *_residual("pre"),
)


def _layer(kind, norm):
    def build():
        s = _sizes()
        if kind == "encoder":
            X = s.X("X", s.n)
            out = transformer.encoder_layer(s, X, norm, expand=False, steps=True)
            lhs = Apply("EncoderLayer", *X.shape, X)
        else:
            X, memory = s.X("Y", s.n), notation.matrix("memory", s.m, s.d_model)
            out = transformer.decoder_layer(s, X, memory, norm, expand=False, steps=True,
                                            mask=notation.matrix("M_causal", s.n, s.n))
            lhs = Apply("DecoderLayer", *X.shape, X, memory)
        from mhasym.model.expressions import let_steps
        rows = [Relation(step.name, step.value) for step in let_steps(out)]
        return Aligned(*rows, Relation(lhs, out))

    def check(f, expr, sizes=None):
        sizes = dict(sizes or LAYER_SIZES)
        x, memory = _inputs(sizes=sizes)
        p = layer_parameters(sizes, decoder=kind == "decoder")
        if kind == "encoder":
            want = reference.encoder_layer(x, p, norm, EPSILON)
        else:
            want = reference.decoder_layer(x, memory, p, norm, EPSILON)
        return run_and_compare(f, expr, f"the formula, compiled, vs reference.{kind}_layer(norm={norm!r})", sizes,
                               layer_bindings(x, memory, p), want, args=[x] if kind == "encoder" else [x, memory])

    return build, check


LAYERS = {
    ("encoder", "post"): (Text("Encoder layer (post-LN, the paper)", "编码器层（Post-LN，论文）"),
                          Text("Multi-head self-attention, then the feed-forward network; each sublayer has a "
                               "residual connection followed by LayerNorm.",
                               "多头自注意力，然后是前馈网络；每个子层都有残差连接，随后是层标准化。")),
    ("encoder", "pre"): (Text("Encoder layer (pre-LN)", "编码器层（Pre-LN）"),
                         Text("The same sublayers with LayerNorm moved onto each sublayer's input.",
                              "相同的子层，但层标准化移到了每个子层的输入上。")),
    ("decoder", "post"): (Text("Decoder layer (post-LN, the paper)", "解码器层（Post-LN，论文）"),
                          Text("Masked (causal) multi-head self-attention, then multi-head attention over the "
                               "encoder output [[memory]] (queries from the decoder), then the feed-forward "
                               "network; three residual + LayerNorm steps. The two attention sublayers have "
                               "separate projections (the second one's are [[Wx_Q:i]], [[Wx_K:i]], [[Wx_V:i]], "
                               "[[Wx_O]]).",
                               "带掩码（因果）的多头自注意力，然后是对编码器输出 [[memory]] 的多头注意力（查询来自解码器），"
                               "最后是前馈网络；共三次残差 + 层标准化。两个注意力子层的投影矩阵各自独立"
                               "（第二个子层的是 [[Wx_Q:i]]、[[Wx_K:i]]、[[Wx_V:i]]、[[Wx_O]]）。")),
    ("decoder", "pre"): (Text("Decoder layer (pre-LN)", "解码器层（Pre-LN）"),
                         Text("The same three sublayers with LayerNorm on each sublayer's input.",
                              "相同的三个子层，层标准化作用在每个子层的输入上。")),
}

NOT_THE_PAPER = Text("Pre-LN is not the paper's formula (see the post-LN version).",
                     "Pre-LN 不是论文中的公式（见 Post-LN 版本）。")

for (kind, norm), (title, description) in LAYERS.items():
    tail = NOTEBOOK_AND_PAPER if norm == "post" else NOT_THE_PAPER
    register(f"tr.{kind}_layer" + ("" if norm == "post" else "_pre"), "transformer", title,
             Text(description.en + " " + tail.en, description.zh + tail.zh), *_layer(kind, norm))


def _stack(kind):
    def build():
        s = _sizes()
        N = notation.dim("N")
        X = s.X("X", s.n) if kind == "encoder" else s.X("Y", s.n)
        name = "Encoder" if kind == "encoder" else "Decoder"
        layer = "EncoderLayer" if kind == "encoder" else "DecoderLayer"
        extra = [] if kind == "encoder" else [notation.matrix("memory", s.m, s.d_model)]
        return Group(Relation(Apply(name, *X.shape, X, *extra), Stack(layer, N, X, *extra)),
                     Relation(N, paper.BASE["N"]))

    def check(f, expr, sizes=None):
        """The formula with its own N (its second line), each layer unfolded through the layer's entry
        with its own parameters, vs the paper's N = 6 reference layers."""
        N = paper.BASE["N"]
        x, memory = _inputs()
        params = [layer_parameters(seed=SEED + k, decoder=kind == "decoder") for k in range(N)]
        want = x
        for p in params:
            want = reference.encoder_layer(want, p) if kind == "encoder" else reference.decoder_layer(want, memory, p)
        what = f"the formula, compiled, vs {N} reference {kind} layers, each with its own parameters"
        try:
            count = expr.args[1]
            if count.lhs != notation.dim("N"):
                raise ValueError("the second line does not give N")
            stack_sizes = {**LAYER_SIZES, "N": int(count.rhs)}
        except Exception as exc:  # noqa: BLE001
            return failed(f.id, "numeric", what, {**LAYER_SIZES, "N": N}, exc, SEED)
        return run_and_compare(f, expr, what, stack_sizes, layer_bindings(x, memory, params), want,
                               args=[x] if kind == "encoder" else [x, memory])

    return build, check


register(
    "tr.encoder_stack", "transformer",
    Text("Encoder: a stack of [[expr:N_6]] layers", "编码器：[[expr:N_6]] 层堆叠"),
    Text("The encoder repeats its layer 6 times; each layer has its own parameters. From the lecture "
         "notebook (6 layers) and the paper. Here n is the source length; the decoder's cross-attention reads "
         "the result as [[memory]] and calls its length m.",
         "编码器把编码器层重复 6 次；每一层都有自己的参数。出自课程笔记（6 层）与论文。这里的 n 是源序列的长度；"
         "解码器的交叉注意力把结果读作 [[memory]]，并把它的长度记为 m。"),
    *_stack("encoder"),
)

register(
    "tr.decoder_stack", "transformer",
    Text("Decoder: a stack of [[expr:N_6]] layers", "解码器：[[expr:N_6]] 层堆叠"),
    Text("The decoder also has 6 layers; every layer attends to the same encoder output. From the "
         "lecture notebook (6 layers) and the paper. Here n is the target length and m the source length "
         "(the encoder's n).",
         "解码器同样有 6 层；每一层都关注同一个编码器输出。出自课程笔记（6 层）与论文。这里 n 是目标序列的长度，"
         "m 是源序列的长度（即编码器中的 n）。"),
    *_stack("decoder"),
)
