"""Multi-head attention: one head, the projection matrices, MultiHead with W^O, the concatenation, the paper's 8 heads."""

from __future__ import annotations

import numpy as np
import sympy as sp

from mhasym import reference
from mhasym.catalog.checks import (SEED, SIZES, CheckResult, attention_bindings, attention_inputs, compare_shapes, failed, numeric)
from mhasym.catalog.registry import register
from mhasym.catalog.text import Text
from mhasym.model import attention, notation, paper
from mhasym.model.expressions import Concat, Elided, Group, Relation, Shape, ShapeOf, Space
from mhasym.catalog.entries.scaled_dot_product import _spaces
from mhasym.catalog.entries.sources import PAPER, cite as _text


def _numeric_sizes(*names):
    return {k: SIZES[k] for k in names}



def _head_expanded(expand: bool):
    s = attention.Sizes.of()
    i = notation.scalar("i")
    return Relation(attention.head_symbol(s, i), attention.head(s, i, expand=expand))


def _check_head(f, expr, sizes=None):
    sizes = {**(sizes or SIZES), "i": 2}  # the second head
    x = attention_inputs(sizes)
    k = 1
    want = reference.scaled_dot_product_attention(
        x["x_q"] @ x["w_q"][k], x["x_kv"] @ x["w_k"][k], x["x_kv"] @ x["w_v"][k])
    return numeric(f, expr, "the formula at i = 2, compiled, vs reference attention of the projections",
                   sizes, attention_bindings(x), want)


register(
    "mha.head", "multihead",
    Text("One head", "单个注意力头"),
    _text("Each head has its own projections [[W_Q:i]], [[W_K:i]], [[W_V:i]], and attends in its own "
          "[[d_k]]-dimensional subspace.",
          "每个头都有自己的投影矩阵 [[W_Q:i]]、[[W_K:i]]、[[W_V:i]]，在各自的 [[d_k]] 维子空间里计算注意力。", PAPER),
    lambda: _head_expanded(False), _check_head,
)

register(
    "mha.head_expanded", "multihead",
    Text("One head, written out", "单个注意力头（展开）"),
    _text("The same head with the attention written out; the transpose of a product stays as written, not expanded into a product of transposes.",
          "把注意力展开后的同一个头；注意乘积的转置保持原样，不展开成转置的乘积。", PAPER),
    lambda: _head_expanded(True), _check_head,
)


def _weights():
    s = attention.Sizes.of()
    i = notation.scalar("i")
    mats = [s.W("Q", i), s.W("K", i), s.W("V", i), s.W_O()]
    return Group(*(Relation(w, Space(*w.shape), "in") for w in mats))


def _check_weights(f, expr, sizes=None):
    sizes = dict(SIZES)
    what = "weights of the claimed shapes, for every head, taken by reference.multi_head_attention"
    try:
        names = {"W_Q_i": "W_Q", "W_K_i": "W_K", "W_V_i": "W_V", "W_O": "W_O"}  # head i's and the one W^O
        claims = dict((names.get(getattr(lhs, "name", None)), shape) for lhs, shape in _spaces(expr, sizes))
        missing = [k for k in names.values() if k not in claims]
        if missing:
            raise ValueError(f"no shape given for {', '.join(missing)}")
        g = np.random.default_rng(SEED)
        h = sizes["h"]
        w = {k: g.normal(size=(h, *claims[k])) for k in ("W_Q", "W_K", "W_V")}
        x_q, x_kv = g.normal(size=(sizes["n"], sizes["d_model"])), g.normal(size=(sizes["m"], sizes["d_model"]))
        out = reference.multi_head_attention(x_q, x_kv, w["W_Q"], w["W_K"], w["W_V"], g.normal(size=claims["W_O"]))
    except Exception as exc:  # noqa: BLE001 - the reference refuses weights of these shapes
        return failed(f.id, "shape", what, sizes, exc)
    return compare_shapes(f.id, what + "; its output is (n, d_model)", out.shape,
                          (sizes["n"], sizes["d_model"]), sizes)


