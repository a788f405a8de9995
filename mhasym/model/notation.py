"""Every symbol of the project, with its name and its LaTeX.

This is the one place that spells a symbol. Other modules ask for symbols
here (``dim("d_k")``, ``matrix("W_Q", rows, cols, index=1)``) and the printer
asks here how to write them.

>>> dim("d_model")
d_model
>>> matrix("W_Q", dim("d_model"), dim("d_k"), index=2).shape
(d_model, d_k)
"""

from __future__ import annotations

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions import MatrixSymbol

from mhasym.printing.display import Displayable
from mhasym.errors import MhasymError

# Sizes, as positive integer SymPy symbols: name -> LaTeX.
DIMENSIONS = {
    "n": "n",  # number of queries (rows of Q)
    "m": "m",  # number of keys and values (rows of K and V)
    "d_model": r"d_{\text{model}}",
    "h": "h",  # number of heads
    "d_k": "d_k",
    "d_v": "d_v",
    "d_ff": r"d_{\text{ff}}",
    "N": "N",  # number of layers in a stack
    "vocab": r"|\mathcal{V}|",
    "L": "L",  # number of real (not padding) tokens
    "rows": "r",
    "cols": "c",
    "kernel": "k",  # kernel width of a convolutional layer (Table 1)
    "radius": r"r",  # neighbourhood size of restricted self-attention (Table 1)
}

# Index and scalar symbols that are not sizes: name -> LaTeX.
SCALARS = {
    "i": "i",
    "j": "j",
    "k": "k",
    "t": "t",
    "pos": r"\mathit{pos}",
    "epsilon": r"\epsilon",
    "l": "l",  # layer number in a stack
    "P_attn": r"P_{\text{attn}}",
    "P_ffn": r"P_{\text{FFN}}",
    "P_norm": r"P_{\text{norm}}",
    "P_enc": r"P_{\text{enc}}",
    "P_dec": r"P_{\text{dec}}",
    "P_total": r"P_{\text{total}}",
    "P_base": r"P_{\text{base}}",
    "P_big": r"P_{\text{big}}",
    "C_self": r"C_{\text{self-attn}}",
    "C_attn": r"C_{\text{attn}}",  # multiply-adds of Q K^T and A V alone (the paper's Table 1)
    "C_rec": r"C_{\text{recurrent}}",
    "C_conv": r"C_{\text{conv}}",
    "C_restr": r"C_{\text{restricted}}",
    "S_filled": r"\tilde{S}",  # scores after a masked fill
    "mu": r"\mu",
    "sigma": r"\sigma",
    "step": r"\mathit{step}",  # training step, counted from 1
    "warmup": r"\mathit{warmup}",  # warm-up steps of the learning-rate schedule
    "lrate": r"\mathit{lrate}",
    "eps_ls": r"\epsilon_{ls}",  # label smoothing
    "eps_adam": r"\epsilon_{\text{Adam}}",  # the optimiser's, not LayerNorm's
    "P_drop": r"P_{\text{drop}}",  # dropout rate
    "start": r"\langle s \rangle",  # the start token of the decoder's input
    "y_in": r"y^{\text{in}}",  # the decoder's input tokens (label of y_in_t)
    "loss": r"\mathcal{L}",  # the scalar loss that gradients are taken of (derivations)
    "delta": r"\delta",  # an offset between positions (positional encoding)
    "omega": r"\omega",  # a frequency of the positional encoding
    "smax1": r"s_{\max}^{(1)}",  # online softmax: the running maximum after block 1
    "smax2": r"s_{\max}^{(2)}",  # ... after block 2
    "ell1": r"\ell^{(1)}",  # online softmax: the running sum of exponentials after block 1
    "ell2": r"\ell^{(2)}",
    "o1": r"o^{(1)}",  # online softmax: the running weighted sum of values after block 1
    "o2": r"o^{(2)}",
    "m1": r"m_1",  # online softmax: the number of keys in block 1
}

