"""Identities proven by SymPy or by numbers on both sides: concatenate-then-project, the head split, permutation equivariance."""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions import MatMul

from mhasym import reference
from mhasym.catalog.checks import CheckResult, failed, vacuous
from mhasym.catalog.entries.sources import PAPER, cite as _text
from mhasym.catalog.registry import register
from mhasym.catalog.text import Text
from mhasym.model import attention, notation
from mhasym.model.expressions import (Aligned, Concat, Elided, MatSum, Relation, SplitHeads)

P = notation.scalar

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
    from mhasym.catalog.evaluate import size_values

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
    Text("Concatenate then project: the sum of per-head projections", "先拼接再投影：等于各头投影之和"),
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
    heads = Concat(s.W("Q", 1), Elided(s.d_model, (s.h - 2) * s.d_k, s.W("Q", i), i, 2, s.h - 1), s.W("Q", s.h))
    return Aligned(Relation(fused, heads), Relation(SplitHeads(MatMul(X, fused), s.h, i), MatMul(X, s.W("Q", i))))


def _check_split(f, expr, sizes=None):
    """The second line with symbolic entries for every head i, where W^Q is what the first line defines."""
    what = "split_i(X W^Q) vs X W^Q_i with symbolic entries, W^Q as the first line defines it"
    # all sizes different from each other (n != h, d_k != d_model), so a size put for another shows
    sizes_list = [{"n": 4, "d_model": 2, "h": 3, "d_k": 1, "i": i} for i in (1, 2, 3)] + \
                 [{"n": 3, "d_model": 5, "h": 2, "d_k": 4, "i": i} for i in (1, 2)]
    try:
        definition, identity = expr.args
        fused_name = definition.lhs
        if not (isinstance(fused_name, notation.NamedMatrix) and fused_name.key == "W_Q" and fused_name.index is None):
            raise ValueError(f"the first line defines {definition.lhs}, not the fused W^Q")
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "identity", what, sizes_list[-1], exc)

    def blocks(sz):
        heads = [sp.ImmutableMatrix(_symbols(f"W_Q_{k}", sz["d_model"], sz["d_k"])) for k in range(1, sz["h"] + 1)]
        per_head = {"W_Q": lambda s: heads[int(s.index) - 1]}
        fused = _explicit(definition.rhs, sz, per_head)
        return {"W_Q": lambda s: fused if s.index is None else heads[int(s.index) - 1]}

    return _identity_at(f, identity, what, sizes_list, blocks)


register(
    "id.split_heads", "multihead",
    Text("One big projection, split into heads", "一次大投影再拆分成多个头"),
    Text("Implementations put all heads' [[W_Q:i]] side by side in one [[W_Q]] ([[d_model]] × h [[d_k]]; here [[W_Q]] "
         "without an index is this fused matrix, while the lecture notebook's [[W_Q]] without an index is one head's) "
         "and compute [[expr:X_WQ]] at once. [[expr:split_XWQ]] is head i's block of columns of that product, and it "
         "equals the separate projection [[expr:X_WQi]]. In NumPy, where head i is at index i - 1: "
         "`(X @ W_Q).reshape(n, h, d_k).transpose(1, 0, 2)[i - 1]`. Without the transpose, "
         "`(X @ W_Q).reshape(h, n, d_k)[i - 1]` gives [[expr:reshape_XWQ]]: it takes consecutive numbers and mixes "
         "tokens and heads.",
         "实现中通常把所有头的 [[W_Q:i]] 并排成一个 [[W_Q]]（[[d_model]] × h [[d_k]]），一次算出 [[expr:X_WQ]]"
         "（这里不带下标的 [[W_Q]] 指这个合并后的矩阵；课程笔记中不带下标的 [[W_Q]] 指单个头的矩阵）。"
         "[[expr:split_XWQ]] 是这个乘积中第 i 个头的那一块列，它等于单独的投影 [[expr:X_WQi]]。在 NumPy 中（第 i 个头的下标是 i - 1）是 "
         "`(X @ W_Q).reshape(n, h, d_k).transpose(1, 0, 2)[i - 1]`。不转置时，"
         "`(X @ W_Q).reshape(h, n, d_k)[i - 1]` 得到的是 [[expr:reshape_XWQ]]：它取的是连续的数，会把词元和头混在一起。"),
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
    from mhasym.catalog.checks import SEED, attention_bindings, attention_inputs, compare_arrays, run_formula

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
    return compare_arrays(f.id, what + f" (via {', '.join(via)})", lhs, rhs, sizes, SEED)



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
