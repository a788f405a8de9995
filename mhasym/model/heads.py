"""Head outputs Z_i as matrices of entry symbols, and their concatenation.

This is the lecture notebook's worked example: each head gives a (2, 3)
matrix whose entries are named by the head index and a row-major position
(``z_{11}`` .. ``z_{16}`` for head 1), and the heads are concatenated side by
side.

>>> Z1, Z2 = head_outputs(2, 2, 3)
>>> Z1
Matrix([
[z[1, 1], z[1, 2], z[1, 3]],
[z[1, 4], z[1, 5], z[1, 6]]])
>>> concat([Z1, Z2]).shape
(2, 6)
>>> concat_shape(100, 3, 8)
(100, 24)
>>> concat_shape(2, 3, "h")
(2, 3*h)
"""

from __future__ import annotations

import sympy as sp
from sympy import ImmutableDenseMatrix, Indexed, IndexedBase

from mhasym.model import notation
from mhasym.printing.display import Displayable
from mhasym.errors import MhasymError
from mhasym.model.expressions import Concat, Elided
from mhasym.model.shapes import check_expansion, equal, fmt, size


class Entry(Indexed):
    """An entry ``z_{ij}`` of a head output: head index, then row-major position.

    The subscript is written without a comma while every index is one
    character (``z_{11}``, ``z_{i1}``), and with one otherwise (``z_{10,1}``),
    so it can always be read back.
    """

    def _latex(self, printer) -> str:
        parts = [printer._print(index) for index in self.indices]
        return printer._print(self.base.label) + notation.subscript(parts)


class Block(Displayable, ImmutableDenseMatrix):
    """An explicit matrix (of entry symbols or numbers) that displays through mhasym's printer."""


def _entries():
    return IndexedBase(notation.ENTRY)


def head_output(index, rows, cols) -> Block:
    """The output of head ``index`` as a ``rows x cols`` matrix of entry symbols.

    ``index`` may be a number or a symbol (``i``, ``h``).
    """
    rows, cols = size("rows", rows), size("cols", cols)
    check_expansion(f"head output of {fmt(rows)} x {fmt(cols)}", sp.Mul(rows, cols))
    if isinstance(index, str):
        index = size("head index", index)
    index = sp.sympify(index)
    z = _entries()
    return Block(rows, cols, lambda r, c: Entry(z, index, r * cols + c + 1))


def head_outputs(h, rows, cols) -> list:
    """The outputs Z_1 .. Z_h of ``h`` heads, each a ``rows x cols`` matrix of entry symbols."""
    h, rows, cols = size("heads", h), size("rows", rows), size("cols", cols)
    check_expansion(
        f"{fmt(h)} head outputs of {fmt(rows)} x {fmt(cols)}", sp.Mul(h, rows, cols)
    )
    return [head_output(i, rows, cols) for i in range(1, int(h) + 1)]


def concat(blocks):
    """The horizontal concatenation of ``blocks`` (all with the same number of rows).

    Explicit matrices give an explicit matrix; blocks that are symbols or that
    include an :class:`~mhasym.model.expressions.Elided` run give a
    :class:`~mhasym.model.expressions.Concat` expression.
    """
    blocks = list(blocks)
    expr = Concat(*blocks)
    if all(isinstance(b, sp.MatrixBase) for b in blocks):
        return Block(sp.Matrix.hstack(*blocks))
    return expr


def concat_shape(n, d_v, h) -> tuple:
    """Shape ``(n, h*d_v)`` of the concatenation of ``h`` heads of shape ``(n, d_v)``.

    Any argument may be a symbol; this never builds entries, so it is instant
    at any size.
    """
    n, d_v, h = size("n", n), size("d_v", d_v), size("h", h)
    cols = sp.Mul(h, d_v)
    return (n, int(cols) if cols.is_Integer else cols)


def general_heads(rows, cols, shown: int = 2):
    """Head outputs for a symbolic number of heads ``h``: ``Z_i`` and the
    concatenation ``Z_1, ..., Z_shown, \\cdots, Z_h`` with exact width ``h*cols``.

    Returns ``(Z_i, concatenation)``.
    """
    rows, cols = size("rows", rows), size("cols", cols)
    i, h = notation.scalar("i"), notation.dim("h")
    first = [head_output(k, rows, cols) for k in range(1, shown + 1)]
    middle = Elided(rows, (h - shown - 1) * cols, head_output(i, rows, cols), i, shown + 1, h - 1)
    last = head_output(h, rows, cols)
    whole = Concat(*first, middle, last)
    if not equal(whole.shape[1], h * cols):
        raise MhasymError(f"general concatenation has width {fmt(whole.shape[1])}, not h*{cols}")
    return head_output(i, rows, cols), whole