# Matrices: name -> (base, fixed subscript, superscript). A head or layer
# index, when given, is printed as the subscript.
MATRICES = {
    "X": ("X", None, None),
    "X_q": ("X", r"\text{q}", None),  # the queries' input where it differs from the keys' (the derivations)
    "X_kv": ("X", r"\text{kv}", None),
    "Y": ("Y", None, None),
    "Q": ("Q", None, None),
    "K": ("K", None, None),
    "V": ("V", None, None),
    "A": ("A", None, None),
    "S": ("S", None, None),
    "M": ("M", None, None),  # additive mask: 0 or minus infinity
    "M_causal": ("M", None, r"\text{causal}"),
    "M_pad": ("M", None, r"\text{pad}"),
    "B": ("B", None, None),  # boolean mask as 0/1: 1 where the query may attend the key
    "D": ("D", None, None),  # dropout's keep-mask: 1 where an entry is kept
    "W_Q": ("W", None, "Q"),
    "W_K": ("W", None, "K"),
    "W_V": ("W", None, "V"),
    "W_O": ("W", None, "O"),
    "Wx_Q": ("W", None, r"Q,\text{cross}"),
    "Wx_K": ("W", None, r"K,\text{cross}"),
    "Wx_V": ("W", None, r"V,\text{cross}"),
    "Wx_O": ("W", None, r"O,\text{cross}"),
    "W": ("W", None, None),  # feed-forward weights W_1, W_2
    "b": ("b", None, None),  # feed-forward biases b_1, b_2
    "gamma": (r"\gamma", None, None),  # LayerNorm gain, one per norm
    "beta": (r"\beta", None, None),  # LayerNorm shift
    "H": ("H", None, None),  # intermediate results inside a layer
    "E": ("E", None, None),  # embedding matrix, one row per vocabulary entry (|V| x d_model)
    "E_x": ("E", "x", None),
    "Y_hat": (r"\hat{Y}", None, None),  # next-token probabilities, one row per position  # the rows of E for the n tokens x_1 .. x_n of a sequence (n x d_model)
    "PE": (r"\mathit{PE}", None, None),
    "P": ("P", None, None),  # a permutation matrix
    "Z": ("Z", None, None),
    "O": ("O", None, None),  # the output of multi-head attention (derivations)
    "Z_concat": ("Z", r"\text{concatenated}", None),
    "normed": (r"\tilde{X}", None, None),  # a sublayer's normalised input (pre-LN), numbered
    "head": (r"\mathrm{head}", None, None),
    "memory": ("H", r"\text{enc}", None),
}

# Plain-text spellings of the matrices whose LaTeX is not plain text (for the CLI, search text and
# error messages); the others are written as their base letter.
MATRIX_PLAIN = {
    "X_q": "X_q", "X_kv": "X_kv", "M_causal": "M^causal", "M_pad": "M^pad", "W_Q": "W^Q", "W_K": "W^K", "W_V": "W^V",
    "W_O": "W^O", "Wx_Q": "W^Q,cross", "Wx_K": "W^K,cross", "Wx_V": "W^V,cross", "Wx_O": "W^O,cross",
    "gamma": "gamma", "beta": "beta", "PE": "PE", "Z_concat": "Z_concatenated", "normed": "X~",
    "head": "head", "memory": "H_enc", "E_x": "E_x", "Y_hat": "Y^",
}

# Plain-text spellings of scalars whose names are not what a reader writes.
SCALAR_PLAIN = {
    "loss": "L", "smax1": "s_max^(1)", "smax2": "s_max^(2)", "ell1": "l^(1)", "ell2": "l^(2)", "o1": "o^(1)",
    "o2": "o^(2)", "m1": "m_1", "omega": "ω", "delta": "δ", "eps_adam": "epsilon_Adam",
}

# Spoken names (for the speech printer) where a symbol is not said as its name with "_" read as a space
# (d_k is "d k" in both languages): name -> (English, Chinese).
# Functions named in a formula (sympy.Function), said in words
FUNCTION_SPOKEN = {"entropy": ("entropy", "熵")}

