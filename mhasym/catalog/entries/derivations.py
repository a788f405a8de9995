"""The derivations, in reading order: why sqrt(d_k), the softmax Jacobian, the backward passes of attention
and multi-head attention, concatenate-then-project, masking with minus infinity, online softmax and the
rotation inside the positional encoding. Every step is proven by :mod:`mhasym.catalog.proofs`."""

from __future__ import annotations

from functools import partial

import numpy as np
import sympy as sp
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, OneMatrix, Transpose

from mhasym.catalog import proofs
from mhasym.catalog.derivation import Derivation, Step, register
from mhasym.catalog.registry import expression
from mhasym.catalog.entries.sources import PAPER
from mhasym.catalog.text import Text
from mhasym.model import notation
from mhasym.model.expressions import (Apply, Concat, Elided, Expect, Frac, Grad, MatMinus, MatSum, Minus, Neg,
                                      Plus, PosEnc, Power, Relation, RowSum, Scaled, Softmax, SplitHeads, Times, Var,
                                      VStack, fixed)

dim, scalar, matrix = notation.dim, notation.scalar, notation.matrix
n, m, d_k, d_v, d_model, h = (dim(x) for x in ("n", "m", "d_k", "d_v", "d_model", "h"))
i, j, k, t = (scalar(x) for x in ("i", "j", "k", "t"))


def _step(build, en, zh, prove):
    return Step(build, Text(en, zh), prove)


# 1. Why the scores are divided by sqrt(d_k)

q, kk = sp.IndexedBase("q"), sp.IndexedBase("k")


def _dot():
    return sp.Sum(Times(q[t], kk[t]), (t, 1, d_k))


def _moments(*assume):
    def prove(relation):
        return proofs.moments_equal(relation, [{"d_k": v} for v in (1, 2, 3, 5)], _entries, assume)

    return prove


_x, _c = sp.Symbol("x", real=True), sp.Symbol("c", positive=True)
for _name, _build in {
    "q_t": lambda: q[t], "k_t": lambda: kk[t], "qk_t": lambda: Times(q[t], kk[t]),
    "moments_t": lambda: Times(Expect(q[t] ** 2), Expect(kk[t] ** 2)),
    "second_moment": lambda: Relation(Expect(_x ** 2), 1),
    "c": lambda: _c, "c_squared": lambda: _c ** 2,
}.items():
    expression(_name, _build)


def _entries(sizes):
    return [q[x] for x in range(1, sizes["d_k"] + 1)] + [kk[x] for x in range(1, sizes["d_k"] + 1)]


register(Derivation(
    "deriv.scaling",
    Text("Why the scores are divided by [[sqrt:d_k]]", "为什么得分要除以 [[sqrt:d_k]]"),
    Text("Take one query q and one key k with [[d_k]] entries each, all independent, with mean 0 and variance 1 "
         "(the paper's footnote 4). Their score before scaling is the dot product, a sum of [[d_k]] products.",
         "取一个查询 q 和一个键 k，各有 [[d_k]] 个分量，全部相互独立，均值为 0、方差为 1（论文脚注 4 的假设）。"
         "缩放之前的得分是它们的点积，即 [[d_k]] 个乘积之和。"),
    [
        _step(lambda: Relation(Expect(_dot()), sp.Sum(Times(Expect(q[t]), Expect(kk[t])), (t, 1, d_k))),
              "The expectation of a sum is the sum of expectations; [[expr:q_t]] and [[expr:k_t]] are independent, so the "
              "expectation of their product is the product of their expectations.",
              "和的期望等于期望之和；[[expr:q_t]] 与 [[expr:k_t]] 独立，所以乘积的期望等于期望的乘积。", _moments()),
        _step(lambda: Relation(sp.Sum(Times(Expect(q[t]), Expect(kk[t])), (t, 1, d_k)), sp.Integer(0)),
              "Every entry has mean 0.", "每个分量的均值为 0。", _moments("mean 0")),
        _step(lambda: Relation(Var(_dot()), sp.Sum(Times(Expect(q[t] ** 2), Expect(kk[t] ** 2)), (t, 1, d_k))),
              "The products [[expr:qk_t]] are independent of each other, so their variances add; each has mean 0, so "
              "its variance is the expectation of its square, [[expr:moments_t]] by independence.",
              "各乘积 [[expr:qk_t]] 相互独立，所以方差相加；每个乘积均值为 0，方差就是其平方的期望，由独立性等于 "
              "[[expr:moments_t]]。",
              _moments("mean 0")),
        _step(lambda: Relation(sp.Sum(Times(Expect(q[t] ** 2), Expect(kk[t] ** 2)), (t, 1, d_k)), d_k),
              "Mean 0 and variance 1 give [[expr:second_moment]] for every entry x: the sum has [[d_k]] terms equal to 1.",
              "均值 0、方差 1 说明每个分量 x 都有 [[expr:second_moment]]：和中有 [[d_k]] 个等于 1 的项。",
              _moments("mean 0", "variance 1")),
        _step(lambda: Relation(Var(Frac(_dot(), sp.sqrt(d_k))), Frac(Var(_dot()), d_k)),
              "Dividing by a constant [[expr:c]] divides the variance by [[expr:c_squared]].", "除以常数 [[expr:c]]，方差除以 [[expr:c_squared]]。", _moments()),
        _step(lambda: Relation(Frac(Var(_dot()), d_k), sp.Integer(1)),
              "The variance of the dot product is [[d_k]] (steps 3 and 4).", "点积的方差为 [[d_k]]（第 3、4 步）。",
              _moments("mean 0", "variance 1")),
    ],
    Text("The unscaled score has mean 0 and variance [[d_k]], so its typical size grows like [[sqrt:d_k]]; large "
         "scores push the softmax towards one-hot rows, where its gradient is tiny (Section 3.2.1). Divided by "
         "[[sqrt:d_k]], the score has variance 1 for every [[d_k]]. The figure samples such q and k and shows the "
         "entropy of softmax rows with and without the division.",
         "未缩放的得分均值为 0、方差为 [[d_k]]，典型大小按 [[sqrt:d_k]] 增长；得分过大会把 softmax 推向接近独热（one-hot）的行，"
         "此时梯度极小（论文 3.2.1 节）。除以 [[sqrt:d_k]] 之后，无论 [[d_k]] 多大，得分的方差都是 1。"
         "图中对这样的 q、k 抽样，比较缩放与不缩放时 softmax 各行的熵。"),
    figure="entropy",
    sources=PAPER,
    _named=(3, 5),
))


# 2. The softmax Jacobian

