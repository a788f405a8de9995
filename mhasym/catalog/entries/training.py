"""Around the layers: the output layer, the decoder's input shifted right, and training (dropout, label
smoothing, the learning-rate schedule), as in the paper's Sections 3.4, 3.1 and 5."""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions import HadamardProduct, MatMul, Transpose
from sympy.matrices.expressions.matexpr import MatrixElement

from mhasym import reference
from mhasym.catalog.checks import (SEED, CheckResult, Inputs, compare_arrays, compare_shapes, failed, numeric, rng,
                                   run_formula, SIZES, attention_bindings, attention_inputs)
from mhasym.catalog.entries.sources import PAPER, cite as _text
from mhasym.catalog.registry import register
from mhasym.catalog.text import Text
from mhasym.model import attention, notation
from mhasym.model.expressions import (Apply, Cases, Frac, Group, Minimum, Minus, Neg, Plus, Power, Relation, Scaled,
                                      Shape, ShapeOf, Softmax, Times, value_of)
from mhasym.model.paper import BASE

P = notation.scalar


# The output of multi-head attention

def _output_shape():
    s = attention.Sizes.of()
    return Relation(ShapeOf(attention.multi_head_call(s)), Shape(s.n, s.d_model))


def _check_output_shape(f, expr, sizes=None):
    """The call on the left run through mha.multihead on the reference's inputs: its shape, the shape shown
    and the shape of reference.multi_head_attention must agree."""
    x = attention_inputs()
    what = "shape of MultiHead(Q, K, V) run through mha.multihead, the shape shown, and reference.multi_head_attention's"
    try:
        call = expr.lhs.arg
        got, _ = run_formula(f, call, SIZES, attention_bindings(x), defines=False)
        if not isinstance(expr.rhs, Shape):
            raise ValueError("the right-hand side is not a shape (r, c)")
        from mhasym.catalog.evaluate import size_values

        shown = tuple(int(sp.sympify(d).xreplace(size_values(SIZES))) for d in expr.rhs.args)
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "shape", what, SIZES, exc)
    want = reference.multi_head_attention(x["x_q"], x["x_kv"], x["w_q"], x["w_k"], x["w_v"], x["w_o"]).shape
    if got.shape != want:
        return CheckResult(f.id, "shape", what, False, dict(SIZES), detail=f"the call gives {got.shape}, the reference {want}")
    return compare_shapes(f.id, what, shown, want, dict(SIZES))


register(
    "mha.output_shape", "multihead",
    Text("Shape of multi-head attention's output", "多头注意力输出的形状"),
    _text("One row per query and [[d_model]] columns, whatever h, [[d_k]] and [[d_v]] are: [[W_O]] brings the h [[d_v]] "
          "columns of the concatenation back to [[d_model]], so layers can be stacked.",
          "每个查询一行、[[d_model]] 列，与 h、[[d_k]]、[[d_v]] 无关：[[W_O]] 把拼接后的 h [[d_v]] 列变回 [[d_model]] 列，"
          "因此层可以一层层堆叠。", PAPER),
    _output_shape, _check_output_shape,
)


# The output layer and the decoder's input

def _output():
    n, d_model, vocab = (notation.dim(x) for x in ("n", "d_model", "vocab"))
    H = notation.matrix("H", n, d_model)
    E = notation.matrix("E", vocab, d_model)
    return Relation(notation.matrix("Y_hat", n, vocab), Softmax(MatMul(H, Transpose(E))))


def _check_output(f, expr, sizes=None):
    n, d_model, vocab = 5, 8, 13
    g = rng(SEED)
    h, e = g.normal(size=(n, d_model)), g.normal(size=(vocab, d_model))
    want = reference.output_probabilities(h, e)
    return numeric(f, expr, "the formula, compiled, vs reference.output_probabilities", {"n": n, "d_model": d_model,
                   "vocab": vocab}, Inputs({"H": [h], "E": [e]}), want)


