"""Derivations: chains of steps from a definition to a result, every step proven by SymPy.

A :class:`Derivation` has an id, a title and a setting (what is assumed, in both languages) and a
list of :class:`Step`. Each step is a relation between SymPy objects whose left side is the previous
step's right side, or a named quantity (a gradient ``dV``, an entry ``A_ij``); it says why it holds,
in both languages, and carries its proof: a function that reads the step's relation and proves it
(see :mod:`mhasym.catalog.proofs`). ``d.check()`` proves every step and names the first that fails;
``step.check(expr=wrong)`` runs a wrong version of a step through the same proof.

>>> d = derivation("deriv.softmax_jacobian")
>>> d.title.en
'The softmax Jacobian'
>>> r = d.check()
>>> r.passed, len(r.steps)
(True, 2)
>>> derivation("deriv.scalling")
Traceback (most recent call last):
...
mhasym.errors.MhasymError: unknown derivation id 'deriv.scalling' (did you mean 'deriv.scaling'?)
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

from mhasym.catalog.text import Text
from mhasym.errors import MhasymError
from mhasym.model.expressions import Relation

_MODULE = "mhasym.catalog.entries.derivations"

# The title of the derivations' page and of their section in the notes.
DERIVATIONS_TITLE = ("Derivations", "推导")


@dataclass(frozen=True)
class StepResult:
    """The proof of one step: which step, whether it holds, and how it was proven."""

    derivation: str
    number: int  # counted from 1
    passed: bool
    how: str
    error: str = ""

    def summary(self) -> str:
        status = "proven" if self.passed else "FAILED"
        return f"step {self.number}: {status}; {self.error or self.how}"


@dataclass(frozen=True)
class DerivationResult:
    """Every step's proof; ``first_failure`` is the number of the first step that fails (None if all hold)."""

    id: str
    steps: tuple
    numbers: tuple = ()  # extra comparisons with numbers: (passed, what) pairs

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.steps) and all(ok for ok, _ in self.numbers)

    @property
    def first_failure(self):
        return next((s.number for s in self.steps if not s.passed), None)

    def summary(self) -> str:
        if self.passed:
            extra = f", {len(self.numbers)} comparison with numbers" if self.numbers else ""
            return f"{self.id}: ok, {len(self.steps)} steps proven{extra}"
        if self.first_failure is not None:
            step = self.steps[self.first_failure - 1]
            return f"{self.id}: FAILED at step {step.number}: {step.error or step.how}"
        what = next(w for ok, w in self.numbers if not ok)
        return f"{self.id}: FAILED comparison with numbers: {what}"


@dataclass(frozen=True)
class Step:
    """One step: ``build()`` gives its relation, ``why`` justifies it, ``prove(relation)`` proves it."""

    build: Callable
    why: Text
    prove: Callable

    @cached_property
    def expr(self):
        return self.build()

    @property
    def lhs(self):
        return self.expr.lhs

    @property
    def rhs(self):
        return self.expr.rhs

    def latex(self, **settings) -> str:
        from mhasym.printing.latex import latex

        return latex(self.expr, **settings)

    def check(self, expr=None, *, derivation: str = "", number: int = 0) -> StepResult:
        """Prove ``expr`` (this step's relation by default) with this step's proof."""
        expr = self.expr if expr is None else expr
        try:
            if not isinstance(expr, Relation):
                raise MhasymError(f"a step is a relation, got {type(expr).__name__}")
            if expr.lhs == expr.rhs:
                raise MhasymError("both sides are the same object, which proves nothing")
            passed, how = self.prove(expr)
        except Exception as exc:  # a version that its proof cannot compute fails, in one line
            return StepResult(derivation, number, False, "", " ".join(f"{type(exc).__name__}: {exc}".split()))
        return StepResult(derivation, number, bool(passed), how)


@dataclass(frozen=True)
class StepScore:
    """How many wrong versions of a step its proof rejects."""

    built: int
    killed: int
    equivalent: tuple = ()  # changes whose two sides the proof shows equal to the step's own two sides
    survived: tuple = ()  # changes that the proof accepts and that are not the same statement: holes


def score(step: Step) -> StepScore:
    """Run the step's proof on each mutant of its relation (:func:`mhasym.catalog.mutants.mutants`).
    A mutant that passes counts as equivalent when the same proof shows each of its sides equal to
    the step's side (under the step's assumptions), e.g. a sum of zeros with one factor dropped."""
    from mhasym.catalog.mutants import mutants

    built = mutants(step.expr)
    killed, same, survived = 0, [], []
    for mu in built:
        if not step.check(mu.expr).passed:
            killed += 1
            continue
        sides = [Relation(a, b) for a, b in ((step.lhs, mu.expr.lhs), (step.rhs, mu.expr.rhs)) if a != b]
        if all(step.check(r).passed for r in sides):
            same.append(mu)
        else:
            survived.append(mu)
    return StepScore(len(built), killed, tuple(same), tuple(survived))