a, s_ = sp.IndexedBase("a"), sp.IndexedBase("s")


def _total():
    return sp.Sum(sp.exp(s_[k]), (k, 1, m))


def _softmax_entry(e):
    return sp.exp(s_[e.indices[0]]) / sp.Sum(sp.exp(s_[k]), (k, 1, m))


for _name, _build in {
    "softmax_entry": lambda: Relation(a[i], Frac(sp.exp(s_[i]), _total())),
    "jacobian_entry": lambda: Relation(sp.Derivative(a[i], s_[j]), Times(a[i], Minus(sp.KroneckerDelta(i, j), a[j]))),
    "a_i": lambda: a[i], "s_i": lambda: s_[i], "s_j": lambda: s_[j],
    "exp_s_i": lambda: sp.exp(s_[i]), "exp_s_j": lambda: sp.exp(s_[j]),
    "delta_ij": lambda: sp.KroneckerDelta(i, j), "i_is_j": lambda: Relation(i, j),
}.items():
    expression(_name, _build)


def _jacobian_proof(relation):
    cases = [{"m": size, "i": x, "j": y} for size in (2, 3) for x in range(1, size + 1) for y in range(1, size + 1)]
    return proofs.scalar_equal(relation, cases, [(lambda e: isinstance(e, sp.Indexed) and e.base == a, _softmax_entry)])


register(Derivation(
    "deriv.softmax_jacobian",
    Text("The softmax Jacobian", "softmax 的雅可比矩阵"),
    Text("Take one row of scores s with [[m]] entries and its softmax a: [[expr:softmax_entry]]. "
         "The backward pass of attention needs how every [[expr:a_i]] changes with every [[expr:s_j]].",
         "取一行得分 s（[[m]] 个分量）及其 softmax a：[[expr:softmax_entry]]。"
         "注意力的反向传播需要知道每个 [[expr:a_i]] 随每个 [[expr:s_j]] 如何变化。"),
    [
        _step(lambda: Relation(sp.Derivative(a[i], s_[j]),
                               Frac(Minus(Times(sp.KroneckerDelta(i, j), sp.exp(s_[i]), _total()),
                                          Times(sp.exp(s_[i]), sp.exp(s_[j]))), Power(_total(), 2))),
              "The quotient rule; the numerator [[expr:exp_s_i]] changes only with [[expr:s_i]] (the Kronecker "
              "delta [[expr:delta_ij]] is 1 when [[expr:i_is_j]], else 0), and the denominator changes by [[expr:exp_s_j]].",
              "商的求导法则；分子 [[expr:exp_s_i]] 只随 [[expr:s_i]] 变化（克罗内克 δ [[expr:delta_ij]] 在 [[expr:i_is_j]] 时为 1，"
              "否则为 0），分母的导数是 [[expr:exp_s_j]]。",
              _jacobian_proof),
        _step(lambda: Relation(Frac(Minus(Times(sp.KroneckerDelta(i, j), sp.exp(s_[i]), _total()),
                                          Times(sp.exp(s_[i]), sp.exp(s_[j]))), Power(_total(), 2)),
                               Times(a[i], Minus(sp.KroneckerDelta(i, j), a[j]))),
              "Split the fraction, and use [[expr:softmax_entry]] for i and the same for j.",
              "把分式拆开，并对 i 用 [[expr:softmax_entry]]，对 j 同理。", _jacobian_proof),
    ],
    Text("[[expr:jacobian_entry]]: the Jacobian of a row is the diagonal matrix of the weights minus the outer "
         "product of the weights with themselves. It is symmetric, and each of its rows sums to 0, since the weights "
         "always sum to 1.",
         "[[expr:jacobian_entry]]：一行的雅可比矩阵等于以权重为对角元的对角矩阵减去权重与自身的外积。它是对称的，"
         "每行之和为 0，因为权重之和恒为 1。"),
))


# 3. The backward pass of scaled dot-product attention

Q, K, V = matrix("Q", n, d_k), matrix("K", m, d_k), matrix("V", m, d_v)
S, A, M, B, Z = matrix("S", n, m), matrix("A", n, m), matrix("M", n, m), matrix("B", n, m), matrix("Z", n, d_v)


def _sdpa_setting():
    from sympy.matrices.expressions import MatAdd

    definitions = ((S, Scaled(MatMul(Q, Transpose(K)), sp.sqrt(d_k))), (A, Softmax(MatAdd(S, M))), (Z, MatMul(A, V)))
    sizes = ({"n": 2, "m": 3, "d_k": 2, "d_v": 1}, {"n": 3, "m": 2, "d_k": 1, "d_v": 2})
    blocked = ([[0, -sp.oo, 0], [-sp.oo, 0, -sp.oo]], [[0, -sp.oo], [0, 0], [-sp.oo, 0]])
    # each sizes twice: without a mask (M = 0) and with one (M = -oo where B = 0)
    cases, values = [], []
    for s, pattern in zip(sizes, blocked):
        for mask in (sp.zeros(s["n"], s["m"]), sp.ImmutableMatrix(pattern)):
            cases.append(s)
            values.append({M: sp.ImmutableMatrix(mask), B: mask.applyfunc(lambda x: 0 if x == -sp.oo else 1)})
    return proofs.Setting(definitions, Z, tuple(cases), tuple(values))


SDPA = _sdpa_setting()
_grad = partial(proofs.gradient_equal, setting=SDPA)
l = scalar("l")


def _at(matrix_expr, row, col):
    """The entry (row, col) of a matrix expression that SymPy cannot index itself, such as dZ."""
    from sympy.matrices.expressions.matexpr import MatrixElement

    return MatrixElement(matrix_expr, row, col)


def _entry_sum(index, upper, *factors):
    return sp.Sum(Times(*factors), (index, 1, upper))