SCALAR_SPOKEN = {
    "vocab": ("the vocabulary size", "词表大小"), "loss": ("the loss L", "损失 L"), "start": ("the start token", "起始词元"),
    "eps_ls": ("epsilon l s", "epsilon l s"), "eps_adam": ("epsilon Adam", "Adam 的 epsilon"), "S_filled": ("S tilde", "S 波浪"), "C_self": ("C self-attention", "C 自注意力"),
    "C_rec": ("C recurrent", "C 循环"), "C_conv": ("C convolution", "C 卷积"), "C_restr": ("C restricted", "C 受限"),
    "P_ffn": ("P FFN", "P FFN"), "smax1": ("s max 1", "s max 1"), "smax2": ("s max 2", "s max 2"),
    "ell1": ("ell 1", "ell 1"), "ell2": ("ell 2", "ell 2"), "o1": ("o 1", "o 1"), "o2": ("o 2", "o 2"),
    "kernel": ("k", "k"), "radius": ("r", "r"), "rows": ("r", "r"), "cols": ("c", "c"), "y_in": ("y in", "y in"),
}
MATRIX_SPOKEN = {
    "Y_hat": ("Y hat", "Y 帽"), "normed": ("X tilde", "X 波浪"), "memory": ("H enc", "H enc"),
    "Z_concat": ("Z concatenated", "Z 拼接"), "Wx_Q": ("W Q cross", "W Q cross"), "Wx_K": ("W K cross", "W K cross"),
    "Wx_V": ("W V cross", "W V cross"), "Wx_O": ("W O cross", "W O cross"),
}


def symbol_speech(name: str, lang: str) -> str:
    """How a scalar or size is said: ``d_model`` is "d model" in both languages."""
    if name in SCALAR_SPOKEN:
        return SCALAR_SPOKEN[name][lang != "en"]
    return name.replace("_", " ")


def matrix_speech(key: str, lang: str) -> str:
    """How a matrix is said, without its index: ``W_Q`` is "W Q", ``M_causal`` "M causal"."""
    if key in MATRIX_SPOKEN:
        return MATRIX_SPOKEN[key][lang != "en"]
    return " ".join(MATRIX_PLAIN.get(key, key).replace("^", "_").split("_"))


# Named functions, printed upright.
OPERATORS = {
    "softmax": r"\operatorname{softmax}",
    "Attention": r"\operatorname{Attention}",
    "MultiHead": r"\operatorname{MultiHead}",
    "Concat": r"\operatorname{Concat}",
    "shape": r"\operatorname{shape}",
    "LayerNorm": r"\operatorname{LayerNorm}",
    "FFN": r"\operatorname{FFN}",
    "PE": r"\mathit{PE}",
    "Sublayer": r"\operatorname{Sublayer}",
    "Dropout": r"\operatorname{Dropout}",
    "EncoderLayer": r"\operatorname{EncoderLayer}",
    "DecoderLayer": r"\operatorname{DecoderLayer}",
    "Encoder": r"\operatorname{Encoder}",
    "Decoder": r"\operatorname{Decoder}",
    "Embed": r"\operatorname{Embed}",
    "split": r"\operatorname{split}",
    "reshape": r"\operatorname{reshape}",
    "rowsum": r"\operatorname{rowsum}",
}

# The letter of the entries of head outputs: z_{11}, z_{i1}, z_{10,1}.
ENTRY = "z"


def factor_rank(symbol) -> tuple:
    """Sort key for the factors of a product of sizes: counts first (h, N), then lengths, then widths."""
    order = ("h", "N", "n", "m", "L", "d_model", "d_k", "d_v", "d_ff", "vocab")
    name = getattr(symbol, "name", str(symbol))
    return (order.index(name) if name in order else len(order), name)


def subscript(parts) -> str:
    """Indices as one subscript: ``{11}`` or ``{i1}`` while each is one character, else ``{10,1}``."""
    joiner = "" if all(len(p) == 1 for p in parts) else ","
    return "_{" + joiner.join(parts) + "}"


def dim(name: str) -> sp.Symbol:
    """The size symbol called ``name`` (a positive integer)."""
    if name not in DIMENSIONS:
        raise MhasymError(f"unknown dimension {name!r}; known: {', '.join(DIMENSIONS)}")
    return sp.Symbol(name, positive=True, integer=True)


def scalar(name: str) -> sp.Symbol:
    """The index or scalar symbol called ``name``."""
    if name not in SCALARS:
        raise MhasymError(f"unknown scalar {name!r}; known: {', '.join(SCALARS)}")
    if name in ("i", "j", "k", "t", "pos"):  # indices and positions, counted from 0 or from 1
        return sp.Symbol(name, integer=True, nonnegative=True)
    if name in ("l", "step", "warmup"):
        return sp.Symbol(name, integer=True, positive=True)
    if name == "mu":  # a mean: any real number
        return sp.Symbol(name, real=True)
    return sp.Symbol(name, positive=True)