register(
    "tr.output", "transformer",
    Text("Output layer: next-token probabilities", "输出层：下一个词元的概率"),
    _text("The decoder's last output H (one row per position) is multiplied by the transposed embedding matrix "
          "[[E]] ([[vocab]] × [[d_model]]), the same matrix as the embedding layers (Section 3.4; they multiply "
          "their rows by [[sqrt:d_model]]), and a softmax over each row gives the probabilities of the next token. "
          "[[Y_hat]] is n × [[vocab]] (the hat marks predictions; it is not the decoder input Y). Row t of [[Y_hat]] "
          "is the model's guess of target token [[expr:y_t]]; in training, position t of the input holds the "
          "token before it (shifted right), so each position predicts the token that comes next.",
          "解码器最后的输出 H（每个位置一行）乘以嵌入矩阵 [[E]]（[[vocab]] × [[d_model]]）的转置，这与嵌入层共用同一个矩阵"
          "（第 3.4 节；嵌入层会把取出的行乘以 [[sqrt:d_model]]），再对每一行做 softmax，得到下一个词元的概率。"
          "[[Y_hat]] 是 n × [[vocab]] 矩阵（帽子符号表示预测值；它不是解码器的输入 Y）。[[Y_hat]] 的第 t 行是模型对目标词元 "
          "[[expr:y_t]] 的预测；训练时输入的第 t 个位置放的是它前一个词元（右移一位），所以每个位置预测的都是下一个词元。", PAPER),
    _output, _check_output,
)


def _shift():
    t = P("t")
    y, y_in = sp.IndexedBase(sp.Symbol("y")), sp.IndexedBase(sp.Symbol("y_in"))
    return Relation(y_in[t], Cases((P("start"), sp.Eq(t, 1)), (y[t - 1], True)))


def _check_shift(f, expr, sizes=None):
    t = P("t")
    y = sp.IndexedBase(sp.Symbol("y"))
    start, tokens = 0, [7, 3, 9, 4, 12]
    what = "y_in at t = 1..n vs reference.shift_right"
    try:
        values = {y[k + 1]: sp.Integer(v) for k, v in enumerate(tokens)}
        got = [int(value_of(expr.rhs).xreplace({t: k}).xreplace(values).xreplace({P("start"): start}))
               for k in range(1, len(tokens) + 1)]
        lhs_index = expr.lhs.indices[0]
        if lhs_index != t:
            raise ValueError(f"the left side is y_in at {lhs_index}, not at t")
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, {"n": len(tokens)}, exc)
    return compare_arrays(f.id, what, got, reference.shift_right(tokens, start), {"n": len(tokens)})


register(
    "tr.shift_right", "transformer",
    Text("The decoder's input, shifted right", "解码器的输入：右移一位"),
    _text("In training the decoder reads the target sentence offset by one position (Section 3.1; Figure 1: "
          "\"Outputs (shifted right)\"); the paper does not say what fills the first place, and implementations put a "
          "start token ⟨s⟩ there. At position t the decoder sees the targets before t only (teacher forcing), and with the "
          "causal mask it predicts token t. In generation it reads its own outputs, one token at a time.",
          "训练时，解码器读入错开一位的目标句子（第 3.1 节；图 1 中的“Outputs (shifted right)”）；论文没有说第一个位置放什么，"
          "实现中通常放一个起始词元 ⟨s⟩。在位置 t 它只看到 t 之前的目标词元（teacher forcing，教师强制），再加上因果掩码，"
          "用来预测第 t 个词元。生成时，它逐个读入自己已经输出的词元。", PAPER),
    _shift, _check_shift,
)


# Training

def _dropout():
    n, d = notation.dim("n"), notation.dim("d_model")
    H, D = notation.matrix("H", n, d), notation.matrix("D", n, d)
    p = P("P_drop")
    return Group(Relation(Apply("Dropout", n, d, H), Scaled(HadamardProduct(D, H), Minus(1, p))),
                 Relation(p, sp.Rational(1, 10)))