for _name, _build in {
    "sdpa_scores": lambda: Relation(S, Scaled(MatMul(Q, Transpose(K)), sp.sqrt(d_k))),
    "scores_transposed": lambda: Relation(Transpose(S), Scaled(MatMul(K, Transpose(Q)), sp.sqrt(d_k))),
    "sdpa_weights": lambda: Relation(A, Softmax(MatAdd(S, M))),
    "S_plus_M": lambda: MatAdd(S, M),
    "sdpa_output": lambda: Relation(Z, MatMul(A, V)),
    "sdpa_loss": lambda: Relation(scalar("loss"), sp.Sum(sp.Sum(Times(_at(Grad(Z), i, l), Z[i, l]), (l, 1, d_v)), (i, 1, n))),
    "dZ": lambda: Grad(Z), "dV": lambda: Grad(V),
    "dV_entry": lambda: Relation(sp.Derivative(scalar("loss"), V[k, l]), _entry_sum(i, n, _at(Grad(Z), i, l), A[i, k])),
    "dA_entry": lambda: Relation(sp.Derivative(scalar("loss"), A[i, k]), _entry_sum(l, d_v, _at(Grad(Z), i, l), V[k, l])),
    "dS_entry": lambda: Relation(_at(Grad(S), i, j), Times(A[i, j], Minus(_at(Grad(A), i, j),
                                                                     _entry_sum(k, m, _at(Grad(A), i, k), A[i, k])))),
    "M_blocked": lambda: Relation(M[i, j], -sp.oo),
    "A_zero": lambda: Relation(A[i, j], 0),
    "dS_zero": lambda: Relation(_at(Grad(S), i, j), 0),
}.items():
    expression(_name, _build)


def _ds():
    dA = Grad(A)
    return HadamardProduct(A, MatMinus(dA, MatMul(RowSum(HadamardProduct(dA, A)), OneMatrix(1, m))))


register(Derivation(
    "deriv.sdpa_backward",
    Text("The backward pass of scaled dot-product attention", "缩放点积注意力的反向传播"),
    Text("With [[expr:sdpa_scores]], [[expr:sdpa_weights]] ([[M]] = 0 without a mask) and [[expr:sdpa_output]], "
         "take the loss [[expr:sdpa_loss]], with the upstream gradient [[expr:dZ]] given. The gradient of a matrix, "
         "such as [[expr:dV]], holds the derivatives of [[loss]] with respect to its entries and has its shape. "
         "This loss is not circular: near any point, every scalar loss changes with [[Z]] like this linear one, with "
         "[[expr:dZ]] its gradient there; so the gradients found for this loss hold for every loss.",
         "设 [[expr:sdpa_scores]]，[[expr:sdpa_weights]]（无掩码时 [[M]] = 0），[[expr:sdpa_output]]；"
         "损失为 [[expr:sdpa_loss]]，其中上游梯度 [[expr:dZ]] 已知。一个矩阵的梯度（如 [[expr:dV]]）由 [[loss]] "
         "对它各元素的导数组成，形状与该矩阵相同。这个损失并不循环：在任一点附近，任何标量损失随 [[Z]] 的变化都与这个线性损失相同，"
         "[[expr:dZ]] 就是它在该点的梯度；所以对这个损失求出的梯度对任何损失都成立。"),
    [
        _step(lambda: Relation(Grad(V), MatMul(Transpose(A), Grad(Z))),
              "[[expr:sdpa_output]] is linear in [[V]]: [[expr:dV_entry]].",
              "[[expr:sdpa_output]] 对 [[V]] 是线性的：[[expr:dV_entry]]。", _grad),
        _step(lambda: Relation(Grad(A), MatMul(Grad(Z), Transpose(V))),
              "[[expr:sdpa_output]] is linear in [[A]]: [[expr:dA_entry]].",
              "[[expr:sdpa_output]] 对 [[A]] 是线性的：[[expr:dA_entry]]。", _grad),
        _step(lambda: Relation(Grad(S), _ds()),
              "Each row of [[A]] is the softmax of the same row of [[expr:S_plus_M]], with the Jacobian "
              "[[expr:jacobian_entry]] (the softmax Jacobian derivation), so [[expr:dS_entry]]. In matrix form, "
              "rowsum takes the sum of each row (a column of n numbers) and the row of m ones copies it to every column.",
              "[[A]] 的每一行是 [[expr:S_plus_M]] 同一行的 softmax，其雅可比矩阵为 [[expr:jacobian_entry]]"
              "（见 softmax 雅可比推导），所以 [[expr:dS_entry]]。写成矩阵形式时，rowsum 求每一行的和（得到 n 个数的一列），"
              "再乘 m 个 1 组成的行，把它复制到每一列。", _grad),
        _step(lambda: Relation(Grad(Q), Scaled(MatMul(Grad(S), K), sp.sqrt(d_k))),
              "[[expr:sdpa_scores]] is linear in [[Q]].", "[[expr:sdpa_scores]] 对 [[Q]] 是线性的。", _grad),
        _step(lambda: Relation(Grad(K), Scaled(MatMul(Transpose(Grad(S)), Q), sp.sqrt(d_k))),
              "[[expr:scores_transposed]] is linear in [[K]].", "[[expr:scores_transposed]] 对 [[K]] 是线性的。", _grad),
        _step(lambda: Relation(Grad(S), HadamardProduct(B, Grad(S))),
              "Masked positions get no gradient: where [[expr:M_blocked]], [[expr:A_zero]], so [[expr:dS_zero]] "
              "([[B]] is 1 where the query may attend to the key, 0 elsewhere).",
              "被屏蔽的位置没有梯度：[[expr:M_blocked]] 处 [[expr:A_zero]]，所以 [[expr:dS_zero]]"
              "（[[B]] 在允许关注处为 1，其余为 0）。", _grad),
    ],
    Text("The five gradients of steps 1 to 5, and [[expr:dS_zero]] where the mask blocks. "
         "mhasym.numeric.attention_backward runs these formulas.",
         "第 1 到 5 步的五个梯度，以及掩码屏蔽处 [[expr:dS_zero]]。mhasym.numeric.attention_backward 运行的就是这些公式。"),
    _named=(2, 3, 4, 5, 6),
))


# 4. The backward pass of multi-head attention

X, X_kv, O = matrix("X_q", n, d_model), matrix("X_kv", m, d_model), matrix("O", n, d_model)


def _head(name, k):
    rows = m if name in ("K", "V") else n
    cols = {"Q": d_k, "K": d_k, "V": d_v, "head": d_v}[name]
    return matrix(name, rows, cols, k)


def _w(name, k):
    return matrix(f"W_{name}", d_v if name == "O" else d_model, d_model if name == "O" else (d_v if name == "V" else d_k), k)


def _mha_definitions(sizes):
    """Per head k: Q_k = X W^Q_k, K_k = X_kv W^K_k, V_k = X_kv W^V_k, head_k = Attention(Q_k, K_k, V_k, M);
    W^O is its h blocks W^O_k stacked; O = Concat(head_1, ..., head_h) W^O."""
    count = sizes["h"]
    out = []
    for k_ in range(1, count + 1):
        out += [(_head("Q", k_), MatMul(X, _w("Q", k_))), (_head("K", k_), MatMul(X_kv, _w("K", k_))),
                (_head("V", k_), MatMul(X_kv, _w("V", k_))),
                (_head("head", k_), Apply("Attention", n, d_v, _head("Q", k_), _head("K", k_), _head("V", k_), M))]
    W_O = matrix("W_O", h * d_v, d_model)
    out.append((W_O, VStack(*[_w("O", k_) for k_ in range(1, count + 1)])))
    out.append((O, MatMul(Concat(*[_head("head", k_) for k_ in range(1, count + 1)]), W_O)))
    return tuple(out)


