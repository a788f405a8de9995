"""Scaled dot-product attention and multi-head attention as symbolic matrix expressions.

Row convention, as in "Attention Is All You Need" and PyTorch: a sequence is a
matrix with one row per token, and a linear map is ``X W``. Queries have n rows,
keys and values m rows.

- ``Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V``, softmax over each row;
- ``head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)``;
- ``MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O``.

Shapes are checked as the objects are built:

>>> s = Sizes.of(n=4, m=6, d_model=24, h=8, d_k=5, d_v=3)
>>> multi_head(s, W_O=s.matrix("W_O", 20, 24))
Traceback (most recent call last):
...
mhasym.errors.MhasymError: W^O needs h*d_v = 24 rows, got 20
>>> multi_head(s).shape
(4, 24)
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import sympy as sp
from sympy.matrices.expressions import MatAdd, MatMul, Transpose

from mhasym.model import notation
from mhasym.errors import MhasymError
from mhasym.model.expressions import Apply, Concat, Elided, Softmax, Scaled
from mhasym.model.shapes import fmt, require, size

@dataclass(frozen=True)
class Sizes:
    """The sizes of one attention block; each a positive int or a SymPy symbol.

    ``Sizes.of()`` gives all symbols; ``Sizes.of(h=2)`` fixes some of them.
    """

    n: object
    m: object
    d_model: object
    h: object
    d_k: object
    d_v: object

    @classmethod
    def dims(cls) -> tuple:
        """The names of the sizes, in field order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def of(cls, **given) -> "Sizes":
        names = cls.dims()
        unknown = set(given) - set(names)
        if unknown:
            raise MhasymError(f"unknown size {sorted(unknown)[0]!r}; known: {', '.join(names)}")
        return cls(**{d: size(d, given[d]) if d in given else notation.dim(d) for d in names})

    def matrix(self, name: str, rows, cols, index=None):
        """A named matrix (see :mod:`mhasym.model.notation`) of the given shape."""
        return notation.matrix(name, rows, cols, index)

    # The matrices of the model, with their shapes.
    def X_q(self):
        return notation.matrix("Q", self.n, self.d_model)

    def X_kv(self, name: str = "K"):
        return notation.matrix(name, self.m, self.d_model)

    def W(self, kind: str, i, block: str = ""):
        """Head i's projection W_i^Q, W_i^K or W_i^V; ``block="x"`` for cross-attention's own."""
        cols = self.d_v if kind == "V" else self.d_k
        return notation.matrix(f"W{block}_{kind}", self.d_model, cols, i)

    def W_O(self, block: str = ""):
        return notation.matrix(f"W{block}_O", self.h * self.d_v, self.d_model)

    def qkv(self):
        """The queries, keys and values of one head: Q (n, d_k), K (m, d_k), V (m, d_v)."""
        return (notation.matrix("Q", self.n, self.d_k), notation.matrix("K", self.m, self.d_k),
                notation.matrix("V", self.m, self.d_v))

    def mask(self):
        return notation.matrix("M", self.n, self.m)

    def head_indices(self):
        if not isinstance(self.h, int):
            raise MhasymError(f"explicit heads need a numeric h, got {fmt(self.h)}")
        return range(1, self.h + 1)

def plain_name(expr) -> str:
    """A short plain-text name for error messages: ``W^O``, ``W^Q_2``, ``X W^Q_1``."""
    from mhasym.printing.plain import plain

    return plain(expr)

def product(a, b):
    """``a b`` as a matrix product, after checking that the inner sizes agree."""
    require(plain_name(b), f"rows (the columns of {plain_name(a)})", a.shape[1], b.shape[0])
    return MatMul(a, b)