def _check_dropout(f, expr, sizes=None):
    """With the rate that the formula gives (its second line): a fixed keep-mask B vs reference.dropout; and
    the mean over the masks, exactly (1 - P_drop) times the formula at D = 1 plus P_drop times it at D = 0,
    entry by entry, vs H, which is what inference uses."""
    n, d = 3, 4
    g = rng(SEED)
    z = g.normal(size=(n, d))
    keep = g.random((n, d)) >= 0.1
    what = "the formula with a fixed mask vs reference.dropout, and its mean over the masks vs H"
    shown = {"n": n, "d": d}
    try:
        definition, rate = expr.args
        p = float(rate.rhs)
        if rate.lhs != P("P_drop") or abs(p - 0.1) > 1e-12:
            raise ValueError(f"the rate shown is {rate.lhs} = {rate.rhs}, the paper's P_drop is 0.1")

        def run(mask):
            inputs = Inputs({"D": [np.asarray(mask, dtype=float)]}, {"P_drop": p})
            return run_formula(f, definition, {"n": n, "d_model": d}, inputs, args=[z])[0]

        fixed = run(keep)
        mean = (1 - p) * run(np.ones((n, d))) + p * run(np.zeros((n, d)))
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, shown, exc, SEED)
    first = compare_arrays(f.id, what, fixed, reference.dropout(z, keep, 0.1), {**shown, "P_drop": p}, SEED)
    if not first.passed:
        return first
    return compare_arrays(f.id, what, mean, z, {**shown, "P_drop": p}, SEED)


register(
    "tr.dropout", "transformer",
    Text("Dropout", "Dropout（随机失活）"),
    _text("H is the matrix dropout acts on (n × [[d_model]], e.g. a sublayer's output). In training each entry is kept "
          "with probability 1 − [[P_drop]] (the keep-mask D is 1 where kept, 0 elsewhere) and scaled "
          "by 1/(1 − [[P_drop]]), so its mean is unchanged; at inference Dropout(H) = H. The paper applies it to each "
          "sublayer's output before the residual sum, LayerNorm(x + Dropout(Sublayer(x))), and to the sums of "
          "embeddings and positional encodings, with [[P_drop]] = 0.1 in the base model (Section 5.4, citing Srivastava "
          "et al.); it writes no formula for dropout itself, and the scaling by 1/(1 − [[P_drop]]) in training is how "
          "implementations write it. The layer formulas on this site are those of inference, without it.",
          "H 是 Dropout 作用的矩阵（n × [[d_model]]，例如某个子层的输出）。训练时每个元素以 1 − [[P_drop]] 的概率保留"
          "（保留掩码 D 在保留处为 1，其余为 0），并乘以 1/(1 − [[P_drop]])，因此均值不变；"
          "推理时 Dropout(H) = H。论文把它用在每个子层的输出上、残差相加之前，即 LayerNorm(x + Dropout(Sublayer(x)))，"
          "也用在词嵌入与位置编码之和上；基础模型中 [[P_drop]] = 0.1（第 5.4 节，引用 Srivastava 等）。论文没有写出 Dropout 本身的公式，"
          "训练时乘以 1/(1 − [[P_drop]]) 是各实现的写法。本站的层公式是推理时的公式，不含 Dropout。", PAPER),
    _dropout, _check_dropout,
)


def _label_smoothing():
    t, k = P("t"), P("k")
    q, y = sp.IndexedBase(sp.Symbol("q")), sp.IndexedBase(sp.Symbol("y"))
    eps, vocab = P("eps_ls"), notation.dim("vocab")
    return Group(Relation(q[t, k], Cases((Plus(Minus(1, eps), Frac(eps, vocab)), sp.Eq(k, y[t])),
                                         (Frac(eps, vocab), True))),
                 Relation(eps, sp.Rational(1, 10)))


def _check_label_smoothing(f, expr, sizes=None):
    targets, vocab = [3, 0, 6, 3], 7
    what = "q at every (t, k) vs reference.smoothed_targets with the paper's epsilon_ls = 0.1"
    t, k = P("t"), P("k")
    y = sp.IndexedBase(sp.Symbol("y"))
    try:
        definition, rate = expr.args
        eps = rate.rhs
        if rate.lhs != P("eps_ls"):
            raise ValueError(f"the second line gives {rate.lhs}, not epsilon_ls")
        rule = value_of(definition.rhs).xreplace({P("eps_ls"): eps, notation.dim("vocab"): vocab})
        got = np.array([[float(rule.xreplace({t: a + 1, k: b}).xreplace({y[a + 1]: targets[a]}))
                         for b in range(vocab)] for a in range(len(targets))])
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, {"vocab": vocab}, exc)
    return compare_arrays(f.id, what, got, reference.smoothed_targets(targets, vocab, 0.1),
                          {"n": len(targets), "vocab": vocab})