def _mha_setting():
    # n != m, d_k != d_v; the first sizes with a mask, the second with h = 3 (a size no other size equals,
    # for the order of the heads) and i = 2, the head in the middle
    first = {"n": 1, "m": 2, "d_model": 2, "h": 2, "d_k": 1, "d_v": 2}
    second = {"n": 1, "m": 2, "d_model": 1, "h": 3, "d_k": 2, "d_v": 1}
    cases = ({**first, "i": 1}, {**second, "i": 2})
    masks = (sp.ImmutableMatrix([[-sp.oo, 0]]), sp.zeros(1, 2))
    return proofs.Setting(_mha_definitions, O, cases, tuple({M: mask} for mask in masks))


MHA = _mha_setting()
_mha_grad = partial(proofs.gradient_equal, setting=MHA)


def _all_heads():
    return Concat(_head("head", 1), Elided(n, (h - 2) * d_v, _head("head", i), i, 2, h - 1), _head("head", h))


register(Derivation(
    "deriv.mha_backward",
    Text("The backward pass of multi-head attention", "多头注意力的反向传播"),
    Text("With [[expr:mha_head]] and [[expr:mha_output]], take the loss [[expr:mha_loss]] with [[expr:dO]] given. "
         "[[W_O:i]] is the i-th block of [[d_v]] rows of [[W_O]]; [[Q:i]], [[K:i]], [[V:i]] are head i's projections, "
         "and their gradients come from the attention backward pass with [[expr:dZ_is_dhead]].",
         "设 [[expr:mha_head]]，[[expr:mha_output]]；损失为 [[expr:mha_loss]]，[[expr:dO]] 已知。"
         "[[W_O:i]] 是 [[W_O]] 的第 i 块（[[d_v]] 行）；[[Q:i]]、[[K:i]]、[[V:i]] 是第 i 个头的投影，"
         "它们的梯度由注意力的反向传播（取 [[expr:dZ_is_dhead]]）给出。"),
    [
        _step(lambda: Relation(Grad(matrix("W_O", h * d_v, d_model)), MatMul(Transpose(_all_heads()), Grad(O))),
              "[[O]] is linear in [[W_O]].", "[[O]] 对 [[W_O]] 是线性的。", _mha_grad),
        _step(lambda: Relation(Grad(_head("head", i)), MatMul(Grad(O), Transpose(_w("O", i)))),
              "Block multiplication: [[expr:O_blocks]], so head i receives the block [[expr:dhead_block]].",
              "分块乘法：[[expr:O_blocks]]，所以第 i 个头得到的梯度是 [[expr:dhead_block]] 这一块。", _mha_grad),
        _step(lambda: Relation(Grad(_w("Q", i)), MatMul(Transpose(X), Grad(_head("Q", i)))),
              "[[expr:proj_Q]] is linear in [[W_Q:i]].", "[[expr:proj_Q]] 对 [[W_Q:i]] 是线性的。", _mha_grad),
        _step(lambda: Relation(Grad(_w("K", i)), MatMul(Transpose(X_kv), Grad(_head("K", i)))),
              "[[expr:proj_K]] is linear in [[W_K:i]].", "[[expr:proj_K]] 对 [[W_K:i]] 是线性的。", _mha_grad),
        _step(lambda: Relation(Grad(_w("V", i)), MatMul(Transpose(X_kv), Grad(_head("V", i)))),
              "[[expr:proj_V]] is linear in [[W_V:i]].", "[[expr:proj_V]] 对 [[W_V:i]] 是线性的。", _mha_grad),
        _step(lambda: Relation(Grad(X), MatSum(MatMul(Grad(_head("Q", i)), Transpose(_w("Q", i))), i, 1, h)),
              "[[X_q]] reaches the loss through every head's queries: the chain rule adds the paths.",
              "[[X_q]] 通过每个头的查询影响损失：链式法则把各条路径相加。", _mha_grad),
        _step(lambda: Relation(Grad(X_kv), MatSum(MatAdd(MatMul(Grad(_head("K", i)), Transpose(_w("K", i))),
                                                         MatMul(Grad(_head("V", i)), Transpose(_w("V", i)))), i, 1, h)),
              "[[X_kv]] reaches the loss through every head's keys and values: the chain rule adds all these paths.",
              "[[X_kv]] 通过每个头的键和值影响损失：链式法则把所有路径相加。", _mha_grad),
    ],
    Text("[[expr:mha_step_1]]; head i receives [[expr:dhead_block]]; [[expr:mha_step_3]], [[expr:mha_step_4]], "
         "[[expr:mha_step_5]]; [[expr:dX_q]] and [[expr:dX_kv]] add over heads (and over the key and value paths). In "
         "self-attention [[expr:self_inputs]], and the whole gradient of [[X]] is [[expr:dX_total]]. "
         "mhasym.numeric.multi_head_attention_backward runs these formulas.",
         "[[expr:mha_step_1]]；第 i 个头得到 [[expr:dhead_block]]；[[expr:mha_step_3]]，[[expr:mha_step_4]]，"
         "[[expr:mha_step_5]]；[[expr:dX_q]] 与 [[expr:dX_kv]] 对各头求和（[[expr:dX_kv]] 还要加上键与值两条路径）。"
         "在自注意力中 [[expr:self_inputs]]，[[X]] 的完整梯度是 [[expr:dX_total]]。"
         "mhasym.numeric.multi_head_attention_backward 运行的就是这些公式。"),
    _named=(2, 3, 4, 5, 6, 7),
))


# 5. Concatenate, then project

def _concat_heads(name):
    return Concat(matrix(name, n, d_v, 1), Elided(n, (h - 2) * d_v, matrix(name, n, d_v, i), i, 2, h - 1),
                  matrix(name, n, d_v, h))


def _wo_blocks():
    return VStack(_w("O", 1), Elided((h - 2) * d_v, d_model, _w("O", i), i, 2, h - 1), _w("O", h))


def _wo_block(symbol, env):
    """W^O_k: rows (k - 1) d_v + 1 .. k d_v of W^O."""
    if symbol.key != "W_O" or symbol.index is None:
        return None
    rows, cols = int(symbol.shape[0]), int(symbol.shape[1])
    full = proofs.explicit(matrix("W_O", rows * env.sizes["h"], cols), env)
    start = (int(symbol.index) - 1) * rows
    return full[start:start + rows, :]


