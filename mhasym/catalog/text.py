"""Texts in English and Chinese, with symbol markers.

>>> Text("scaled by [[sqrt:d_k]]", "除以 [[sqrt:d_k]]").plain("en")
'scaled by sqrt(d_k)'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mhasym.errors import MhasymError

LANGUAGES = ("en", "zh")

MARKER = re.compile(r"\[\[([^\[\]]+)\]\]")
# Code in prose is written between backticks: `(X @ W_Q).reshape(n, h, d_k)`. It is shown as code, never as math.
CODE = re.compile(r"`([^`]+)`")


def pieces(text: str):
    """The text cut into ("text", s), ("symbol", name) and ("code", s) pieces, in order.

    >>> list(pieces("a [[d_k]] `x @ y`"))
    [('text', 'a '), ('symbol', 'd_k'), ('text', ' '), ('code', 'x @ y')]
    """
    for k, part in enumerate(CODE.split(text)):
        if k % 2:
            yield "code", part
            continue
        for j, bit in enumerate(MARKER.split(part)):
            if j % 2:
                yield "symbol", bit
            elif bit:
                yield "text", bit

@dataclass(frozen=True, eq=False)
class Text(Mapping):
    """A text in English and Chinese: ``t.en``, ``t.zh`` or ``t["zh"]``.

    Symbols are marked ``[[d_k]]`` (a name that :func:`inline` knows): the site and the notes
    show them as math, :meth:`plain` as plain text. Code goes between backticks and is shown as code.

    >>> Text("scaled by [[sqrt:d_k]]", "除以 [[sqrt:d_k]]").plain("en")
    'scaled by sqrt(d_k)'
    """

    en: str
    zh: str

    def __getitem__(self, lang: str) -> str:
        if lang not in LANGUAGES:
            raise MhasymError(f"unknown language {lang!r}; use 'en' or 'zh'")
        return getattr(self, lang)

    def __iter__(self):
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)

    def plain(self, lang: str = "en") -> str:
        """The text with its symbol markers written as plain text (``W^O``, ``sqrt(d_k)``)."""
        return "".join(plain_symbol(p) if kind == "symbol" else p for kind, p in pieces(self[lang]))

    def __str__(self) -> str:
        return self.plain("en")


def plain_symbol(name: str) -> str:
    """A marked symbol (or formula) as plain text: ``W_Q:i`` -> ``W^Q_i``, ``sqrt:d_k`` -> ``sqrt(d_k)``."""
    from mhasym.catalog.registry import Formula, marker
    from mhasym.printing.plain import plain

    found = marker(name)
    return plain(found.expr if isinstance(found, Formula) else found)
