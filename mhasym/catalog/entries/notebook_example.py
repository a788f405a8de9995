"""The lecture notebook's worked example: head outputs Z_i of shape (2, 3) and their concatenation."""

from __future__ import annotations

import numpy as np
import sympy as sp

from mhasym.model import notation
from mhasym.catalog.registry import register
from mhasym.catalog.text import Text
from mhasym.catalog.checks import SEED, CheckResult, compare_arrays, compare_shapes, failed, rng
from mhasym.model.expressions import Relation, Shape, ShapeOf
from mhasym.model.heads import concat, concat_shape, general_heads, head_output, head_outputs

ROWS, COLS = 2, 3  # the notebook's head output shape
SOURCE = Text("From the lecture notebook.", "出自课程笔记。")


def _named(name, rows, cols, index=None):
    return notation.matrix(name, rows, cols, index)


def _values(matrix, numbers: dict) -> np.ndarray:
    """The entries of a matrix of entry symbols, with numbers put in."""
    return np.array(matrix.xreplace(numbers).tolist(), dtype=float)


def _compare(f, what, run, want, sizes):
    """Numbers of a formula (``run()``) against ``want``; a version that does not evaluate fails."""
    try:
        got = run()
    except Exception as exc:  # noqa: BLE001 - e.g. entries left as symbols
        return failed(f.id, "numeric", what, sizes, exc, SEED)
    return compare_arrays(f.id, what, got, want, sizes, SEED)