def scaled_dot_product(Q, K, V, mask=None, *, scale=None):
    """``softmax(Q K^T / sqrt(d_k) + M) V``; ``mask`` is the additive mask M (or None).

    ``scale`` replaces ``sqrt(d_k)`` (to show the wrong choices, such as
    ``sqrt(d_model)``).
    """
    require(plain_name(K), "columns (as Q)", Q.shape[1], K.shape[1], "d_k")
    require(plain_name(V), "rows (as K)", K.shape[0], V.shape[0], "m")
    d_k = Q.shape[1]
    scores = Scaled(MatMul(Q, Transpose(K)), sp.sqrt(d_k) if scale is None else scale)
    if mask is not None:
        require("mask", "rows", Q.shape[0], mask.shape[0], "n")
        require("mask", "columns", K.shape[0], mask.shape[1], "m")
        scores = MatAdd(scores, mask)
    return MatMul(Softmax(scores), V)

def attention_call(Q, K, V):
    """``Attention(Q, K, V)`` as a named call (the left-hand side of its definition)."""
    return Apply("Attention", Q.shape[0], V.shape[1], Q, K, V)

def head(sizes: Sizes, i, X_q=None, X_kv=None, mask=None, *, expand: bool = True, block: str = ""):
    """Head ``i``: ``Attention(X_q W_i^Q, X_kv W_i^K, X_kv W_i^V)``, expanded or as a call."""
    Q = product(sizes.X_q() if X_q is None else X_q, sizes.W("Q", i, block))
    K = product(sizes.X_kv("K") if X_kv is None else X_kv, sizes.W("K", i, block))
    V = product(sizes.X_kv("V") if X_kv is None else X_kv, sizes.W("V", i, block))
    if expand:
        return scaled_dot_product(Q, K, V, mask)
    return attention_call(Q, K, V)

def head_symbol(sizes: Sizes, i):
    """The matrix ``head_i`` of shape (n, d_v)."""
    return notation.matrix("head", sizes.n, sizes.d_v, i)

def multi_head(sizes: Sizes, X_q=None, X_kv=None, mask=None, W_O=None, block: str = ""):
    """``Concat(head_1, ..., head_h) W^O`` with every head expanded (numeric h)."""
    heads = [head(sizes, i, X_q, X_kv, mask, block=block) for i in sizes.head_indices()]
    W_O = sizes.W_O(block) if W_O is None else W_O
    require("W^O", "rows", sizes.h * sizes.d_v, W_O.shape[0], "h*d_v")
    return MatMul(Concat(*heads), W_O)

def weights(sizes: Sizes, block: str = "") -> list:
    """The weight symbols of one attention block in the order W^Q_1..h, W^K_1..h, W^V_1..h, W^O."""
    return [sizes.W(kind, i, block) for kind in "QKV" for i in sizes.head_indices()] + [sizes.W_O(block)]

def multi_head_general(sizes: Sizes):
    """``Concat(head_1, ..., head_h) W^O`` for any h, with the middle heads elided."""
    first, last = head_symbol(sizes, 1), head_symbol(sizes, sizes.h)
    i = notation.scalar("i")
    middle = Elided(sizes.n, (sizes.h - 2) * sizes.d_v, head_symbol(sizes, i), i, 2, sizes.h - 1)
    return MatMul(Concat(first, middle, last), sizes.W_O())

def multi_head_masked_general(sizes: Sizes):
    """``Concat(Attention(Q W_1^Q, K W_1^K, V W_1^V, M), ..., Attention(Q W_h^Q, ..., M)) W^O`` for any h:
    multi-head attention whose every head gets the additive mask M."""
    i = notation.scalar("i")

    def masked_head(k):
        Q = product(sizes.X_q(), sizes.W("Q", k))
        K = product(sizes.X_kv("K"), sizes.W("K", k))
        V = product(sizes.X_kv("V"), sizes.W("V", k))
        return Apply("Attention", sizes.n, sizes.d_v, Q, K, V, sizes.mask())

    middle = Elided(sizes.n, (sizes.h - 2) * sizes.d_v, masked_head(i), i, 2, sizes.h - 1)
    return MatMul(Concat(masked_head(1), middle, masked_head(sizes.h)), sizes.W_O())


def multi_head_call(sizes: Sizes, masked: bool = False):
    """``MultiHead(Q, K, V)`` as a named call."""
    return Apply("MultiHead", sizes.n, sizes.d_model,
        sizes.X_q(),
        sizes.X_kv("K"),
        sizes.X_kv("V"),
        *([sizes.mask()] if masked else []),
    )