register(
    "mha.weights", "multihead",
    Text("Projection matrices of multi-head attention", "多头注意力的投影矩阵"),
    _text("Every head i has its own [[W_Q:i]], [[W_K:i]] ([[d_model]] × [[d_k]]) and [[W_V:i]] ([[d_model]] × [[d_v]]). The "
          "lecture notebook stops at the concatenation; the paper multiplies it by [[W_O]], "
          "of shape (h [[d_v]]) × [[d_model]].",
          "每个头 i 有自己的 [[W_Q:i]]、[[W_K:i]]（[[d_model]] × [[d_k]]）和 [[W_V:i]]（[[d_model]] × [[d_v]]）。课程笔记在拼接处结束；"
          "论文还要乘以形状为 (h [[d_v]]) × [[d_model]] 的 [[W_O]]。", PAPER),
    _weights, _check_weights,
)


def _multihead():
    s = attention.Sizes.of()
    return Relation(attention.multi_head_call(s), attention.multi_head_general(s))


def _check_multihead(masked: bool):
    def check(f, expr, sizes=None):
        """Run as MultiHead(X_q, X_kv, X_kv[, M]) against reference.multi_head_attention, and with keys and values
        from two sequences, MultiHead(X_q, X_k, X_v[, M]), against the reference's heads, concatenated, times W^O."""
        sizes = dict(sizes or SIZES)
        x = attention_inputs(sizes)
        mask = x["mask"] if masked else None
        extra = [np.where(x["mask"], 0.0, -np.inf)] if masked else []
        what = (f"the formula at h = {sizes['h']}, compiled, vs reference.multi_head_attention"
                + (" with a boolean mask" if masked else ""))
        want = reference.multi_head_attention(x["x_q"], x["x_kv"], x["w_q"], x["w_k"], x["w_v"], x["w_o"], mask)
        first = numeric(f, expr, what, sizes, attention_bindings(x), want, args=[x["x_q"], x["x_kv"], x["x_kv"], *extra])
        if not first.passed:
            return first
        heads = [reference.scaled_dot_product_attention(x["x_q"] @ x["w_q"][k], x["x_kv"] @ x["w_k"][k],
                                                        x["x_v"] @ x["w_v"][k], mask) for k in range(sizes["h"])]
        want = np.concatenate(heads, axis=1) @ x["w_o"]
        return numeric(f, expr, what + "; with values from another sequence than the keys, vs the reference's heads "
                       "concatenated times W^O", sizes, attention_bindings(x), want,
                       args=[x["x_q"], x["x_kv"], x["x_v"], *extra])
    return check


register(
    "mha.multihead", "multihead",
    Text("Multi-head attention with the output projection", "多头注意力（含输出投影）"),
    _text("The heads are concatenated (not summed) and multiplied by [[W_O]]; the output is n × [[d_model]]. "
          "Here Q, K, V are the sequences that the heads project (n × [[d_model]] for the queries, m × [[d_model]] "
          "for keys and values; in self-attention all three are X); inside a head, Attention's Q, K, V are the "
          "projections X [[W_Q:i]] (n × [[d_k]]), .... The paper uses the letters both ways; so does this site, "
          "and the shapes tell them apart. The lecture notebook omits [[W_O]]; this follows the paper.",
          "各头的输出拼接（而不是相加）后乘以 [[W_O]]，输出为 n × [[d_model]]。这里的 Q、K、V 是被各头投影的序列"
          "（查询 n × [[d_model]]，键和值 m × [[d_model]]；自注意力中三者都是 X）；而在单个头内部，Attention 的 Q、K、V "
          "是投影 X [[W_Q:i]]（n × [[d_k]]）等。论文对这几个字母两种用法都有，本站也一样，靠形状区分。"
          "课程笔记省略了 [[W_O]]；这里依据论文补上。", PAPER),
    _multihead, _check_multihead(False),
)


def _multihead_masked():
    s = attention.Sizes.of()
    return Relation(attention.multi_head_call(s, masked=True), attention.multi_head_masked_general(s))