def _blocks_proof(relation):
    return proofs.identity_equal(relation, [{"n": 2, "h": 2, "d_v": 3, "d_model": 1},
                                            {"n": 1, "h": 3, "d_v": 2, "d_model": 4}], _wo_block)


register(Derivation(
    "deriv.concat_project",
    Text("Concatenate, then project: a sum over heads", "先拼接再投影：对各头求和"),
    Text("[[W_O]] has h [[d_v]] rows. Cut it into h blocks of [[d_v]] rows: [[W_O:i]] is rows (i − 1) [[d_v]] + 1 "
         "to i [[d_v]]. This is the paper's MultiHead with its [[W_O]] (the notebook stops at the concatenation).",
         "[[W_O]] 有 h [[d_v]] 行。把它切成 h 块，每块 [[d_v]] 行：[[W_O:i]] 是第 (i − 1) [[d_v]] + 1 到 i [[d_v]] 行。"
         "这就是论文中带 [[W_O]] 的 MultiHead（课程笔记只写到拼接为止）。"),
    [
        _step(lambda: Relation(MatMul(_concat_heads("head"), matrix("W_O", h * d_v, d_model)),
                               MatMul(_concat_heads("head"), _wo_blocks())),
              "Write [[W_O]] as its [[h]] blocks of [[d_v]] rows.", "把 [[W_O]] 写成 [[h]] 块，每块 [[d_v]] 行。",
              _blocks_proof),
        _step(lambda: Relation(MatMul(_concat_heads("head"), _wo_blocks()),
                               MatSum(MatMul(matrix("head", n, d_v, i), _w("O", i)), i, 1, h)),
              "Block multiplication: a row of h blocks times a column of h blocks is the sum of the h products.",
              "分块乘法：一行 h 块乘一列 h 块，等于 h 个乘积之和。", _blocks_proof),
    ],
    Text("MultiHead is a sum of h terms, one per head: head i's output [[head:i]] is projected by its own block "
         "[[W_O:i]], and the projections are added. So [[W_O]] mixes the heads; the concatenation alone keeps them apart.",
         "MultiHead 是 h 项之和，每个头一项：第 i 个头的输出 [[head:i]] 乘以自己的那一块 [[W_O:i]]，再把结果相加。"
         "所以是 [[W_O]] 把各头混合起来；单独的拼接让它们保持分开。"),
    sources=PAPER,
))


# 6. A mask of minus infinity renormalises the softmax over the allowed keys

Ai, Si, Mi, Bi = (sp.IndexedBase(x) for x in ("A", "S", "M", "B"))


def _mask_cases(sizes):
    """Every pattern of blocked keys in row 1 that leaves at least one key."""
    import itertools

    out = []
    for pattern in itertools.product((0, 1), repeat=sizes["m"]):
        if any(pattern):
            table = {}
            for col, allowed in enumerate(pattern, 1):
                table[Mi[1, col]] = sp.Integer(0) if allowed else -sp.oo
                table[Bi[1, col]] = sp.Integer(allowed)
            out.append(table)
    return out


def _row_softmax(e, size):
    """A_ij from the matrix definition A = softmax(S + M) with m = ``size`` keys, computed by the package's
    softmax on entries."""
    row, col = (int(x) for x in e.indices)
    S_ = sp.ImmutableMatrix(1, size, lambda r, c: Si[row, c + 1])
    M_ = sp.ImmutableMatrix(1, size, lambda r, c: Mi[row, c + 1])
    return proofs.explicit(Softmax(matrix("S", 1, size) + matrix("M", 1, size)),
                           {matrix("S", 1, size): S_, matrix("M", 1, size): M_})[0, col - 1]


def _mask_proof(relation):
    cases = []
    for size in (2, 3):
        cases += [{"m": size, "i": 1, "j": col} for col in range(1, size + 1)]

    def definitions(sizes):
        return [(lambda e: isinstance(e, sp.Indexed) and e.base == Ai, lambda e: _row_softmax(e, sizes["m"]))]

    return proofs.scalar_equal(relation, cases, definitions, values=_mask_cases)


def _masked_sum(with_mask):
    term = sp.exp(Plus(Si[i, k], Mi[i, k])) if with_mask else Times(Bi[i, k], sp.exp(Si[i, k]))
    return sp.Sum(term, (k, 1, m))


register(Derivation(
    "deriv.mask_renormalise",
    Text("A mask of minus infinity: softmax over the allowed keys", "负无穷掩码：只在允许的键上做 softmax"),
    Text("[[expr:sdpa_weights]] with [[M]] 0 where query i may attend to key k and minus infinity elsewhere; [[B]] is "
         "the same mask as 0/1 (1 where allowed). Every row is assumed to allow at least one key.",
         "[[expr:sdpa_weights]]，其中 [[M]] 在查询 i 可以关注键 k 处为 0，其余为负无穷；[[B]] 是同一个掩码的 0/1 形式"
         "（允许处为 1）。假设每一行至少允许一个键。"),
    [
        _step(lambda: Relation(Ai[i, j], Frac(sp.exp(Plus(Si[i, j], Mi[i, j])), _masked_sum(True))),
              "The softmax of row i of S + M.", "S + M 第 i 行的 softmax。", _mask_proof),
        _step(lambda: Relation(Frac(sp.exp(Plus(Si[i, j], Mi[i, j])), _masked_sum(True)),
                               Frac(Times(Bi[i, j], sp.exp(Si[i, j])), _masked_sum(False))),
              "[[expr:exp_allowed]] where allowed, and [[expr:exp_blocked]] where blocked.",
              "允许处 [[expr:exp_allowed]]，屏蔽处 [[expr:exp_blocked]]。", _mask_proof),
    ],
    Text("Blocked keys get weight exactly 0, and the allowed keys share the whole weight 1 in the same proportions "
         "as their [[expr:exp_S_ik]]: the softmax of the allowed scores alone. A row with no allowed key would give 0/0; "
         "the package refuses such a mask with an error naming the row.",
         "被屏蔽的键权重恰好为 0；允许的键按各自 [[expr:exp_S_ik]] 的比例分享全部权重 1，即只对允许的得分做 softmax。"
         "若某一行没有允许的键，会得到 0/0；本项目会报错并指出是哪一行。"),
))


# 7. Online softmax

sj, vj = sp.IndexedBase("s"), sp.IndexedBase("v")
smax1, smax2, ell1, ell2, o1, o2, m1 = (scalar(x) for x in ("smax1", "smax2", "ell1", "ell2", "o1", "o2", "m1"))