def symbol_latex(name: str) -> str | None:
    """The LaTeX of a scalar or size symbol, or None if it has no entry here."""
    return DIMENSIONS.get(name, SCALARS.get(name))


class NamedMatrix(Displayable, MatrixSymbol):
    """A matrix symbol whose LaTeX comes from :data:`MATRICES`.

    ``index`` is a head (or layer) number or symbol, printed as a subscript:
    ``NamedMatrix("W_Q", d_model, d_k, 1)`` prints as ``W_{1}^{Q}``.
    The Python name (``W_Q_1``) stays a plain identifier.
    """

    def __new__(cls, name, rows, cols, index=None):
        name = name.name if isinstance(name, Str) else name
        if name not in MATRICES:
            raise MhasymError(f"unknown matrix {name!r}; known: {', '.join(MATRICES)}")
        index = sp.S.Zero if index is None else sp.sympify(index)
        rows, cols = (dim(s) if isinstance(s, str) else sp.sympify(s) for s in (rows, cols))
        return sp.Basic.__new__(cls, Str(name), rows, cols, index)

    @property
    def key(self) -> str:
        return self.args[0].name

    @property
    def index(self):
        return None if self.args[3] == 0 else self.args[3]

    @property
    def name(self) -> str:
        if self.index is None:
            return self.key
        return f"{self.key}_{self.index}"

    @property
    def shape(self):
        return self.args[1], self.args[2]

    def _latex(self, printer) -> str:
        base, sub, sup = MATRICES[self.key]
        subs = [s for s in (sub, None if self.index is None else printer._print(self.index)) if s]
        out = base
        if subs:
            out += "_{" + ",".join(subs) + "}"
        if sup:
            out += "^{" + sup + "}"
        return out


def matrix(name: str, rows, cols, index=None) -> NamedMatrix:
    """The matrix symbol ``name`` of shape ``(rows, cols)``, optionally for head ``index``."""
    return NamedMatrix(name, rows, cols, index)


def operator_latex(name: str) -> str:
    """The upright LaTeX name of a function such as ``softmax``."""
    return OPERATORS[name]


class OperatorName(Displayable, sp.Basic):
    """The name of a function (``softmax``, ``LayerNorm``) mentioned on its own, as in prose."""

    def __new__(cls, name):
        name = name.name if isinstance(name, Str) else name
        if name not in OPERATORS:
            raise MhasymError(f"unknown operator {name!r}; known: {', '.join(OPERATORS)}")
        return sp.Basic.__new__(cls, Str(name))

    @property
    def name(self) -> str:
        return self.args[0].name

    def _latex(self, printer) -> str:
        return OPERATORS[self.name]


def symbol(name: str):
    """The object that ``name`` stands for in a text marker: a size or scalar (``d_k``), a matrix
    (``W_O``, ``W_Q:i`` for head i's, ``W:1``), an operator (``softmax``), ``sqrt:d_k`` or ``d_model:sq``.

    >>> symbol("sqrt:d_k"), symbol("W_Q:i"), symbol("d_model:sq")
    (sqrt(d_k), W_Q_i, d_model**2)
    """
    key, _, index = name.partition(":")
    if key == "sqrt" and index:
        return sp.sqrt(symbol(index))
    if index == "sq":
        return symbol(key) ** 2
    if key in DIMENSIONS:
        return dim(key)
    if key in SCALARS:
        return scalar(key)
    if key in MATRICES:
        if index and index not in SCALARS and index not in DIMENSIONS and not index.isdigit():
            raise MhasymError(f"unknown index {index!r} of {key}")
        number = None
        if index:
            number = scalar(index) if index in SCALARS else dim(index) if index in DIMENSIONS else int(index)
        return matrix(key, 1, 1, number)
    if key in OPERATORS:
        return OperatorName(key)
    raise MhasymError(f"unknown symbol {name!r}")


