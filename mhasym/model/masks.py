"""Attention masks: which key each query may attend, as symbolic conditions.

Polarity: a boolean mask is True where the query MAY attend the key (as in
PyTorch's ``scaled_dot_product_attention``). Its additive form adds 0 where
True and minus infinity where False, before the softmax.

Causal masks when the number of queries n differs from the number of keys m:

- ``"top-left"``: query i sees keys j <= i;
- ``"bottom-right"``: query i sees keys j <= i + (m - n), so the last query
  sees every key (a decoder continuing a cached prefix).

Indices count from 1, as everywhere on the site: the first query is i = 1, the first key j = 1.

>>> causal_condition("top-left")
j <= i
>>> causal_condition("bottom-right")
j <= i + m - n
"""

from __future__ import annotations

import sympy as sp

from mhasym.model import notation
from mhasym.errors import MhasymError

ALIGNMENTS = ("top-left", "bottom-right")


def _index(name: str) -> sp.Symbol:
    return notation.scalar(name)


def query_index() -> sp.Symbol:
    """The query (row) index ``i``, counted from 1."""
    return _index("i")


def key_index() -> sp.Symbol:
    """The key (column) index ``j``, counted from 1."""
    return _index("j")


def causal_offset(align: str):
    """How many keys beyond its own index a query may see: 0 or ``m - n``."""
    if align not in ALIGNMENTS:
        raise MhasymError(f"align must be 'top-left' or 'bottom-right', got {align!r}")
    if align == "top-left":
        return sp.S.Zero
    return notation.dim("m") - notation.dim("n")


def causal_condition(align: str = "top-left"):
    """The condition under which query ``i`` may attend key ``j``."""
    return sp.Le(key_index(), query_index() + causal_offset(align), evaluate=False)


def padding_condition():
    """Key ``j`` may be attended when it is a real token: ``j <= L`` for a sequence of L real tokens."""
    return sp.Le(key_index(), notation.dim("L"), evaluate=False)
