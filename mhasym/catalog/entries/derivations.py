"""The derivations, in reading order: why sqrt(d_k), the softmax Jacobian, the backward passes of attention
and multi-head attention, concatenate-then-project, masking with minus infinity, online softmax and the
rotation inside the positional encoding. Every step is proven by :mod:`mhasym.catalog.proofs`."""

from __future__ import annotations

from functools import partial

import numpy as np
import sympy as sp
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, OneMatrix, Transpose
from sympy.stats import Expectation, Variance

from mhasym.catalog import proofs
from mhasym.catalog.derivation import Derivation, Step, register
from mhasym.catalog.entries.sources import PAPER
from mhasym.catalog.text import Text
from mhasym.model import notation
from mhasym.model.expressions import (Apply, Concat, Elided, Frac, Grad, MatMinus, MatSum, Minus, Plus, Power,
                                      Relation, RowSum, Scaled, Softmax, Times, VStack)

dim, scalar, matrix = notation.dim, notation.scalar, notation.matrix
n, m, d_k, d_v, d_model, h = (dim(x) for x in ("n", "m", "d_k", "d_v", "d_model", "h"))
i, j, k, t = (scalar(x) for x in ("i", "j", "k", "t"))


def _step(build, en, zh, prove):
    return Step(build, Text(en, zh), prove)


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


def sdpa_backward_steps():
    """(dV, dA, dS, dQ, dK) as (symbol, expression) pairs: the right sides of the derivation's steps."""
    d = derivation_steps("deriv.sdpa_backward")
    return [(s.lhs, s.rhs) for s in d[:5]]


def _ds():
    dA = Grad(A)
    return HadamardProduct(A, MatMinus(dA, MatMul(RowSum(HadamardProduct(dA, A)), OneMatrix(1, m))))