class _BlockMax(sp.Function):
    """max(s_max^(1), s_(m_1 + 1), ..., s_m), written out once m_1 and m are numbers."""

    nargs = 3

    @classmethod
    def eval(cls, first, lower, upper):
        if lower.is_Integer and upper.is_Integer:
            return sp.Max(first, *[sj[x] for x in range(int(lower), int(upper) + 1)])
        return None


def _block_max():
    return _BlockMax(smax1, m1 + 1, m)


def _online_definitions():
    """The running quantities after block 1 (keys 1 .. m_1) and after block 2 (keys m_1 + 1 .. m)."""
    e1 = lambda j_: sp.exp(Minus(sj[j_], smax1))  # noqa: E731
    e2 = lambda j_: sp.exp(Minus(sj[j_], smax2))  # noqa: E731
    shift = sp.exp(Minus(smax1, smax2))
    return {
        smax2: _block_max(),
        ell1: sp.Sum(e1(j), (j, 1, m1)),
        o1: sp.Sum(Times(e1(j), vj[j]), (j, 1, m1)),
        ell2: Plus(Times(shift, ell1), sp.Sum(e2(j), (j, m1 + 1, m))),
        o2: Plus(Times(shift, o1), sp.Sum(Times(e2(j), vj[j]), (j, m1 + 1, m))),
    }


def _online_proof(relation):
    # the maximum stays a free symbol: the steps hold whatever the shift is
    defs = {k_: v for k_, v in _online_definitions().items() if k_ != smax2}
    return proofs.scalar_equal(relation, [{"m1": 1, "m": 2}, {"m1": 2, "m": 5}, {"m1": 3, "m": 4}],
                               [(lambda e: e in defs, lambda e: defs[e])])


def _online_numbers():
    """Many blocks: the update that the setting defines ([[smax2]], [[ell2]], [[o2]] from [[smax1]], [[ell1]],
    [[o1]] and one block), compiled from those definitions, run block after block over random scores and
    values, against the reference's softmax(S) V."""
    from mhasym import reference

    g = np.random.default_rng(20261202)
    rows, keys, width, size = 4, 23, 3, 4  # 6 blocks: five of 4 keys, the last of 3
    scores, values = g.normal(scale=3.0, size=(rows, keys)), g.normal(size=(keys, width))
    defs = _online_definitions()
    steps = {}
    for start in range(0, keys, size):
        stop = min(start + size, keys)
        block_s = [sj[x] for x in range(start + 1, stop + 1)]
        block_v = [vj[x] for x in range(start + 1, stop + 1)]
        sizes = {"m1": start, "m": stop}
        exprs = [proofs.written_out(defs[x], sizes) for x in (smax2, ell2, o2)]
        # [[smax2]] enters the sums; it is computed first and passed in
        steps[start] = (sp.lambdify([smax1, *block_s], exprs[0], "numpy"),
                        sp.lambdify([smax1, smax2, ell1, o1, *block_s, *block_v], exprs[1:], "numpy"))
    out = np.zeros((rows, width))
    for r in range(rows):
        run_max, run_sum, run_out = -np.inf, 0.0, np.zeros(width)
        for start, (new_max, update) in steps.items():
            block = list(scores[r, start:start + size])
            top = float(new_max(run_max, *block))
            run_sum, run_out = update(run_max, top, run_sum, run_out, *block, *values[start:start + size])
            run_max = top
        out[r] = run_out / run_sum
    want = reference.softmax_rows(scores) @ values
    error = float(np.abs(out - want).max())
    return [(error < 1e-12, f"{keys} keys in {len(steps)} blocks, {rows} rows: max error {error:.1e} against "
                            "the reference's softmax(S) V")]


def _online_sum(weighted, shift=True):
    term = sp.exp(Minus(sj[j], smax2)) if shift else sp.exp(sj[j])
    return sp.Sum(Times(term, vj[j]) if weighted else term, (j, 1, m))


register(Derivation(
    "deriv.online_softmax",
    Text("Online softmax: attention one block of keys at a time", "在线 softmax：一次处理一块键"),
    Text("Take one row of scores [[expr:scores_row]] and one column of values [[expr:values_column]], the keys in "
         "two blocks: 1 to [[m1]] and [[m1]] + 1 to [[m]]. After block 1 keep three numbers: the running maximum "
         "[[smax1]], [[expr:online_ell1]] and [[expr:online_o1]]. Block 2 updates them: [[smax2]] is the larger of "
         "[[smax1]] and the largest score of block 2, [[expr:online_ell2]] and [[expr:online_o2]]. "
         "The maximum only keeps the exponents at most 0; the steps hold for any value of it.",
         "取一行得分 [[expr:scores_row]] 和一列值 [[expr:values_column]]，键分成两块：1 到 [[m1]] 与 [[m1]] + 1 到 [[m]]。"
         "处理完第 1 块后只保留三个数：当前最大值 [[smax1]]、[[expr:online_ell1]] 与 [[expr:online_o1]]。"
         "第 2 块更新它们：[[smax2]] 取 [[smax1]] 与第 2 块最大得分中的较大者，[[expr:online_ell2]]，[[expr:online_o2]]。"
         "取最大值只是为了让指数不超过 0；下面各步对它的任何取值都成立。"),
    [
        _step(lambda: Relation(Frac(o2, ell2), Frac(_online_sum(True), _online_sum(False))),
              "Put in the definitions: [[expr:online_shift]], so both blocks now use the same shift.",
              "代入定义：[[expr:online_shift]]，两块现在使用同一个平移量。", _online_proof),
        _step(lambda: Relation(Frac(_online_sum(True), _online_sum(False)),
                               Frac(_online_sum(True, False), _online_sum(False, False))),
              "Multiply the top and the bottom by [[expr:exp_smax2]].", "分子分母同乘 [[expr:exp_smax2]]。", _online_proof),
    ],
    Text("[[expr:online_ratio]] is exactly the softmax-weighted sum of the values, the row of [[expr:softmax_S_V]], though no "
         "step saw all the scores at once. This is the online softmax of Milakov and Gimelshein (2018); repeating "
         "the update block after block gives FlashAttention's loop (Dao et al., 2022). The check runs it on 23 keys "
         "in 6 blocks.",
         "[[expr:online_ratio]] 恰好是按 softmax 加权的值之和，即 [[expr:softmax_S_V]] 的这一行，而没有任何一步同时看到全部得分。"
         "这就是 Milakov 和 Gimelshein（2018）的在线 softmax；逐块重复这一更新，就是 FlashAttention（Dao 等，2022）的循环。"
         "检查在 23 个键、6 块上运行它。"),
    numbers=_online_numbers,
))