@dataclass
class Derivation:
    """A chain of proven steps. ``setting`` says what is assumed; ``result`` what was derived;
    ``numbers()`` (optional) compares the result with numbers, e.g. many blocks of online softmax."""

    id: str
    title: Text
    setting: Text
    steps: list
    result: Text
    numbers: Callable | None = None
    figure: str | None = None  # the name of a figure in mhasym.publish.figures
    sources: Text | None = None
    _named: tuple = field(default=())  # step numbers whose left side is a named quantity

    def __post_init__(self):
        self.steps = list(self.steps)
        for k in range(1, len(self.steps)):
            if k + 1 not in self._named and self.steps[k].lhs != self.steps[k - 1].rhs:
                raise MhasymError(f"derivation {self.id}: step {k + 1} does not start from step {k}'s right side")

    def chained(self, number: int) -> bool:
        """True when step ``number`` (from 1) continues the previous step (written ``= ...``)."""
        return number > 1 and number not in self._named

    def shown(self, number: int, **settings) -> str:
        """Step ``number`` (from 1) as TeX on its own: ``lhs = rhs``, or ``{} = rhs`` where it continues the
        step before."""
        from mhasym.printing.latex import latex

        step = self.steps[number - 1]
        lhs = "{}" if self.chained(number) else latex(step.lhs, **settings)
        return f"{lhs} {step.expr.OPS[step.expr.op]} {latex(step.rhs, **settings)}"

    def spoken(self, number: int, lang: str = "en") -> str:
        """Step ``number`` (from 1) in words, as :meth:`shown` writes it: "equals ..." where it continues."""
        from mhasym.printing.speech import WORDS, speech, tidy

        step = self.steps[number - 1]
        if self.chained(number):
            op = WORDS[lang]["equals" if step.expr.op == "=" else step.expr.op]
            return tidy(f"{op} {speech(step.rhs, lang)}", lang)
        return speech(step.expr, lang)

    def aligned(self, **settings) -> str:
        """The whole chain as one ``aligned`` block: ``lhs &= rhs``, and ``&= rhs`` where a step continues."""
        from mhasym.printing.latex import latex

        rows = []
        for k, s in enumerate(self.steps, 1):
            lhs = "" if self.chained(k) else latex(s.lhs, **settings)
            rows.append(f"{lhs} &{s.expr.OPS[s.expr.op]} {latex(s.rhs, **settings)}")
        return r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}"

    def check(self) -> DerivationResult:
        results = tuple(s.check(derivation=self.id, number=k) for k, s in enumerate(self.steps, 1))
        numbers = tuple(self.numbers()) if self.numbers is not None else ()
        return DerivationResult(self.id, results, numbers)

    def speech(self, lang: str = "en") -> str:
        """The whole chain in words, step after step."""
        from mhasym.printing.speech import WORDS

        return WORDS[lang]["group"].join(self.spoken(k, lang) for k in range(1, len(self.steps) + 1))

    def _repr_latex_(self) -> str:
        from mhasym.printing.display import shown

        return shown(self.aligned(), self.speech)

    def __repr__(self) -> str:
        return f"<Derivation {self.id}: {self.title.en}>"


_PROOFS: dict = {}


def cached_check(d: Derivation) -> DerivationResult:
    """``d.check()``, run once per process for each registered derivation (the site, the notes and the
    command line share it); a derivation built anew (another object with the same id) is checked anew."""
    found = _PROOFS.get(d.id)
    if found is None or found[0] is not d:
        found = _PROOFS[d.id] = (d, d.check())
    return found[1]


_DERIVATIONS: dict = {}


def register(derivation: Derivation) -> Derivation:
    from mhasym.catalog.registry import add

    return add(_DERIVATIONS, derivation.id, derivation, "derivation")


def derivations() -> list:
    """All derivations, in reading order."""
    importlib.import_module(_MODULE)
    return list(_DERIVATIONS.values())


def derivation(id: str) -> Derivation:
    """The derivation ``id``; an unknown id raises a one-line :class:`MhasymError`."""
    from mhasym.catalog.registry import lookup

    importlib.import_module(_MODULE)
    return lookup(_DERIVATIONS, id, "derivation")


__all__ = ["Derivation", "DerivationResult", "Step", "StepResult", "StepScore", "cached_check", "derivation",
           "derivations", "register", "score"]
