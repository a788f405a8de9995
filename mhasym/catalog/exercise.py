"""Exercises: a question on a page, its answer computed by mhasym, and a check of that answer by another route.

An :class:`Exercise` has an id, the page (section) it belongs to, a question in both languages, and three
functions: ``solve()`` computes the answer with the package (the model's shapes, ``mhasym.numeric``, the
catalog's formulas and derivations), ``verify(value)`` checks it by another route (``mhasym.reference``,
NumPy, plain arithmetic) and ``answer(value)`` words it in both languages (and, where a matrix is the
answer, gives the SymPy object that the site prints). An answer that the package cannot compute is not an
exercise. ``ex.check()`` returns a :class:`~mhasym.catalog.checks.CheckResult`.

>>> ex = exercise("ex.multihead.concat_shape")
>>> ex.check().passed
True
>>> ex.answer_text("en")
'The concatenation is 100 × 24: 8 blocks of 3 columns side by side.'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from mhasym.catalog.checks import CheckResult
from mhasym.catalog.text import Text

_MODULE = "mhasym.catalog.entries.exercises"


@dataclass(frozen=True)
class Answer:
    """An answer: its words in both languages and, optionally, a SymPy object shown as math after them."""

    text: Text
    math: object = None


@dataclass
class Exercise:
    id: str
    page: str  # the section whose page shows it: attention, multihead, masks, transformer, cost, derivations, mistakes
    kind: str  # shapes, parameters, mask, mistake, computation
    question: Text
    solve: Callable
    verify: Callable  # value -> (passed, what was compared)
    answer: Callable  # value -> Answer

    @cached_property
    def value(self):
        return self.solve()

    def answer_text(self, lang: str) -> str:
        return self.answer(self.value).text.plain(lang)

    def check(self) -> CheckResult:
        """The answer computed by mhasym, checked by another route."""
        try:
            passed, what = self.verify(self.value)
        except Exception as exc:  # noqa: BLE001 - an answer that cannot be checked fails, in one line
            return CheckResult(self.id, "numeric", "the answer", False, detail=" ".join(f"{type(exc).__name__}: {exc}".split()))
        return CheckResult(self.id, "numeric", what, bool(passed))

    def __repr__(self) -> str:
        return f"<Exercise {self.id}: {self.question.en[:40]}>"


_EXERCISES: dict = {}


def register(ex: Exercise) -> Exercise:
    from mhasym.catalog.registry import add

    return add(_EXERCISES, ex.id, ex, "exercise")


def exercises(page: str | None = None) -> list:
    """All exercises in reading order, or one page's."""
    importlib.import_module(_MODULE)
    found = list(_EXERCISES.values())
    return found if page is None else [e for e in found if e.page == page]


def exercise(id: str) -> Exercise:
    from mhasym.catalog.registry import lookup

    importlib.import_module(_MODULE)
    return lookup(_EXERCISES, id, "exercise")


__all__ = ["Answer", "Exercise", "exercise", "exercises", "register"]
