"""Mutants: small wrong versions of a formula's tree, to show that its check can fail.

:func:`mutants` walks a formula's SymPy object and makes one change at one place, by each rule
below. Every mutant that builds is run through the formula's own check
(``f.check(expr=mutant)``) and must fail ("killed"). A mutant that passes is either a hole in
the check or the same formula written differently; :func:`equivalent` tries to prove the second
with SymPy.

Rules: the right-hand side replaced by the left-hand side; a square root dropped or its argument
changed to another size; a size swapped for another; an integer changed by one; two operands of
a non-commutative operation swapped; a factor of a product or a term of a sum dropped; a
transpose dropped; the values of a piecewise definition swapped; sin and cos swapped; softmax
over the other axis. A mistake's one mutant is its right formula.

>>> from mhasym.catalog.registry import formula
>>> rules = {m.rule for m in mutants(formula("attention.sdpa").expr)}
>>> sorted(rules)[:4]
['drop a factor', 'drop the square root', 'drop the transpose', 'right side := left side']
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, MatrixSymbol, Transpose

from mhasym.model import notation
from mhasym.model.expressions import (Apply, Call, Concat, Frac, Let, Minus, Plus, Relation, Residual, ShapeOf, Softmax,
                          Times, value_of)

SIZE_NAMES = ("n", "m", "d_model", "h", "d_k", "d_v", "d_ff")


@dataclass(frozen=True)
class Mutant:
    rule: str
    where: str  # the changed node, as plain text
    expr: object


def _sizes():
    return [notation.dim(x) for x in SIZE_NAMES]


def _local(e, wide=False):
    """(rule, replacement) pairs for one node ``e``; ``wide`` adds more choices of the same rules."""
    out = []
    sizes = _sizes()
    if isinstance(e, sp.Pow) and e.exp == sp.S.Half:
        out.append(("drop the square root", e.base))
        for s in sizes:
            if s != e.base and e.base in sizes:
                out.append(("square root of another size", sp.sqrt(s)))
    if isinstance(e, sp.Symbol) and e in sizes:
        for s in sizes:
            if s != e:
                out.append(("another size", s))
    if isinstance(e, sp.Integer):
        out += [("integer + 1", e + 1), ("integer - 1", e - 1)]
        if wide:
            out += [("integer + 2", e + 2), ("integer * 2", e * 2)]
    if isinstance(e, Transpose):
        out.append(("drop the transpose", e.arg))
    if isinstance(e, Softmax):
        out.append(("softmax over the other axis", Softmax(e.arg, 1 - e.axis)))
    if isinstance(e, sp.sin):
        out.append(("sin for cos", sp.cos(e.args[0])))
    if isinstance(e, sp.cos):
        out.append(("cos for sin", sp.sin(e.args[0])))
    if isinstance(e, sp.Piecewise) and len(e.args) >= 2:
        (v0, c0), (v1, c1) = e.args[:2]
        out.append(("swap the piecewise values", e.func((v1, c0), (v0, c1), *e.args[2:])))
    if isinstance(e, (MatMul, Concat, Minus, Frac, Call)) or isinstance(e, Apply):
        args = list(e.args)
        start = {Apply: 3, Call: 1}.get(type(e), 0)
        ops = list(range(start, len(args)))
        pairs = [(a, b) for a in ops for b in ops if a < b] if wide else list(zip(ops, ops[1:]))
        for a, b in pairs:
            scalar = isinstance(e, MatMul) and not (getattr(args[a], "is_Matrix", False) and
                                                    getattr(args[b], "is_Matrix", False))
            if args[a] != args[b] and not scalar:  # a number times a matrix commutes
                swapped = args[:]
                swapped[a], swapped[b] = swapped[b], swapped[a]
                out.append(("swap two operands", e.func(*swapped)))
    if isinstance(e, (MatMul, MatAdd, HadamardProduct, Concat, Residual, sp.Add, sp.Mul, Plus, Times)) and len(e.args) >= 2:
        rule = "drop a term" if isinstance(e, (MatAdd, sp.Add, Plus, Residual)) else "drop a factor"
        for k in range(len(e.args)):
            rest = e.args[:k] + e.args[k + 1:]
            out.append((rule, rest[0] if len(rest) == 1 else e.func(*rest)))
    return out


def _leaf(e, wide=False) -> bool:
    if wide:  # also the sizes and indices of matrix symbols
        return not e.args or isinstance(e, (Let, sp.IndexedBase))
    return not e.args or isinstance(e, (MatrixSymbol, Let, sp.IndexedBase))


def _plain(e) -> str:
    text = str(e)
    return text if len(text) <= 60 else text[:57] + "..."


def mutants(expr, wide: bool = False) -> list:
    """Every mutant of ``expr`` that builds and is printed differently from it (each once): a change
    that does not show (the width of an elided run, the declared shape of a call) is not a wrong
    version of the formula shown. ``wide=True`` makes more choices with the same rules: any two
    operands swapped, integers + 2 and * 2, the sizes and indices inside matrix symbols changed."""
    from mhasym.printing.latex import latex

    found, seen, printed = [], {expr}, {latex(expr)}

    def add(rule, where, m):
        if m in seen:
            return
        seen.add(m)
        text = _safe_one(lambda: latex(m))
        if text is None or text in printed:
            return
        printed.add(text)
        found.append(Mutant(rule, where, m))

    for rel in _relations(expr):
        if rel.lhs != rel.rhs:
            add("right side := left side", _plain(rel.rhs), _replace_in(expr, rel, rel.func(rel.lhs, rel.lhs, rel.args[2])))

    def walk(e, rebuild):
        for rule, new in _safe(lambda: _local(e, wide)):
            m = _safe_one(lambda: rebuild(new))
            if m is not None:
                add(rule, _plain(e), m)
        if _leaf(e, wide):
            return
        for k, a in enumerate(e.args):
            if not isinstance(a, sp.Basic):
                continue

            def inner(new, k=k, e=e):
                args = list(e.args)
                args[k] = new
                return rebuild(e.func(*args))

            walk(a, inner)

    walk(expr, lambda new: new)
    return found


def _relations(expr):
    if isinstance(expr, Relation):
        return [expr]
    if isinstance(expr, sp.Basic) and type(expr).__name__ in ("Group", "Aligned"):
        return [r for a in expr.args for r in _relations(a)]
    return []


def _replace_in(expr, old, new):
    return expr.xreplace({old: new})


def _safe(make):
    try:
        return make()
    except Exception:  # noqa: BLE001 - a rule that does not apply here
        return []


def _safe_one(make):
    try:
        return make()
    except Exception:  # noqa: BLE001 - a mutant that does not build (a shape check refuses it)
        return None


def _same_shape(x, y) -> bool:
    """``shape(A)`` and ``shape(B)`` where SymPy proves the two shapes equal (blocks of a concatenation
    in another order)."""
    if not (isinstance(x, ShapeOf) and isinstance(y, ShapeOf)):
        return False
    return all(sp.simplify(a - b) == 0 for a, b in zip(x.arg.shape, y.arg.shape))


def _shifted_mask(x, y) -> bool:
    """Two additive masks, -oo in the same places, whose finite values differ by one constant c: every
    row of softmax(S + M) is the same, since SymPy proves exp(a + c) / sum exp(b + c) = exp(a) / sum exp(b)."""
    if not (isinstance(x, sp.Piecewise) and isinstance(y, sp.Piecewise) and len(x.args) == len(y.args)):
        return False
    shifts = set()
    for (vx, cx), (vy, cy) in zip(x.args, y.args):
        if cx != cy or (vx == -sp.oo) != (vy == -sp.oo):
            return False
        if vx != -sp.oo:
            shifts.add(sp.simplify(vy - vx))
    if len(shifts) != 1 or not all(c.is_number for c in shifts):
        return False
    a, b, c = sp.symbols("a b c", real=True)
    return sp.simplify(sp.exp(a + c) / (sp.exp(a + c) + sp.exp(b + c)) - sp.exp(a) / (sp.exp(a) + sp.exp(b))) == 0


def equivalent(original, mutant) -> bool:
    """True when SymPy proves ``mutant`` equal to ``original``, line by line: scalar parts whose difference
    simplifies to 0, shapes that are equal, or additive masks that give the same softmax."""
    a, b = _relations(original), _relations(mutant)
    if len(a) != len(b) or not a:
        return False
    for ra, rb in zip(a, b):
        for x, y in ((ra.lhs, rb.lhs), (ra.rhs, rb.rhs)):
            if x == y or _same_shape(x, y) or _shifted_mask(x, y):
                continue
            try:
                if isinstance(x, sp.MatrixExpr) or isinstance(y, sp.MatrixExpr):
                    return False
                if sp.simplify(value_of(x) - value_of(y)) != 0:
                    return False
            except Exception:  # noqa: BLE001
                return False
    return True


@dataclass(frozen=True)
class Score:
    """How many mutants of a formula its check kills."""

    id: str
    built: int
    killed: int
    equivalent: tuple = ()  # mutants proven equal to the formula
    survived: tuple = ()  # mutants that pass and are not proven equal: holes in the check

    @property
    def ok(self) -> bool:
        return not self.survived


def score(f, wide: bool = False) -> Score:
    """Run ``f``'s check on each of its mutants (for a mistake: on its right formula)."""
    if f.right is not None:
        built = [Mutant("the right formula", f.right.id, f.right.expr)]
    else:
        built = mutants(f.expr, wide)
    killed, same, survived = 0, [], []
    for m in built:
        if not f.check(expr=m.expr).passed:
            killed += 1
        elif equivalent(f.expr, m.expr):
            same.append(m)
        else:
            survived.append(m)
    return Score(f.id, len(built), killed, tuple(same), tuple(survived))


_SCORES: dict = {}


def cached_score(f) -> Score:
    """:func:`score`, computed once per formula in a process (the site and the notes share it)."""
    if f.id not in _SCORES:
        _SCORES[f.id] = score(f)
    return _SCORES[f.id]


def checked(f):
    """``f.check()`` with the count of mutants it kills; the result fails if a mutant survives
    unexplained, since then the check can pass a wrong formula."""
    from dataclasses import replace

    result = f.check()
    s = cached_score(f)
    result = replace(result, mutants=(s.killed, s.built, len(s.equivalent)))
    if s.survived and result.passed:
        first = s.survived[0]
        result = replace(result, passed=False,
                         detail=f"{result.detail}; a wrong version passes: {first.rule} at {first.where}".lstrip("; "))
    return result


__all__ = ["Mutant", "Score", "cached_score", "checked", "equivalent", "mutants", "score"]