# Every symbol the site uses, with its shape (sizes by name) and its meaning.
GLOSSARY = [
    ("n", None, "number of queries (positions of the sequence that asks)", "查询的个数（发出查询的序列长度）"),
    ("m", None, "number of keys and values (n may differ from m)", "键和值的个数（m 可以不等于 n）"),
    ("d_model", None, "width of every token vector between layers (512 in the base model)",
     "层与层之间每个词元向量的维度（基础模型为 512）"),
    ("h", None, "number of heads (8 in the base model, 16 in the big one)", "注意力头的个数（基础模型为 8，big 配置为 16）"),
    ("d_k", None, "width of queries and keys in one head (64 in both models)", "单个头中查询和键的维度（两种模型都是 64）"),
    ("d_v", None, "width of values and of a head's output (64 in both models)", "单个头中值以及头输出的维度（两种模型都是 64）"),
    ("d_ff", None, "inner width of the feed-forward network (2048 in the base model, 4096 in the big one)",
     "前馈网络中间层的维度（基础模型为 2048，big 配置为 4096）"),
    ("N", None, "number of layers in the encoder and in the decoder (6 in both models)", "编码器与解码器各自的层数（两种模型都是 6）"),
    ("Q", ("n", "d_k"), "queries: one row per query position (n × [[d_model]] where Q is MultiHead's first "
     "argument, which each head projects to n × [[d_k]])",
     "查询：每个查询位置一行（作为 MultiHead 的第一个参数时是 n × [[d_model]]，由每个头投影成 n × [[d_k]]）"),
    ("K", ("m", "d_k"), "keys: one row per key position (m × [[d_model]] as an argument of MultiHead)",
     "键：每个键位置一行（作为 MultiHead 的参数时是 m × [[d_model]]）"),
    ("V", ("m", "d_v"), "values: one row per key position (m × [[d_model]] as an argument of MultiHead)",
     "值：每个键位置一行（作为 MultiHead 的参数时是 m × [[d_model]]）"),
    ("X", ("n", "d_model"), "input sequence, one row per token (row convention: X W); in the encoder n is the "
     "source length, which the decoder's cross-attention calls m",
     "输入序列，每个词元一行（行约定：X W）；在编码器中 n 是源序列长度，解码器的交叉注意力把它记为 m"),
    ("X_q", ("n", "d_model"), "the sequence that asks, in cross-attention and the derivations (X in self-attention)",
     "发出查询的序列（交叉注意力和推导中使用；自注意力中就是 X）"),
    ("X_kv", ("m", "d_model"), "the sequence that is looked at, giving keys and values (X in self-attention)",
     "被查看的序列，由它得到键和值（自注意力中就是 X）"),
    ("S", ("n", "m"), "scaled scores, Q times the transpose of K over the square root of [[d_k]]",
     "缩放得分：Q 乘 K 的转置再除以 [[d_k]] 的平方根"),
    ("W_Q:i", ("d_model", "d_k"), "query projection of head i", "第 i 个头的查询投影矩阵"),
    ("W_K:i", ("d_model", "d_k"), "key projection of head i", "第 i 个头的键投影矩阵"),
    ("W_V:i", ("d_model", "d_v"), "value projection of head i", "第 i 个头的值投影矩阵"),
    ("Z:i", ("n", "d_v"), "output of head i (the notebook's [[Z:i]]; the paper's [[head:i]])",
     "第 i 个头的输出（课程笔记中的 [[Z:i]]，论文中的 [[head:i]]）"),
    ("W_O", (("h", "d_v"), "d_model"), "output projection after the concatenation (the paper's [[W_O]])",
     "拼接之后的输出投影（论文中的 [[W_O]]）"),
    ("M", ("n", "m"), "additive mask: 0 where the query may attend to the key, minus infinity elsewhere",
     "加性掩码：允许关注处为 0，其余为负无穷"),
    ("W:1", ("d_model", "d_ff"), "first weight of the feed-forward network", "前馈网络的第一个权重矩阵"),
    ("W:2", ("d_ff", "d_model"), "second weight of the feed-forward network", "前馈网络的第二个权重矩阵"),
    ("b:1", (1, "d_ff"), "first bias of the feed-forward network, added to every row", "前馈网络的第一个偏置，加到每一行上"),
    ("b:2", (1, "d_model"), "second bias of the feed-forward network", "前馈网络的第二个偏置"),
    ("gamma", (1, "d_model"), "LayerNorm gain (learned)", "层标准化的缩放参数（可学习）"),
    ("beta", (1, "d_model"), "LayerNorm shift (learned)", "层标准化的平移参数（可学习）"),
    ("memory", ("m", "d_model"), "the encoder's output, read by every decoder layer (m = the source length)",
     "编码器的输出，被每个解码器层读取（m 为源序列长度）"),
    ("kernel", None, "kernel width of a convolutional layer (Table 1)", "卷积层的卷积核宽度（表 1）"),
    ("radius", None, "size of the neighbourhood of restricted self-attention (Table 1)", "受限自注意力的邻域大小（表 1）"),
    ("L", None, "number of real (not padding) tokens of a padded sequence", "填充后的序列中真实（非填充）词元的个数"),
    ("PE", ("n", "d_model"), "sinusoidal positional encoding", "正弦位置编码"),
    ("Y", ("n", "d_model"), "the decoder's input: the embedded target tokens, shifted right", "解码器的输入：右移一位后嵌入的目标词元"),
    ("H", ("n", "d_model"), "a result inside a layer; [[H:1]], [[H:2]] the outputs of a decoder layer's first two sublayers",
     "层内部的中间结果；[[H:1]]、[[H:2]] 是解码器层前两个子层的输出"),
    ("A", ("n", "m"), "attention weights, softmax of the scaled scores", "注意力权重，即缩放得分的 softmax"),
    ("B", ("n", "m"), "boolean mask as 0/1: 1 where the query may attend to the key", "0/1 形式的布尔掩码：允许关注处为 1"),
    ("vocab", None, "vocabulary size, the number of distinct tokens (37,000 shared tokens in the paper)",
     "词表大小，即不同词元的个数（论文中为 37,000 个共享词元）"),
    ("pos", None, "a position in the sequence, counted from 0 in the positional encoding", "序列中的位置，在位置编码中从 0 开始数"),
    ("mu", None, "mean of one row's [[d_model]] features (layer normalisation)", "一行的 [[d_model]] 个特征的均值（层标准化）"),
    ("sigma", None, "standard deviation of one row's features; [[sigma]]² the (biased) variance", "一行特征的标准差；[[sigma]]² 为（有偏）方差"),
    ("epsilon", None, "small number added to the variance in layer normalisation (1e-5 in PyTorch)", "层标准化中加到方差上的小数（PyTorch 中为 1e-5）"),
    ("P_drop", None, "dropout rate, the probability that an entry is dropped (0.1 in the base model)", "Dropout 率，即一个元素被丢弃的概率（基础模型为 0.1）"),
    ("eps_ls", None, "label smoothing, the probability spread over all tokens (0.1 in the paper)", "标签平滑中平均分给所有词元的概率（论文为 0.1）"),
    ("loss", None, "the training loss, a number; gradients are its derivatives", "训练损失，一个数；梯度是它的导数"),
    ("E", ("vocab", "d_model"), "embedding matrix, one row per vocabulary entry (shared with the output layer)",
     "嵌入矩阵，词表中每个词元一行（与输出层共用）"),
    ("E_x", ("n", "d_model"), "the rows of [[E]] for the n tokens of a sequence", "一个序列中 n 个词元在 [[E]] 中对应的行"),
    ("D", ("n", "d_model"), "dropout's keep-mask: 1 where an entry is kept", "Dropout 的保留掩码：保留处为 1"),
    ("O", ("n", "d_model"), "the output of multi-head attention, MultiHead([[X_q]], [[X_kv]], [[X_kv]]), in the derivations",
     "多头注意力的输出 MultiHead([[X_q]], [[X_kv]], [[X_kv]])（推导中使用）"),
    ("Y_hat", ("n", "vocab"), "next-token probabilities, one row per position (not the decoder input Y: row t is the "
     "prediction of target token t)",
     "下一个词元的概率，每个位置一行（不是解码器的输入 Y：第 t 行是对第 t 个目标词元的预测）"),
]


# Macros that exported snippets use, so that a lecturer restyles them in one place
# (mhasym-notation.sty): name -> (number of arguments, definition). The site's KaTeX check of
# the snippets uses the same definitions.
LATEX_MACROS = {
    "mhT": (0, r"\top"),  # the transpose sign
    "mhmatrix": (1, r"\begin{pmatrix}#1\end{pmatrix}"),  # explicit matrices
}