register(
    "tr.label_smoothing", "transformer",
    Text("Label smoothing", "标签平滑"),
    _text("[[expr:q_tk]] is the training target's probability of token k at position t. It is not one-hot: the true token [[expr:y_t]] "
          "gets 1 − [[eps_ls]] plus its share of "
          "[[eps_ls]], spread evenly over the [[vocab]] tokens, with [[eps_ls]] = 0.1 (Section 5.4). The paper gives only the value "
          "and cites Szegedy et al. (2016) for the method; this formula is theirs. It hurts perplexity but "
          "improves accuracy and BLEU, the paper says. Here k runs over the vocabulary's tokens.",
          "[[expr:q_tk]] 是位置 t 的训练目标中词元 k 的概率。它不是独热向量：真实词元 [[expr:y_t]] 得到 1 − [[eps_ls]]，另外 [[eps_ls]] 平均分给 [[vocab]] 个词元，"
          "[[eps_ls]] = 0.1（第 5.4 节）。论文只给出这个数值，并为方法引用了 Szegedy 等（2016）；这个公式来自他们。论文说它会让困惑度变差，但能提高准确率和 BLEU。这里 k 遍历词表中的词元。", PAPER),
    _label_smoothing, _check_label_smoothing,
)


def _loss():
    t, k = P("t"), P("k")
    q = sp.IndexedBase(sp.Symbol("q"))
    n, vocab = notation.dim("n"), notation.dim("vocab")
    Y_hat = notation.matrix("Y_hat", n, vocab)
    # entries counted from 1, as on every page: Y-hat_tk is row t, column k
    return Relation(P("loss"), Neg(sp.Sum(Times(q[t, k], sp.log(Y_hat[t, k])), (k, 1, vocab), (t, 1, n))))


def _check_loss(f, expr, sizes=None):
    """The loss shown, at n = 4 and 7 tokens, with q from reference.smoothed_targets and the rows of Y-hat from
    reference.output_probabilities on random numbers, vs reference.cross_entropy."""
    targets, vocab, d_model = [3, 0, 6, 3], 7, 5
    what = "the loss at n = 4, 7 tokens vs reference.cross_entropy of the smoothed targets and predicted probabilities"
    gen = rng()
    probs = reference.output_probabilities(gen.standard_normal((len(targets), d_model)),
                                           gen.standard_normal((vocab, d_model)))
    q_values = reference.smoothed_targets(targets, vocab, 0.1)
    n_sym, v_sym = notation.dim("n"), notation.dim("vocab")
    try:
        if expr.lhs != P("loss"):
            raise ValueError(f"the formula gives {expr.lhs}, not the loss")
        sizes = {n_sym: len(targets), v_sym: vocab}
        # the sizes go into the sums' limits (the matrix keeps its symbolic shape, so its entries stay valid)
        rhs = value_of(expr.rhs).replace(
            lambda e: isinstance(e, sp.Sum),
            lambda e: sp.Sum(e.function, *[(v, lo.xreplace(sizes), hi.xreplace(sizes)) for v, lo, hi in e.limits])).doit()
        values = {}
        q, Y_hat = sp.IndexedBase(sp.Symbol("q")), notation.matrix("Y_hat", n_sym, v_sym)
        for e in rhs.atoms(sp.Indexed, MatrixElement):
            if (e.base if isinstance(e, sp.Indexed) else e.parent) not in (q, Y_hat):
                raise ValueError(f"{e} is an entry of neither q nor Y-hat")
            row, col = (int(i) for i in e.indices) if isinstance(e, sp.Indexed) else (int(e.i), int(e.j))
            if not (1 <= row <= len(targets) and 1 <= col <= vocab):
                raise ValueError(f"entry {e} is outside the {len(targets)} x {vocab} matrices (entries count from 1)")
            table = q_values if isinstance(e, sp.Indexed) else probs
            values[e] = sp.Float(table[row - 1, col - 1])
        got = float(sp.N(rhs.xreplace(values)))
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, {"n": len(targets), "vocab": vocab}, exc)
    return compare_arrays(f.id, what, got, reference.cross_entropy(probs, q_values),
                          {"n": len(targets), "vocab": vocab, "d_model": d_model}, SEED)