register(
    "mha.multihead_masked", "masks",
    Text("Multi-head attention with a mask", "带掩码的多头注意力"),
    _text("MultiHead with a fourth argument, the additive mask M (n × m): every head adds the same M to its "
          "scores. The decoder's self-attention is MultiHead(Y, Y, Y, [[M_causal]]). The paper describes the "
          "masking in words (Section 3.2.3); this is its formula.",
          "带第四个参数（加性掩码 M，n × m）的 MultiHead：每个头都把同一个 M 加到自己的得分上。"
          "解码器的自注意力就是 MultiHead(Y, Y, Y, [[M_causal]])。论文用文字描述了掩码（第 3.2.3 节），这里写出它的公式。",
          PAPER),
    _multihead_masked, _check_multihead(True),
)


def _concat_shape():
    s = attention.Sizes.of()
    i = notation.scalar("i")
    heads = Concat(attention.head_symbol(s, 1), Elided(s.n, (s.h - 2) * s.d_v, attention.head_symbol(s, i), i, 2, s.h - 1),
                   attention.head_symbol(s, s.h))
    return Relation(ShapeOf(heads), Shape(*heads.shape))


def _check_concat_shape(f, expr, sizes=None):
    s = attention.Sizes.of()
    values = {getattr(s, k): v for k, v in SIZES.items()}
    if not isinstance(expr.rhs, Shape):
        return CheckResult(f.id, "shape", "the right-hand side", False, dict(SIZES), detail="it is not a shape (r, c)")
    got = tuple(sp.sympify(d).xreplace(values) for d in expr.rhs.args)
    written = expr.lhs.arg.xreplace(values).doit().shape  # the concatenation itself, at h = 3, written out
    if tuple(written) != got:
        return CheckResult(f.id, "shape", "the shape shown vs the concatenation written out at h = 3", False,
                           dict(SIZES), detail=f"{got} != {tuple(written)}")
    x = attention_inputs()
    heads = [reference.scaled_dot_product_attention(x["x_q"] @ x["w_q"][k], x["x_kv"] @ x["w_k"][k],
                                                    x["x_kv"] @ x["w_v"][k]) for k in range(SIZES["h"])]
    return compare_shapes(f.id, "(n, h d_v) vs numpy.concatenate of the reference heads",
                          got, np.concatenate(heads, axis=1).shape, dict(SIZES))


register(
    "mha.concat_shape", "multihead",
    Text("Shape of the concatenated heads", "各头拼接后的形状"),
    Text("h heads of shape (n, [[d_v]]) side by side: (n, h [[d_v]]). This is the lecture notebook's "
         "(2, 3h) with n = 2 and [[d_v]] = 3.",
         "h 个形状为 (n, [[d_v]]) 的头左右拼接：(n, h [[d_v]])。这就是课程笔记中 n = 2、[[d_v]] = 3 时的 (2, 3h)。"),
    _concat_shape, _check_concat_shape,
)