register(Derivation(
    "deriv.sdpa_backward",
    Text("The backward pass of scaled dot-product attention", "缩放点积注意力的反向传播"),
    Text("With [[S]] = Q K^T / [[sqrt:d_k]], [[A]] = softmax([[S]] + [[M]]) ([[M]] = 0 without a mask) and "
         "[[Z]] = [[A]] V, take the loss [[loss]] = sum over all entries of d[[Z]] ∘ [[Z]], with the upstream gradient "
         "d[[Z]] given. dX is the matrix of derivatives of [[loss]] with respect to the entries of X, shaped like X.",
         "设 [[S]] = Q K^T / [[sqrt:d_k]]，[[A]] = softmax([[S]] + [[M]])（无掩码时 [[M]] = 0），[[Z]] = [[A]] V；"
         "损失 [[loss]] 为 d[[Z]] ∘ [[Z]] 所有元素之和，其中上游梯度 d[[Z]] 已知。dX 表示 [[loss]] 对 X 各元素的导数组成的矩阵，形状与 X 相同。"),
    [
        _step(lambda: Relation(Grad(V), MatMul(Transpose(A), Grad(Z))),
              "Z = A V is linear in V: dL/dV_kl = sum_i dZ_il A_ik.",
              "Z = A V 对 V 是线性的：dL/dV_kl = Σ_i dZ_il A_ik。", _grad),
        _step(lambda: Relation(Grad(A), MatMul(Grad(Z), Transpose(V))),
              "Z = A V is linear in A: dL/dA_ik = sum_l dZ_il V_kl.",
              "Z = A V 对 A 是线性的：dL/dA_ik = Σ_l dZ_il V_kl。", _grad),
        _step(lambda: Relation(Grad(S), _ds()),
              "Each row of A is the softmax of the same row of S + M; its Jacobian is diag(a) - a a^T "
              "(the softmax Jacobian derivation), so dS_ij = A_ij (dA_ij - sum_k dA_ik A_ik).",
              "A 的每一行是 S + M 同一行的 softmax，其雅可比矩阵为 diag(a) − a a^T（见 softmax 雅可比推导），"
              "所以 dS_ij = A_ij (dA_ij − Σ_k dA_ik A_ik)。", _grad),
        _step(lambda: Relation(Grad(Q), Scaled(MatMul(Grad(S), K), sp.sqrt(d_k))),
              "S = Q K^T / sqrt(d_k) is linear in Q.", "S = Q K^T / √d_k 对 Q 是线性的。", _grad),
        _step(lambda: Relation(Grad(K), Scaled(MatMul(Transpose(Grad(S)), Q), sp.sqrt(d_k))),
              "S^T = K Q^T / sqrt(d_k) is linear in K.", "S^T = K Q^T / √d_k 对 K 是线性的。", _grad),
        _step(lambda: Relation(Grad(S), HadamardProduct(B, Grad(S))),
              "Masked positions get no gradient: where M_ij = -inf, A_ij = 0, so dS_ij = 0 (B is 1 where the "
              "query may attend the key, 0 elsewhere).",
              "被屏蔽的位置没有梯度：M_ij = −∞ 处 A_ij = 0，所以 dS_ij = 0（B 在允许关注处为 1，其余为 0）。", _grad),
    ],
    Text("dV = A^T dZ, dA = dZ V^T, dS = A ∘ (dA − rowsum(dA ∘ A) 1^T), dQ = dS K / sqrt(d_k), "
         "dK = dS^T Q / sqrt(d_k), and dS = 0 where the mask blocks. mhasym.numeric.attention_backward runs these "
         "formulas.",
         "dV = A^T dZ，dA = dZ V^T，dS = A ∘ (dA − rowsum(dA ∘ A) 1^T)，dQ = dS K / √d_k，dK = dS^T Q / √d_k；"
         "掩码屏蔽处 dS = 0。mhasym.numeric.attention_backward 运行的就是这些公式。"),
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
    # n != m, d_k != d_v; the second sizes have h = 3 (a size no other size equals) for the order of the heads
    first = {"n": 1, "m": 2, "d_model": 2, "h": 2, "d_k": 1, "d_v": 2}
    second = {"n": 1, "m": 2, "d_model": 1, "h": 3, "d_k": 2, "d_v": 1}
    cases, values = [], []
    for sizes, heads, masks in ((first, (1, 2), (sp.zeros(1, 2), sp.ImmutableMatrix([[-sp.oo, 0]]))),
                                (second, (3,), (sp.zeros(1, 2),))):
        for head in heads:
            for mask in masks:
                cases.append({**sizes, "i": head})
                values.append({M: sp.ImmutableMatrix(mask)})
    return proofs.Setting(_mha_definitions, O, tuple(cases), tuple(values))


MHA = _mha_setting()
_mha_grad = partial(proofs.gradient_equal, setting=MHA)


def _all_heads():
    return Concat(_head("head", 1), Elided(n, (h - 2) * d_v, _head("head", i), i, 2, h - 1), _head("head", h))


register(Derivation(
    "deriv.mha_backward",
    Text("The backward pass of multi-head attention", "多头注意力的反向传播"),
    Text("With [[head:i]] = Attention([[X_q]] [[W_Q:i]], [[X_kv]] [[W_K:i]], [[X_kv]] [[W_V:i]], [[M]]) and "
         "[[O]] = Concat([[head:1]], ..., [[head:h]]) [[W_O]], take the loss [[loss]] = sum over all entries of "
         "d[[O]] ∘ [[O]] with d[[O]] given. [[W_O:i]] is the i-th block of [[d_v]] rows of [[W_O]]; [[Q:i]], [[K:i]], "
         "[[V:i]] are head i's projections, and their gradients come from the attention backward pass with "
         "d[[Z]] = d[[head:i]].",
         "设 [[head:i]] = Attention([[X_q]] [[W_Q:i]], [[X_kv]] [[W_K:i]], [[X_kv]] [[W_V:i]], [[M]])，"
         "[[O]] = Concat([[head:1]], ..., [[head:h]]) [[W_O]]；损失 [[loss]] 为 d[[O]] ∘ [[O]] 所有元素之和，d[[O]] 已知。"
         "[[W_O:i]] 是 [[W_O]] 的第 i 块（[[d_v]] 行）；[[Q:i]]、[[K:i]]、[[V:i]] 是第 i 个头的投影，"
         "它们的梯度由注意力的反向传播（取 d[[Z]] = d[[head:i]]）给出。"),
    [
        _step(lambda: Relation(Grad(matrix("W_O", h * d_v, d_model)), MatMul(Transpose(_all_heads()), Grad(O))),
              "O is linear in W^O.", "O 对 W^O 是线性的。", _mha_grad),
        _step(lambda: Relation(Grad(_head("head", i)), MatMul(Grad(O), Transpose(_w("O", i)))),
              "Block multiplication: O is the sum over heads of head_i W^O_i, so head i receives the block dO (W^O_i)^T.",
              "分块乘法：O 等于各头 head_i W^O_i 之和，所以第 i 个头得到的梯度是 dO (W^O_i)^T 这一块。", _mha_grad),
        _step(lambda: Relation(Grad(_w("Q", i)), MatMul(Transpose(X), Grad(_head("Q", i)))),
              "Q_i = X W^Q_i is linear in W^Q_i.", "Q_i = X W^Q_i 对 W^Q_i 是线性的。", _mha_grad),
        _step(lambda: Relation(Grad(_w("K", i)), MatMul(Transpose(X_kv), Grad(_head("K", i)))),
              "K_i = X_kv W^K_i is linear in W^K_i.", "K_i = X_kv W^K_i 对 W^K_i 是线性的。", _mha_grad),
        _step(lambda: Relation(Grad(_w("V", i)), MatMul(Transpose(X_kv), Grad(_head("V", i)))),
              "V_i = X_kv W^V_i is linear in W^V_i.", "V_i = X_kv W^V_i 对 W^V_i 是线性的。", _mha_grad),
        _step(lambda: Relation(Grad(X), MatSum(MatMul(Grad(_head("Q", i)), Transpose(_w("Q", i))), i, 1, h)),
              "X reaches the loss through every head's queries: the chain rule adds the paths.",
              "X 通过每个头的查询影响损失：链式法则把各条路径相加。", _mha_grad),
        _step(lambda: Relation(Grad(X_kv), MatSum(MatAdd(MatMul(Grad(_head("K", i)), Transpose(_w("K", i))),
                                                         MatMul(Grad(_head("V", i)), Transpose(_w("V", i)))), i, 1, h)),
              "X_kv reaches the loss through every head's keys and values: the chain rule adds all these paths.",
              "X_kv 通过每个头的键和值影响损失：链式法则把所有路径相加。", _mha_grad),
    ],
    Text("dW^O = Concat(heads)^T dO; head i receives dO (W^O_i)^T; dW^Q_i = X^T dQ_i, dW^K_i = X_kv^T dK_i, "
         "dW^V_i = X_kv^T dV_i; dX and dX_kv add over heads (and over the key and value paths). "
         "mhasym.numeric.multi_head_attention_backward runs these formulas.",
         "dW^O = Concat(heads)^T dO；第 i 个头得到 dO (W^O_i)^T；dW^Q_i = X^T dQ_i，dW^K_i = X_kv^T dK_i，"
         "dW^V_i = X_kv^T dV_i；dX 与 dX_kv 对各头求和（X_kv 还要加上键与值两条路径）。"
         "mhasym.numeric.multi_head_attention_backward 运行的就是这些公式。"),
    _named=(2, 3, 4, 5, 6, 7),
))


def derivation_steps(id):
    from mhasym.catalog.derivation import derivation

    return derivation(id).steps