# 8. The positional encoding: a shift is a rotation

pos, delta, omega = scalar("pos"), scalar("delta"), scalar("omega")


def _pe(at, part):
    return PosEnc(at, part)


def _pe_pair(at):
    return sp.ImmutableMatrix([[_pe(at, 2 * i)], [_pe(at, 2 * i + 1)]])


def _pe_definitions():
    def make(e):
        at, part = e.args
        if sp.expand(part - 2 * i) == 0:
            return sp.sin(Times(omega, at))
        if sp.expand(part - 2 * i - 1) == 0:
            return sp.cos(Times(omega, at))
        raise proofs.ProofError(f"column {part} is not in the pair 2i, 2i + 1")

    return [(lambda e: isinstance(e, PosEnc), make)]


def _rotation():
    c, s2 = sp.cos(Times(omega, delta)), sp.sin(Times(omega, delta))
    return sp.ImmutableMatrix([[c, s2], [Neg(s2), c]])


def _trig_proof(relation):
    return proofs.scalar_equal(relation, [{}], _pe_definitions())


register(Derivation(
    "deriv.pe_rotation",
    Text("Positional encoding: moving by δ positions is a rotation", "位置编码：平移 δ 个位置就是一次旋转"),
    Text("For one pair of columns [[expr:col_even]] and [[expr:col_odd]], [[expr:pe_sin]] and [[expr:pe_cos]] with "
         "the frequency [[expr:omega_def]] (Section 3.5).",
         "对一对列 [[expr:col_even]] 与 [[expr:col_odd]]，[[expr:pe_sin]]，[[expr:pe_cos]]，频率 [[expr:omega_def]]"
         "（论文 3.5 节）。"),
    [
        _step(lambda: Relation(_pe_pair(Plus(pos, delta)),
                               sp.ImmutableMatrix([[sp.sin(Times(omega, Plus(pos, delta)))],
                                                   [sp.cos(Times(omega, Plus(pos, delta)))]])),
              "The definition at position pos + δ.", "位置 pos + δ 处的定义。", _trig_proof),
        _step(lambda: Relation(sp.ImmutableMatrix([[sp.sin(Times(omega, Plus(pos, delta)))],
                                                   [sp.cos(Times(omega, Plus(pos, delta)))]]),
                               sp.ImmutableMatrix([[Plus(Times(sp.sin(Times(omega, pos)), sp.cos(Times(omega, delta))),
                                                         Times(sp.cos(Times(omega, pos)), sp.sin(Times(omega, delta))))],
                                                   [Minus(Times(sp.cos(Times(omega, pos)), sp.cos(Times(omega, delta))),
                                                          Times(sp.sin(Times(omega, pos)), sp.sin(Times(omega, delta))))]])),
              "[[expr:sin_sum]] and [[expr:cos_sum]].", "[[expr:sin_sum]]，[[expr:cos_sum]]。", _trig_proof),
        _step(lambda: Relation(sp.ImmutableMatrix([[Plus(Times(sp.sin(Times(omega, pos)), sp.cos(Times(omega, delta))),
                                                         Times(sp.cos(Times(omega, pos)), sp.sin(Times(omega, delta))))],
                                                   [Minus(Times(sp.cos(Times(omega, pos)), sp.cos(Times(omega, delta))),
                                                          Times(sp.sin(Times(omega, pos)), sp.sin(Times(omega, delta))))]]),
                               MatMul(_rotation(), _pe_pair(pos))),
              "Read the two lines as a 2 × 2 matrix times the pair at pos.",
              "把两行看成一个 2 × 2 矩阵乘以 pos 处的一对值。", _trig_proof),
        _step(lambda: Relation(MatMul(Transpose(_rotation()), _rotation()), sp.ImmutableMatrix(sp.eye(2))),
              "[[expr:pythagoras]]: the matrix is orthogonal, and it does not depend on [[pos]].",
              "[[expr:pythagoras]]：这个矩阵是正交矩阵，并且与 [[pos]] 无关。", _trig_proof),
        _step(lambda: Relation(sp.Determinant(_rotation()), sp.Integer(1)),
              "Its determinant is [[expr:pythagoras]], so it is a rotation, not a reflection. Since the pair is "
              "written (sin, cos), it turns by −ω δ: clockwise by the angle ω δ.",
              "它的行列式为 [[expr:pythagoras]]，所以是旋转而不是反射。由于这一对写成 (sin, cos) 的顺序，它转过的角度是 −ω δ，"
              "即顺时针转过 ω δ。", _trig_proof),
    ],
    Text("PE(pos + δ) is PE(pos) turned clockwise by the angle [[omega]] δ (a rotation by −[[omega]] δ) in every pair "
         "of columns: a fixed linear map for "
         "each offset δ, the same at every position. This is the paper's reason for the sinusoids: relative "
         "positions are easy to attend to.",
         "在每一对列上，PE(pos + δ) 是 PE(pos) 顺时针旋转角度 [[omega]] δ（即旋转 −[[omega]] δ）的结果：对每个偏移 δ 是一个固定的线性映射，"
         "在所有位置都相同。这正是论文选用正弦函数的理由：模型容易按相对位置进行关注。"),
    sources=PAPER,
    _named=(4, 5),
))


# Expressions that the derivations' texts show as math ([[expr:NAME]]), built from the same symbols as the steps.

_a, _b = sp.Symbol("a", real=True), sp.Symbol("b", real=True)


def _step_of(did: str, number: int):
    from mhasym.catalog.derivation import derivation

    return derivation(did).steps[number - 1].expr