def _paper_heads():
    d_model, h, d_k, d_v = (notation.dim(x) for x in ("d_model", "h", "d_k", "d_v"))
    base = paper.BASE
    return Group(Relation(h, base["h"]),
                 Relation(d_k, Relation(d_v, Relation(d_model / h, base["d_model"] // base["h"]))))


def _chain(rel):
    """``a = b = c = ...`` (nested relations) as the list [a, b, c, ...]."""
    return [rel.lhs] + (_chain(rel.rhs) if isinstance(rel.rhs, Relation) else [rel.rhs])


def _check_paper_heads(f, expr, sizes=None):
    """Every link of ``h = 8`` and ``d_k = d_v = d_model / h = 64`` evaluated at the formula's own h and
    the paper's d_model = 512, and compared with the paper's Table 3 (base row)."""
    d_model, h = notation.dim("d_model"), notation.dim("h")
    what = "h and d_k = d_v = d_model / h = 64, evaluated with d_model = 512, vs Table 3 of the paper"
    try:
        first, second = expr.args
        h_value = sp.sympify(first.rhs)
        values = {h: h_value, d_model: paper.BASE["d_model"],
                  notation.dim("d_k"): paper.BASE["d_k"], notation.dim("d_v"): paper.BASE["d_v"]}
        links = [sp.sympify(t).xreplace(values) for t in _chain(second)]
        named = [t.name for t in _chain(second) if isinstance(t, sp.Symbol)]
    except Exception as exc:  # noqa: BLE001 - not the form h = ..., d_k = ... = ...
        return failed(f.id, "identity", what, {}, exc)
    ok = (first.lhs == h and h_value == paper.BASE["h"] and all(v == links[0] for v in links)
          and links[0] == paper.BASE["d_k"] and named[:2] == ["d_k", "d_v"])
    return CheckResult(f.id, "identity", what, bool(ok), {"d_model": paper.BASE["d_model"], "h": h_value},
                       detail="links: " + " = ".join(str(v) for v in links))


register(
    "mha.paper_heads", "multihead",
    Text("The paper's 8 heads", "论文中的 8 个头"),
    _text("The base model uses h = 8 heads of [[d_k]] = [[d_v]] = 64, so the concatenation has "
          "8 × 64 = 512 = [[d_model]] columns and costs about as much as one full-width head. (The big model uses "
          "16 heads of 64, and Table 3 (A) tries 1 to 32 heads.)",
          "基础模型使用 h = 8 个头，[[d_k]] = [[d_v]] = 64，拼接后共有 8 × 64 = 512 = [[d_model]] 列，"
          "计算量与一个全维度的单头注意力相当。（论文的 big 配置使用 16 个 64 维的头，表 3 (A) 试验了 1 到 32 个头。）", PAPER),
    _paper_heads, _check_paper_heads,
)


# A worked example with numbers: two heads of width 1, then W^O (the paper's step that the notebook leaves out)

_MH_EXAMPLE = {"X": [[1, 0], [2, 1]],
               ("Q", 1): [[1], [0]], ("K", 1): [[1], [1]], ("V", 1): [[0], [1]],
               ("Q", 2): [[0], [1]], ("K", 2): [[1], [0]], ("V", 2): [[1], [1]],
               "W_O": [[1, 0], [1, 1]]}
_MH_SIZES = {"n": 2, "m": 2, "d_model": 2, "h": 2, "d_k": 1, "d_v": 1}


def _mh_given():
    X = notation.matrix("X", 2, 2)
    W = {(k, i): notation.matrix(f"W_{k}", 2, 1, i) for k in "QKV" for i in (1, 2)}
    W_O = notation.matrix("W_O", 2, 2)
    values = {X: _MH_EXAMPLE["X"], W_O: _MH_EXAMPLE["W_O"], **{W[key]: _MH_EXAMPLE[key] for key in W}}
    return X, W, W_O, {s: sp.ImmutableMatrix(v) for s, v in values.items()}


def _mh_example():
    from mhasym.catalog.evaluate import evaluate
    from mhasym.model.expressions import Aligned, Apply, fixed
    from sympy.matrices.expressions import MatMul

    X, W, W_O, given = _mh_given()
    arrays = {s: np.array(v, dtype=float) for s, v in given.items()}
    bind = _mh_bind(arrays, X)
    rounded = lambda a: sp.ImmutableMatrix([[fixed(v, 3) for v in row] for row in np.atleast_2d(a)])  # noqa: E731
    heads = [notation.matrix("head", 2, 1, i) for i in (1, 2)]
    lines = [Relation(X, given[X])]
    lines += [Group(*(Relation(W[(k, i)], given[W[(k, i)]]) for k in "QKV")) for i in (1, 2)]
    lines.append(Relation(W_O, given[W_O]))
    for i, head in zip((1, 2), heads):
        call = Apply("Attention", 2, 1, *(MatMul(X, W[(k, i)]) for k in "QKV"))
        lines.append(Relation(head, Relation(call, rounded(evaluate(call, _MH_SIZES, bind)[0]))))
    product = MatMul(Concat(*heads), W_O)
    lines.append(Relation(Apply("MultiHead", 2, 2, X, X, X),
                          Relation(product, rounded(evaluate(product, _MH_SIZES, bind)[0]))))
    return Aligned(*lines)


def _mh_bind(arrays, X):
    """The arrays of the example's matrices by name and head; Q, K and V (MultiHead's arguments inside a head's
    definition) are X, as the last line's MultiHead(X, X, X) says."""
    by_key = {(s.key, int(s.index or 0)): a for s, a in arrays.items()}

    def bind(path, symbol):
        key = getattr(symbol, "key", None)
        if key in ("Q", "K", "V"):
            return arrays[X]
        found = by_key.get((key, int(getattr(symbol, "index", 0) or 0)))
        if found is None:
            raise ValueError(f"the example gives no values for {symbol}")
        return found

    return bind


def _check_mh_example(f, expr, sizes=None):
    """The matrices of the first four lines; each head's call run through the catalog (attention.sdpa) vs
    reference attention of the projections and vs the numbers shown (rounded, to 5e-4); the last line's
    MultiHead(X, X, X) run through mha.multihead and its Concat(...) W^O through mha.head, vs
    reference.multi_head_attention and the numbers shown."""
    from mhasym.catalog.evaluate import evaluate
    from mhasym.model.expressions import Group as G

    what = ("each head's call and MultiHead(X, X, X) computed from the lines shown (via the catalog) vs the "
            "reference and vs the numbers shown")
    try:
        lines = list(expr.args)
        relations = []
        for line in lines[:4]:
            relations += list(line.args) if isinstance(line, G) else [line]
        arrays = {r.lhs: np.array(r.rhs.tolist(), dtype=float) for r in relations}
        by = {(s.key, int(s.index or 0)): a for s, a in arrays.items()}
        x, w_o = by[("X", 0)], by[("W_O", 0)]
        w = {k: np.stack([by[(f"W_{k}", i)] for i in (1, 2)]) for k in "QKV"}
        X = next(s for s in arrays if s.key == "X")
        bind = _mh_bind(arrays, X)
        errors, shown_errors = [], []
        for i, line in zip((1, 2), lines[4:6]):
            call, shown = line.rhs.lhs, line.rhs.rhs
            if not (getattr(line.lhs, "key", None) == "head" and int(line.lhs.index) == i):
                raise ValueError(f"line {i + 4} must give head {i}")
            got = evaluate(call, _MH_SIZES, bind)[0]
            want = reference.scaled_dot_product_attention(x @ w["Q"][i - 1], x @ w["K"][i - 1], x @ w["V"][i - 1])
            errors.append(float(np.abs(got - want).max()))
            shown_errors.append(float(np.abs(np.array(shown.evalf(), dtype=float) - got).max()))
        last = lines[6]
        want = reference.multi_head_attention(x, x, w["Q"], w["K"], w["V"], w_o)
        for side in (last.lhs, last.rhs.lhs):
            got = evaluate(side, _MH_SIZES, bind)[0]
            errors.append(float(np.abs(got - want).max()))
        shown_errors.append(float(np.abs(np.array(last.rhs.rhs.evalf(), dtype=float) - got).max()))
    except Exception as exc:  # noqa: BLE001
        return failed(f.id, "numeric", what, _MH_SIZES, exc)
    ok = max(errors) < 1e-12 and max(shown_errors) <= 5e-4
    return CheckResult(f.id, "numeric", what, bool(ok), dict(_MH_SIZES), None, max(errors), 1e-12,
                       detail="the numbers shown are rounded to 3 decimals")


register(
    "mha.example", "multihead",
    Text("A worked example: two heads, then the output projection", "一个算例：两个头，再做输出投影"),
    Text("Two tokens (the rows of X), [[d_model]] = 2, h = 2 heads with [[d_k]] = [[d_v]] = 1, so each score is a "
         "product of two numbers (divided by the square root of 1). Each head has its own projections, so it "
         "compares the tokens in its own way and takes its own values: head 1 takes the second feature as its "
         "value, head 2 the sum of both. Each head's row of weights "
         "averages its values; the two head outputs are put side by side and multiplied by [[W_O]], whose first "
         "column adds the two heads and whose second keeps head 2. The numbers are computed by mhasym from the "
         "lines above them.",
         "两个词元（X 的两行），[[d_model]] = 2，h = 2 个头，[[d_k]] = [[d_v]] = 1，所以每个得分就是两个数的乘积（再除以 1 的平方根）。"
         "每个头有自己的投影，所以以自己的方式比较词元、取自己的值：头 1 取第二个特征作为值，头 2 取两个特征之和。每个头的一行权重对它的值加权平均；两个头的输出左右拼接后乘以 "
         "[[W_O]]：它的第一列把两个头相加，第二列保留头 2。这些数由 mhasym 根据上面几行算出。"),
    _mh_example, _check_mh_example,
)
