"""Wrong versions of attention that appear in tutorials, and how the checks catch each one.

A mistake is its right formula's object with one named rewrite (``sqrt(d_k) -> sqrt(d_model)``,
``A V -> V A``, ...). The object shown is the object run: :func:`detect` runs the wrong object
through the right formula's own check, ``right.check(expr=wrong, sizes=...)``, at sizes where the
wrong formula is well-typed (``A^T V`` needs n = m), so it is caught by its numbers, not by a
shape error. A mistake counts as caught only when that check fails with numbers compared.

>>> detect(MISTAKES["scale_d_model"]).passed
False
>>> MISTAKES["a_transposed_v"].sizes["n"] == MISTAKES["a_transposed_v"].sizes["m"]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy as sp
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, Transpose

from mhasym.model import notation
from mhasym.catalog.text import Text
from mhasym.catalog.checks import LAYER_SIZES, CheckResult
from mhasym.model.expressions import (Apply, Call, Concat, Frac, Group, Minus, Neg, Plus, Power, Relation, Softmax,
                          SplitHeads)


@dataclass(frozen=True)
class Mistake:
    """A wrong version: what it is, the right catalog formula, the rewrite that makes it wrong, and the
    sizes at which it is well-typed (so that numbers, not shapes, tell it apart)."""

    id: str
    title: Text
    right: str  # catalog id of the right formula
    rewrite: Callable  # (right formula's expr) -> the wrong expr
    sizes: dict = field(default_factory=dict)  # sizes for the right formula's check; {} = its own
    kind: str = "error"  # "error": the results are wrong; "convention": they differ from the paper's
    why: Text = field(default_factory=lambda: Text("", ""))  # why it is wrong, or how it differs
    seen: Text = field(default_factory=lambda: Text("", ""))  # where it is seen (a source)
    differs_from: Text = field(default_factory=lambda: Text("the paper", "论文"))  # for a convention: whose formula

    def wrong(self):
        """The wrong formula as a SymPy object of the same form as the right one."""
        from mhasym.catalog.registry import formula

        return self.rewrite(formula(self.right).expr)


def _d(name):
    return notation.dim(name)


def _swap(old, new):
    """A rewrite that replaces every ``old`` node by ``new``."""
    return lambda expr: expr.xreplace({old: new})


def _matching(test, change):
    """A rewrite that changes every node for which ``test`` holds."""
    return lambda expr: expr.replace(test, change)


def _product_of_weights_and_values(expr, change):
    """``softmax(...) V`` -> ``change(softmax(...), V)`` in an attention formula."""
    return expr.replace(lambda e: isinstance(e, MatMul) and len(e.args) == 2 and isinstance(e.args[0], Softmax),
                        lambda e: change(*e.args))


def _keys_for_values(expr):
    K = notation.matrix("K", _d("m"), _d("d_k"))
    return _product_of_weights_and_values(expr, lambda A, V: MatMul(A, K))


def _mask_after_softmax(expr):
    B, M = notation.matrix("B", _d("n"), _d("m")), notation.matrix("M", _d("n"), _d("m"))
    del M  # the call keeps its additive mask argument; the wrong body uses the 0/1 mask B instead
    return expr.replace(lambda e: isinstance(e, Softmax) and isinstance(e.arg, MatAdd),
                        lambda e: HadamardProduct(Softmax(e.arg.args[0]), B))


def _heads_summed(expr):
    from mhasym.model.expressions import MatSum

    i, h = notation.scalar("i"), _d("h")
    W_O = notation.matrix("W_O", _d("d_v"), _d("d_model"))  # d_v rows: the only way a sum of heads fits
    head = notation.matrix("head", _d("n"), _d("d_v"), i)
    return expr.replace(lambda e: isinstance(e, MatMul) and isinstance(e.args[0], Concat),
                        lambda e: MatMul(MatSum(head, i, 1, h), W_O))


def _without_w_o(expr):
    return expr.replace(lambda e: isinstance(e, MatMul) and isinstance(e.args[0], Concat), lambda e: e.args[0])


def _layer_norm_row(k, change):
    def rewrite(expr):
        rows = list(expr.args)
        rows[k] = change(rows[k])
        return expr.func(*rows)
    return rewrite


def _unbiased(row):
    d = _d("d_model")
    return row.xreplace({Frac(1, d): Frac(1, Minus(d, 1))})


def _eps_outside(row):
    sigma, eps = notation.scalar("sigma"), notation.scalar("epsilon")
    return row.xreplace({sp.sqrt(Plus(sigma**2, eps)): Plus(sigma, eps)})


def _pe_blocks(expr):
    pos, i, d = notation.scalar("pos"), notation.scalar("i"), _d("d_model")
    angle = Frac(pos, sp.Pow(10000, Frac(2 * i, d), evaluate=False))
    return Group(Relation(Call("PE", pos, i), sp.sin(angle)),
                 Relation(Call("PE", pos, Plus(Frac(d, 2), i)), sp.cos(angle)))


def _is_call(name, count):
    return lambda e: isinstance(e, Apply) and e.name == name and len(e.operands) == count


def _without_causal_mask(expr):
    return expr.replace(_is_call("MultiHead", 4), lambda e: Apply(*e.args[:3], *e.operands[:3]))


def _queries_from_encoder(expr):
    memory = notation.matrix("memory", _d("m"), _d("d_model"))

    def swap(e):
        x, kv, _ = e.operands
        return Apply(*e.args[:3], kv, x, x) if kv == memory else e

    return expr.replace(_is_call("MultiHead", 3), swap)


def _large_negative(expr):
    return expr.xreplace({-sp.oo: Neg(Power(10, 9))})


def _pre_ln(expr):
    from mhasym.catalog.registry import formula

    return formula("tr.encoder_layer_pre").expr


def _make():
    t = Text
    d_k, d_model = _d("d_k"), _d("d_model")
    B = sp.IndexedBase(sp.Symbol("B"))
    i, j = notation.scalar("i"), notation.scalar("j")
    well_typed_v_a = {"n": 4, "m": 4, "d_k": 5, "d_v": 4, "d_model": 11, "h": 3}
    found = [
        Mistake("scale_d_model", t("Scaling by [[sqrt:d_model]] instead of [[sqrt:d_k]]",
                                   "除以 [[sqrt:d_model]] 而不是 [[sqrt:d_k]]"),
                "attention.sdpa", _swap(sp.sqrt(d_k), sp.sqrt(d_model)),
                why=t("The scores are sums of [[d_k]] products; dividing by [[sqrt:d_k]] brings their variance back to 1. "
                      "With [[sqrt:d_model]], which is the square root of h times larger because [[d_model]] = h [[d_k]], the softmax is "
                      "flatter than the paper's.",
                      "得分是 [[d_k]] 个乘积之和，除以 [[sqrt:d_k]] 才能把方差拉回到 1。改除以 [[sqrt:d_model]]（由于 [[d_model]] = h [[d_k]]，它大了根号 h 倍）后，softmax 比论文中的更平坦。"),
                seen=t("Seen in lucidrains/vit-pytorch (issue 65) and jadore801120/attention-is-all-you-need-pytorch (issue 49).",
                       "见于 lucidrains/vit-pytorch（issue 65）和 jadore801120/attention-is-all-you-need-pytorch（issue 49）。")),
        Mistake("softmax_columns", t("Softmax over the wrong axis (each column)", "在错误的轴上做 softmax（按列）"),
                "attention.sdpa", _matching(lambda e: isinstance(e, Softmax), lambda e: Softmax(e.arg, 0)),
                why=t("Each query's weights must sum to 1 over the keys (a row); over the queries (a column) they "
                      "mix positions that ask.", "每个查询的权重应当对所有键（一行）求和为 1；按列做 softmax 则把不同查询混在一起。"),
                seen=t("Seen in PetrochukM/PyTorch-NLP (issue 2): its score matrix is (batch × output length n, context "
                       "length m), the m keys being what that code calls query_len, and the softmax ran over dimension 0, "
                       "across the n positions that ask, instead of over the m keys.",
                       "见于 PetrochukM/PyTorch-NLP（issue 2）：它的得分矩阵是（batch × 输出长度 n，上下文长度 m），"
                       "这 m 个键在那段代码里叫 query_len；softmax 沿第 0 维、也就是跨 n 个发问的位置进行，而不是沿 m 个键。")),
        Mistake("v_times_a", t("[[expr:V_A]] instead of [[expr:A_V]]", "写成 [[expr:V_A]] 而不是 [[expr:A_V]]"),
                "attention.sdpa", lambda e: _product_of_weights_and_values(e, lambda A, V_: MatMul(V_, A)),
                well_typed_v_a,
                why=t("[[A]] [[V]] averages value rows with each query's weights; [[V]] [[A]] has the right shape only when "
                      "n = m = [[d_v]], and then wrong values.",
                      "[[A]] [[V]] 用每个查询的权重对值的各行加权平均；[[V]] [[A]] 只有在 n = m = [[d_v]] 时形状才对，而且数值是错的。"),
                seen=t("No named source. A test that compares shapes only, with n = m = [[d_v]], cannot see it.",
                       "没有具名来源。只比较形状、且 n = m = [[d_v]] 的测试看不出这个错误。")),
        Mistake("a_transposed_v", t("[[A]] transposed before multiplying by [[V]]", "先把 [[A]] 转置再乘以 [[V]]"),
                "attention.sdpa", lambda e: _product_of_weights_and_values(e, lambda A, V_: MatMul(Transpose(A), V_)),
                {"n": 4, "m": 4, "d_k": 5, "d_v": 2, "d_model": 11, "h": 3},
                why=t("[[A]] transposed holds each key's weights over the queries; with n = m it multiplies [[V]] "
                      "without a shape error.", "转置后的 [[A]] 是每个键在各查询上的权重；当 n = m 时它与 [[V]] 相乘不会报形状错误。"),
                seen=t("No named source: tests that compare shapes only, with equal query and key lengths, let it through.",
                       "没有具名来源：查询与键长度相等、只比较形状的测试会放过它。")),
        Mistake("keys_as_values", t("Keys where values belong", "把键当作值使用"), "attention.sdpa", _keys_for_values,
                {"n": 4, "m": 7, "d_k": 3, "d_v": 3, "d_model": 11, "h": 3},
                why=t("The weights average the value rows; averaging the key rows gives [[d_k]] columns of the wrong "
                      "numbers (the shape hides it when [[d_k]] = [[d_v]]).",
                      "权重应当对值的各行求平均；对键的各行求平均得到的是错误的数值（当 [[d_k]] = [[d_v]] 时形状看不出来）。"),
                seen=t("Seen in fchollet/deep-learning-with-python-notebooks (issue 261).",
                       "见于 fchollet/deep-learning-with-python-notebooks（issue 261）。")),
        Mistake("mask_after_softmax", t("Mask applied after the softmax", "在 softmax 之后才施加掩码"),
                "attention.masked", _mask_after_softmax,
                why=t("Zeroing weights after the softmax leaves rows that no longer sum to 1; the mask must enter the "
                      "scores before it.", "在 softmax 之后把权重置零，各行的和就不再是 1；掩码必须在 softmax 之前加到得分上。"),
                seen=t("No named source: it is what zeroing the weights of masked keys after the softmax does.",
                       "没有具名来源：在 softmax 之后才把被屏蔽键的权重置零就是这样。")),
        Mistake("mask_polarity", t("Mask polarity inverted (True read as 'masked out')",
                                   "掩码极性颠倒（把 True 当作“屏蔽”）"),
                "masks.boolean_to_additive", _swap(sp.Eq(B[i, j], 1), sp.Eq(B[i, j], 0)),
                why=t("PyTorch's scaled_dot_product_attention reads True as 'may attend', nn.MultiheadAttention as "
                      "'masked out'; mixing them attends exactly the forbidden keys.",
                      "PyTorch 的 scaled_dot_product_attention 把 True 当作“可以关注”，nn.MultiheadAttention 则当作“屏蔽”；"
                      "两者混用就恰好关注了被禁止的键。"),
                seen=t("Seen in rasbt/LLMs-from-scratch (issue 1061).", "见于 rasbt/LLMs-from-scratch（issue 1061）。")),
        Mistake("heads_summed", t("Head outputs summed instead of concatenated", "把各头输出相加而不是拼接"),
                "mha.multihead", _heads_summed,
                why=t("The sum only fits a [[W_O]] of [[d_v]] rows, and it equals the concatenation times a [[W_O]] whose "
                      "h blocks are all the same: every head is projected alike, and the heads' separate subspaces are lost.",
                      "相加只能配一个 [[d_v]] 行的 [[W_O]]，它等于拼接后乘以一个 h 个块全都相同的 [[W_O]]：每个头被同样地投影，"
                      "各头各自的子空间就丢失了。"),
                seen=t("Seen in awf/functional-transformer (issue 8).", "见于 awf/functional-transformer（issue 8）。")),
        Mistake("no_w_o", t("The output projection [[W_O]] left out", "遗漏输出投影 [[W_O]]"), "mha.multihead", _without_w_o,
                {"n": 4, "m": 7, "d_model": 6, "h": 3, "d_k": 5, "d_v": 2},
                why=t("Without [[W_O]] the heads stay side by side and no output column mixes them; when h [[d_v]] = "
                      "[[d_model]] the shape is still right, so only the values tell.",
                      "没有 [[W_O]]，各头只是并排放着，没有任何输出列把它们混合起来；当 h [[d_v]] = [[d_model]] 时形状仍然正确，只有数值能看出问题。"),
                seen=t("Seen in the lecture notebook itself, which stops at the concatenation, and in awf/functional-transformer (issue 8).",
                       "课程笔记本身在拼接处结束；也见于 awf/functional-transformer（issue 8）。")),
        Mistake("reshape_without_transpose", t("Heads split by reshape without the transpose",
                                               "拆分多头时只做 reshape 而没有 transpose"),
                "id.split_heads", _matching(lambda e: isinstance(e, SplitHeads) and e.transpose,
                                            lambda e: SplitHeads(e.P, e.heads, e.i, transpose=False)),
                why=t("Reshaping (n, h [[d_k]]) straight to (h, n, [[d_k]]) takes consecutive rows of numbers, mixing "
                      "tokens and heads; the transpose of (n, h, [[d_k]]) keeps each token's columns in its head.",
                      "把 (n, h [[d_k]]) 直接 reshape 成 (h, n, [[d_k]]) 取的是连续的数，把词元和头混在一起；"
                      "先 reshape 成 (n, h, [[d_k]]) 再转置，才能让每个词元的列留在自己的头里。"),
                seen=t("Seen in questions on harvardnlp/annotated-transformer (issues 118, 17) and bentrevett/pytorch-seq2seq (issue 148).",
                       "见于 harvardnlp/annotated-transformer（issue 118、17）和 bentrevett/pytorch-seq2seq（issue 148）中的提问。")),
        Mistake("decoder_without_mask", t("Decoder self-attention without the causal mask",
                                          "解码器自注意力没有因果掩码"),
                "tr.decoder_layer", _without_causal_mask,
                why=t("Without the mask each position sees the tokens after it, which do not exist yet when the model "
                      "generates one token at a time.", "没有掩码，每个位置都能看到它之后的词元，而逐个生成词元时这些词元还不存在。"),
                seen=t("No named source: it is what reusing the encoder layer as a decoder layer gives.",
                       "没有具名来源：把编码器层直接当作解码器层使用就会这样。")),
        Mistake("cross_queries_from_encoder", t("Cross-attention taking its queries from the encoder",
                                                "交叉注意力的查询取自编码器"),
                "tr.decoder_layer", _queries_from_encoder, {**LAYER_SIZES, "m": LAYER_SIZES["n"]},
                why=t("The decoder asks (queries from [[H:1]]) and the encoder's output answers (keys and values from "
                      "[[memory]]); swapped, the output has one row per source token, which fits only when n = m.",
                      "应当由解码器发问（查询来自 [[H:1]]），由编码器输出作答（键和值来自 [[memory]]）；两者对调后，"
                      "输出每个源词元一行，只有 n = m 时才放得进去。"),
                seen=t("No named source. The paper (Section 3.2.3): \"the queries come from the previous decoder layer, "
                       "and the memory keys and values come from the output of the encoder\" (in Figure 1 the queries "
                       "are [[H:1]], the output of the masked self-attention sublayer); this is that rule swapped.",
                       "没有具名来源。论文（3.2.3 节）写道：查询来自前一个解码器层，记忆中的键和值来自编码器的输出"
                       "（在图 1 中查询是 [[H:1]]，即带掩码的自注意力子层的输出）；这里把它对调了。")),
        Mistake("pre_ln_for_post", t("Pre-LN where the paper's post-LN is meant", "把 Pre-LN 当作论文的 Post-LN"),
                "tr.encoder_layer", _pre_ln, kind="convention",
                why=t("Pre-LN normalises each sublayer's input and keeps the residual path clean (Xiong et al., 2020); "
                      "it trains more stably, with final quality comparable or slightly different (Liu et al., 2020 find "
                      "post-LN ahead when it converges), and gives other numbers than the paper's post-LN.",
                      "Pre-LN 对每个子层的输入做标准化，保持残差通路干净（Xiong 等，2020）；它训练更稳定，最终效果相当或略有差别"
                      "（Liu 等，2020 发现 Post-LN 在能收敛时略好），数值也与论文的 Post-LN 不同。"),
                seen=t("Seen in harvardnlp/annotated-transformer, whose text says post-LN and code does pre-LN (issues 1, 92).",
                       "见于 harvardnlp/annotated-transformer：正文写 Post-LN，代码用 Pre-LN（issue 1、92）。")),
        Mistake("unbiased_variance", t("LayerNorm with the unbiased variance (divide by [[expr:d_model_minus_1]])",
                                       "层标准化使用无偏方差（除以 [[expr:d_model_minus_1]]）"),
                "tr.layer_norm", _layer_norm_row(1, _unbiased), kind="convention",
                why=t("Ba et al. and PyTorch divide by [[d_model]]; dividing by "
                      "[[d_model]] − 1 (torch.std's default) multiplies the normalised term [[expr:ln_normalised]] "
                      "by a factor close to [[expr:unbiased_factor]], a little below 1 (exactly that when "
                      "[[expr:eps_zero]]), "
                      "before [[gamma]] and [[beta]] are applied.",
                      "Ba 等以及 PyTorch 都除以 [[d_model]]；除以 [[d_model]] − 1（torch.std 的默认）"
                      "会让标准化项 [[expr:ln_normalised]] 乘以一个接近 [[expr:unbiased_factor]] 的因子（略小于 1）"
                      "（[[expr:eps_zero]] 时恰好如此），这发生在乘 [[gamma]]、加 [[beta]] 之前。"),
                differs_from=t("Ba et al. (2016), which the paper cites for LayerNorm", "论文为 LayerNorm 所引用的 Ba 等（2016）"),
                seen=t("Seen in the Annotated Transformer's LayerNorm (harvardnlp/annotated-transformer, pull request 119).",
                       "见于 Annotated Transformer 的 LayerNorm（harvardnlp/annotated-transformer，pull request 119）。")),
        Mistake("eps_outside_sqrt", t("[[epsilon]] outside the square root", "[[epsilon]] 放在平方根之外"),
                "tr.layer_norm", _layer_norm_row(2, _eps_outside), kind="convention",
                why=t("The paper gives no [[epsilon]]; PyTorch's nn.LayerNorm adds it to the variance inside the root, as "
                      "the formula on this site does. Adding it to the standard deviation differs only for rows of tiny variance.",
                      "论文没有给出 [[epsilon]]；PyTorch 的 nn.LayerNorm 把它加在根号内的方差上，本站的公式也是如此。"
                      "加在标准差上，只有方差很小的行才有明显差别。"),
                differs_from=t("PyTorch's nn.LayerNorm", "PyTorch 的 nn.LayerNorm"),
                seen=t("Seen in the Annotated Transformer's LayerNorm class, which divides by std + eps "
                       "(harvardnlp/annotated-transformer).",
                       "见于 Annotated Transformer 的 LayerNorm 类，它除以 std + eps（harvardnlp/annotated-transformer）。")),
        Mistake("pe_concatenated", t("Sines and cosines as two blocks instead of interleaved",
                                     "正弦和余弦分成两块，而不是交错排列"),
                "tr.positional_encoding", _pe_blocks, kind="convention",
                why=t("All the sines first, then all the cosines: each row holds the same set of values as the paper's, but column "
                      "j holds a different one. The same "
                      "permutation of the [[d_model]] columns applied to the embeddings and to every weight that reads or writes "
                      "them (the rows of [[W_Q]], [[W_K]], [[W_V]] and [[W:1]], the columns of [[W_O]] and [[W:2]], [[b:2]], [[gamma]] and [[beta]]) gives the same "
                      "model, so it trains as well; column by column, the encoding differs from the paper's formula.",
                      "先放所有正弦，再放所有余弦：每一行所含的数值集合与论文相同，但第 j 列放的是另一个值。把同一个 [[d_model]] 列的置换同时作用于词嵌入以及"
                      "所有读写这些列的权重（[[W_Q]]、[[W_K]]、[[W_V]]、[[W:1]] 的行，[[W_O]]、[[W:2]] 的列，以及 [[b:2]]、[[gamma]] 和 [[beta]]），得到的是同一个模型，"
                      "所以训练效果相同；但逐列比较，位置编码与论文的公式不同。"),
                seen=t("Seen in the authors' own tensor2tensor code (tensorflow/tensor2tensor, issue 391), whose "
                       "get_timing_signal_1d differs from Section 3.5 in both the column order and the spacing of the "
                       "frequencies.",
                       "见于作者自己的 tensor2tensor 代码（tensorflow/tensor2tensor，issue 391），其中的 get_timing_signal_1d "
                       "与论文 3.5 节相比，列的顺序和频率的间隔都不同。")),
        Mistake("fully_masked_row_uniform", t("A large negative constant instead of minus infinity",
                                              "用很大的负常数代替负无穷"),
                "masks.boolean_to_additive", _large_negative, kind="convention",
                why=t("On every row with at least one allowed key, −1e9 gives the weights of minus infinity (in float64 the "
                      "masked weights underflow to exactly 0). A row that may attend to no key silently gets numbers: added to "
                      "the scores, as here, −1e9 shifts the whole row, and in float64 the softmax gives the unmasked weights "
                      "(in float32, where numbers near 1e9 are 64 apart, the sums round to one value and the row comes out "
                      "uniform too); written over the scores (masked_fill), it gives a uniform row, the mean of the value rows. mhasym refuses such "
                      "a mask with an error naming the row; measured with PyTorch 2.13: a softmax over −inf gives NaN, "
                      "nn.MultiheadAttention gives NaN, and F.scaled_dot_product_attention gives zeros (this has changed between "
                      "versions and backends: do not rely on it).",
                      "只要一行至少有一个允许的键，−1e9 给出的权重与负无穷相同（在 float64 中被屏蔽的权重下溢为精确的 0）。"
                      "对一个不能关注任何键的行，它会悄悄给出数值：像这里这样加到得分上时，−1e9 使整行平移，在 float64 中 softmax 给出的是未加掩码的权重（在 float32 中，1e9 附近相邻的数相差 64，各个和被舍入成同一个值，这一行也变成均匀的）；"
                      "若用它覆盖得分（masked_fill），则得到均匀的一行，即所有值行的平均。mhasym 会拒绝这样的掩码并指出是哪一行；"
                      "在 PyTorch 2.13 上实测：对负无穷做 softmax 得到 NaN，nn.MultiheadAttention 得到 NaN，"
                      "F.scaled_dot_product_attention 得到全零（不同版本和后端的行为有过变化，不要依赖它）。"),
                seen=t("Seen in harvardnlp/annotated-transformer (masked_fill with -1e9); fully masked rows giving NaN are "
                       "discussed in pytorch/pytorch (issue 103963).",
                       "见于 harvardnlp/annotated-transformer（用 -1e9 做 masked_fill）；完全被屏蔽的行得到 NaN 的问题见 "
                       "pytorch/pytorch（issue 103963）的讨论。")),
    ]
    return {mistake.id: mistake for mistake in found}


MISTAKES = _make()


def detect(mistake: Mistake, sizes: dict | None = None, expr=None) -> CheckResult:
    """Run the wrong version (or ``expr``) through its right formula's check; ``passed`` is False when
    it is caught. ``refused`` on the result says it was refused (shapes) rather than compared."""
    from mhasym.catalog.registry import formula

    right = formula(mistake.right)
    return right.check(expr=mistake.wrong() if expr is None else expr, sizes=sizes or mistake.sizes or None)


def caught(mistake: Mistake, result: CheckResult) -> bool:
    """Caught means: the right formula's check failed with numbers (or a proof) compared, not refused."""
    return not result.passed and not result.refused


__all__ = ["MISTAKES", "Mistake", "caught", "detect"]