register(
    "tr.loss", "transformer",
    Text("The training loss: cross-entropy with the smoothed targets", "训练损失：与平滑后目标的交叉熵"),
    Text("The model is trained to give the target tokens high probability: the loss of a sentence is the "
         "cross-entropy between the smoothed targets [[expr:q_tk]] (label smoothing, above) and the predicted "
         "probabilities, summed over its n positions and the [[vocab]] tokens. Only the target token and the "
         "smoothing share of the others count, so it is small when [[Y_hat]] puts most of each row on the right "
         "token. The paper names label smoothing but does not write the loss; this is the standard form. Implementations "
         "usually average it over the target tokens of a batch and leave padded positions out.",
         "训练的目标是让目标词元的概率更高：一个句子的损失是平滑后的目标 [[expr:q_tk]]（见上面的标签平滑）与预测概率之间的交叉熵，"
         "对它的 n 个位置和 [[vocab]] 个词元求和。只有目标词元和其余词元分到的平滑份额起作用，所以当 [[Y_hat]] 的每一行都把大部分概率"
         "放在正确的词元上时，损失就小。论文提到了标签平滑，但没有写出损失；这里是标准的写法。各实现通常在一个批次的目标词元上取平均，"
         "并且不计填充位置。"),
    _loss, _check_loss,
)


def _learning_rate():
    d_model, step, warmup = notation.dim("d_model"), P("step"), P("warmup")
    rate = Times(Power(d_model, sp.Float(-0.5)),
                 Minimum(Power(step, sp.Float(-0.5)), Times(step, Power(warmup, sp.Float(-1.5)))))
    return Group(Relation(P("lrate"), rate), Relation(warmup, 4000))


def _check_learning_rate(f, expr, sizes=None):
    steps = np.array([1, 10, 100, 1000, 3999, 4000, 4001, 10000, 100000])
    what = "the formula at 9 steps with d_model = 512 and its own warm-up vs reference.learning_rate (warm-up 4000)"
    try:
        definition, warm = expr.args
        if definition.lhs != P("lrate") or warm.lhs != P("warmup"):
            raise ValueError("the lines do not define lrate and warmup")
        rule = value_of(definition.rhs).xreplace({notation.dim("d_model"): BASE["d_model"], P("warmup"): warm.rhs})
        got = np.array([float(rule.xreplace({P("step"): int(s)})) for s in steps])
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, {}, exc)
    return compare_arrays(f.id, what, got, reference.learning_rate(steps, BASE["d_model"]),
                          {"d_model": BASE["d_model"], "steps": "1 .. 100000"}, tolerance=1e-12)


register(
    "tr.learning_rate", "transformer",
    Text("Learning-rate schedule", "学习率调度"),
    _text("The rate grows linearly for the first 4000 steps, then falls as the inverse square root of the step "
          "(Section 5.3); the peak, at the end of the warm-up, is about 7e-4 for [[d_model]] = 512. The optimiser "
          "is Adam with [[expr:adam_beta1]], [[expr:adam_beta2]] and [[expr:adam_eps]].",
          "学习率在前 4000 步线性增长，之后按步数的平方根倒数下降（第 5.3 节）；[[d_model]] = 512 时，峰值出现在预热结束时，约为 7e-4。"
          "优化器是 Adam，[[expr:adam_beta1]]、[[expr:adam_beta2]]、[[expr:adam_eps]]。", PAPER),
    _learning_rate, _check_learning_rate,
)