def _random_heads(count: int, seed: int):
    """Numbers for the entries of ``count`` heads: {entry: value} and one (2, 3) array per head."""
    g = rng(seed)
    numbers, arrays = {}, []
    for Z in head_outputs(count, ROWS, COLS):
        flat = g.normal(size=ROWS * COLS)
        numbers.update({Z[p // COLS, p % COLS]: flat[p] for p in range(ROWS * COLS)})
        arrays.append(flat.reshape(ROWS, COLS))  # row-major positions 1..6
    return numbers, arrays


def _head(k: int):
    def build():
        return Relation(_named("Z", ROWS, COLS, k), head_output(k, ROWS, COLS))

    def check(f, expr, sizes=None):
        numbers, arrays = _random_heads(2, SEED)
        return _compare(f, f"entries of Z_{k} vs the head's values in row-major order",
                        lambda: _values(expr.rhs, numbers), arrays[k - 1], {"rows": ROWS, "cols": COLS})

    register(
        f"seed.head_{k}", "multihead",
        Text(f"Output of head {k}", f"头{k}的输出"),
        Text(f"Head {k} gives a (2, 3) matrix; entries are named by head, then row-major position. "
             "From the lecture notebook.",
             f"头{k}输出一个 (2, 3) 矩阵，元素按“头编号、行优先位置”命名。出自课程笔记。"),
        build, check,
    )


_head(1)
_head(2)


def _concat_2():
    return Relation(_named("Z_concat", ROWS, 2 * COLS), concat(head_outputs(2, ROWS, COLS)))


def _check_concat_2(f, expr, sizes=None):
    numbers, arrays = _random_heads(2, SEED)
    return _compare(f, "concatenation of two heads vs numpy.concatenate(axis=1)",
                    lambda: _values(expr.rhs.doit(), numbers), np.concatenate(arrays, axis=1),
                    {"h": 2, "rows": ROWS, "cols": COLS})


register(
    "seed.concat_2", "multihead",
    Text("Concatenation of the two heads", "两个头的拼接"),
    Text("The two (2, 3) outputs side by side give a (2, 6) matrix. From the lecture notebook.",
         "两个 (2, 3) 输出左右拼接，得到 (2, 6) 矩阵。出自课程笔记。"),
    _concat_2, _check_concat_2,
)


def _head_i():
    Z_i, _ = general_heads(ROWS, COLS)
    return Relation(_named("Z", ROWS, COLS, notation.scalar("i")), Z_i)


def _check_head_i(f, expr, sizes=None):
    i = notation.scalar("i")
    numbers, arrays = _random_heads(10, SEED)
    return _compare(f, "Z_i at i = 1, 2, 10 vs those heads' values in row-major order",
                    lambda: np.stack([_values(expr.rhs.xreplace({i: k}), numbers) for k in (1, 2, 10)]),
                    np.stack([arrays[k - 1] for k in (1, 2, 10)]), {"rows": ROWS, "cols": COLS, "i": "1, 2, 10"})


register(
    "seed.head_i", "multihead",
    Text("Output of head i (general case)", "一般情况：第 i 个头的输出"),
    Text("With h heads, every head i gives a (2, 3) matrix [[Z:i]]. From the lecture notebook.",
         "对于 h 个注意力头，每个头的输出 [[Z:i]] 都是 (2, 3) 矩阵。出自课程笔记。"),
    _head_i, _check_head_i,
)


def _concat_h():
    _, whole = general_heads(ROWS, COLS)
    return Relation(_named("Z_concat", ROWS, whole.shape[1]), whole)


def _check_concat_h(f, expr, sizes=None):
    """The h-head formula at h = 4 and h = 5, written out (doit), against numpy.concatenate of the heads' values."""
    h = notation.dim("h")
    numbers, arrays = _random_heads(5, SEED)
    return _compare(f, "the formula at h = 4 and h = 5, written out, vs numpy.concatenate of the heads' values",
                    lambda: np.concatenate([_values(expr.rhs.xreplace({h: k}).doit(), numbers) for k in (4, 5)], axis=1),
                    np.concatenate(arrays[:4] + arrays, axis=1), {"h": "4, 5", "rows": ROWS, "cols": COLS})


register(
    "seed.concat_h", "multihead",
    Text("Concatenation of h heads", "h 个头的总拼接"),
    Text("The general concatenation: heads 1, 2, ..., h side by side; its width 3h is computed "
         "from the blocks. From the lecture notebook.",
         "一般情况的总拼接：头 1、2、……、h 依次左右拼接；宽度 3h 由各块计算得出。出自课程笔记。"),
    _concat_h, _check_concat_h,
)


def _shape_entry(id, title, description, n, d, h, explicit_heads):
    def build():
        n_, cols = concat_shape(n, d, h)
        return Relation(ShapeOf(_named("Z_concat", n_, cols)), Shape(n_, cols))

    def check(f, expr, sizes=None):
        want = np.concatenate([np.zeros((n, d))] * explicit_heads, axis=1).shape
        what = f"the shape shown vs numpy.concatenate of {explicit_heads} heads of ({n}, {d})"
        if not isinstance(expr.rhs, Shape):
            return CheckResult(f.id, "shape", what, False, {"n": n, "d": d, "h": explicit_heads},
                               detail="the right-hand side is not a shape (r, c)")
        got = tuple(sp.sympify(x).xreplace({notation.dim("h"): explicit_heads}) for x in expr.rhs.args)
        return compare_shapes(f.id, what, got, want, {"n": n, "d": d, "h": explicit_heads})

    register(id, "multihead", title, description, build, check)


_shape_entry(
    "seed.shape_2", Text("Shape after concatenating two heads", "两个头拼接后的形状"),
    Text("Two heads of shape (2, 3) give (2, 6). From the lecture notebook.",
         "两个 (2, 3) 的头拼接后为 (2, 6)。出自课程笔记。"),
    ROWS, COLS, 2, 2,
)
_shape_entry(
    "seed.shape_h", Text("Shape after concatenating h heads", "h 个头拼接后的形状"),
    Text("h heads of shape (2, 3) give (2, 3h); checked at h = 5. From the lecture notebook.",
         "h 个 (2, 3) 的头拼接后为 (2, 3h)；在 h = 5 时验证。出自课程笔记。"),
    ROWS, COLS, notation.dim("h"), 5,
)
_shape_entry(
    "seed.shape_100", Text("100 tokens, 8 heads with [[d_v]] = 3: the concatenation",
                           "序列长度 100、8 个头、[[d_v]] = 3：拼接后的形状"),
    Text("A sequence of 100 tokens and 8 heads, each head's output having [[d_v]] = 3 columns: the "
         "concatenation of the heads is (100, 24). This is before [[W_O]]; MultiHead's output, after "
         "[[W_O]], is (100, [[d_model]]). From the lecture notebook.",
         "序列长度为 100、8 个头，每个头的输出有 [[d_v]] = 3 列：各头拼接后为 (100, 24)。这是乘以 [[W_O]] 之前的形状；"
         "MultiHead 的输出（乘以 [[W_O]] 之后）为 (100, [[d_model]])。出自课程笔记。"),
    100, 3, 8, 8,
)