for _name, _build in {
    # multi-head backward pass
    "O_blocks": lambda: Relation(O, MatSum(MatMul(_head("head", i), _w("O", i)), i, 1, h)),
    "dhead_block": lambda: MatMul(Grad(O), Transpose(_w("O", i))),
    "mha_step_1": lambda: _step_of("deriv.mha_backward", 1),
    "mha_step_3": lambda: _step_of("deriv.mha_backward", 3),
    "mha_step_4": lambda: _step_of("deriv.mha_backward", 4),
    "mha_step_5": lambda: _step_of("deriv.mha_backward", 5),
    "dX_q": lambda: Grad(X), "dX_kv": lambda: Grad(X_kv),
    "self_inputs": lambda: Relation(matrix("X_q", m, d_model), Relation(X_kv, matrix("X", m, d_model))),
    "dX_total": lambda: MatAdd(Grad(matrix("X_q", m, d_model)), Grad(X_kv)),
    # -inf masks
    "exp_allowed": lambda: Relation(sp.exp(Plus(_x, 0)), sp.exp(_x)),
    "exp_blocked": lambda: Relation(sp.exp(Minus(_x, sp.oo)), 0),
    "exp_S_ik": lambda: sp.exp(S[i, k]),
    # online softmax
    "scores_row": lambda: sp.Tuple(sj[1], Elided(1, 1), sj[m]),
    "values_column": lambda: sp.Tuple(vj[1], Elided(1, 1), vj[m]),
    "online_ell1": lambda: Relation(ell1, _online_definitions()[ell1]),
    "online_o1": lambda: Relation(o1, _online_definitions()[o1]),
    "online_ell2": lambda: Relation(ell2, _online_definitions()[ell2]),
    "online_o2": lambda: Relation(o2, _online_definitions()[o2]),
    "online_shift": lambda: Relation(Times(sp.exp(Minus(smax1, smax2)), sp.exp(Minus(sj[j], smax1))),
                                     sp.exp(Minus(sj[j], smax2))),
    "exp_smax2": lambda: sp.exp(smax2),
    "online_ratio": lambda: Frac(o2, ell2),
    "softmax_S_V": lambda: MatMul(Softmax(S), V),
    # positional encoding
    "col_even": lambda: 2 * i, "col_odd": lambda: 2 * i + 1,
    "pe_sin": lambda: Relation(PosEnc(pos, 2 * i), sp.sin(Times(omega, pos))),
    "pe_cos": lambda: Relation(PosEnc(pos, 2 * i + 1), sp.cos(Times(omega, pos))),
    "omega_def": lambda: Relation(omega, Frac(1, Power(10000, Frac(2 * i, d_model)))),
    # used by the catalog's other texts (exercises, training, mistakes)
    "QK_T": lambda: MatMul(Q, Transpose(K)),
    "y_t": lambda: sp.IndexedBase("y")[t],
    "q_tk": lambda: sp.IndexedBase("q")[t, k],
    "ln_normalised": lambda: Frac(Minus(sp.IndexedBase("x")[j], scalar("mu")),
                                  sp.sqrt(Plus(scalar("sigma") ** 2, scalar("epsilon")))),
    "unbiased_factor": lambda: sp.sqrt(Frac(Minus(d_model, 1), d_model)),
    "eps_zero": lambda: Relation(scalar("epsilon"), 0),
    # the entropy figure: how spread a row of weights is
    "entropy_def": lambda: Relation(sp.Function("entropy")(sp.Symbol("a")),
                                    Neg(sp.Sum(Times(a[j], sp.log(a[j])), (j, 1, m)))),
    "log_m": lambda: sp.log(m),
    # exercise answers: the working, as math
    "dQ": lambda: Grad(Q), "x_j": lambda: sp.IndexedBase("x")[j],
    "dV_matrix": lambda: Relation(Grad(V), MatMul(Transpose(A), Grad(Z))),
    "dQ_zero": lambda: Relation(Grad(Q), sp.ZeroMatrix(*Q.shape)),
    "ln_example": lambda: Frac(Minus(sp.IndexedBase("x")[j], 3), sp.sqrt(Plus(fixed(3.5, 1), Power(10, -5)))),
    "inv_sqrt_step": lambda: Frac(1, sp.sqrt(scalar("step"))),
    # written as a reader writes them, shapes aside (V A has a shape only when n = m = d_v)
    "A_V": lambda: MatMul(notation.symbol("A"), notation.symbol("V")),
    "V_A": lambda: MatMul(notation.symbol("V"), notation.symbol("A")),
    "d_model_minus_1": lambda: Minus(d_model, 1),
    "N_6": lambda: Relation(dim("N"), 6),
    # the optimiser's settings (Section 5.3 of the paper)
    "adam_beta1": lambda: Relation(sp.Symbol("beta_1"), sp.Float("0.9")),
    "adam_beta2": lambda: Relation(sp.Symbol("beta_2"), sp.Float("0.98")),
    "adam_eps": lambda: Relation(scalar("eps_adam"), Power(10, -9)),  # not the epsilon of LayerNorm
    # one fused projection split into heads (id.split_heads)
    "X_WQ": lambda: MatMul(matrix("X", n, d_model), matrix("W_Q", d_model, h * d_k)),
    "X_WQi": lambda: MatMul(matrix("X", n, d_model), matrix("W_Q", d_model, d_k, i)),
    "split_XWQ": lambda: SplitHeads(MatMul(matrix("X", n, d_model), matrix("W_Q", d_model, h * d_k)), h, i),
    "reshape_XWQ": lambda: SplitHeads(MatMul(matrix("X", n, d_model), matrix("W_Q", d_model, h * d_k)), h, i,
                                      transpose=False),
    "sin_sum": lambda: Relation(sp.sin(Plus(_a, _b)), Plus(Times(sp.sin(_a), sp.cos(_b)), Times(sp.cos(_a), sp.sin(_b)))),
    "cos_sum": lambda: Relation(sp.cos(Plus(_a, _b)), Minus(Times(sp.cos(_a), sp.cos(_b)), Times(sp.sin(_a), sp.sin(_b)))),
    "pythagoras": lambda: Relation(Plus(Power(sp.cos(Times(omega, delta)), 2), Power(sp.sin(Times(omega, delta)), 2)), 1),
    # multi-head setting
    "mha_head": lambda: Relation(_head("head", i), Apply("Attention", n, d_v, MatMul(X, _w("Q", i)),
                                                         MatMul(X_kv, _w("K", i)), MatMul(X_kv, _w("V", i)), M)),
    "mha_output": lambda: Relation(O, MatMul(Concat(_head("head", 1), Elided(n, d_v * (h - 2)), _head("head", h)),
                                             matrix("W_O", h * d_v, d_model))),
    "mha_loss": lambda: Relation(scalar("loss"), sp.Sum(sp.Sum(Times(_at(Grad(O), i, k), O[i, k]), (k, 1, d_model)),
                                                        (i, 1, n))),
    "dO": lambda: Grad(O),
    "dZ_is_dhead": lambda: Relation(Grad(Z), Grad(_head("head", i))),
    "proj_Q": lambda: Relation(_head("Q", i), MatMul(X, _w("Q", i))),
    "proj_K": lambda: Relation(_head("K", i), MatMul(X_kv, _w("K", i))),
    "proj_V": lambda: Relation(_head("V", i), MatMul(X_kv, _w("V", i))),
}.items():
    expression(_name, _build)
