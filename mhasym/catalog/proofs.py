"""How a step of a derivation is proven: SymPy on the step's own object, symbolically where it can, otherwise
with explicit symbolic entries at several small sizes.

Each prover takes the step's relation (the object shown) and returns ``(proven, how)``; it raises
:class:`ProofError` with one line when a side cannot be computed. The provers:

- :func:`explicit`: a matrix expression at given sizes, every matrix a matrix of symbols, computed
  entry by entry (softmax, transposes, block matrices, Attention(Q, K, V[, M]) written out);
- :func:`gradient_equal`: ``dX = rhs`` where ``dX`` is the derivative of the loss
  L = sum(dZ o Z) (``dZ`` given) with respect to X: SymPy differentiates L entry by entry;
  every gradient on the right is computed the same way, so a step never leans on the step before;
- :func:`moments_equal`: expectations and variances of polynomials in independent variables with
  mean 0 and variance 1 (higher moments kept as symbols, so no distribution is assumed);
- :func:`is_zero`: whether a scalar difference is 0, with exponentials and sines handled.

>>> import sympy as sp
>>> a, b = sp.symbols("a b")
>>> is_zero(sp.exp(a) / (sp.exp(a) + sp.exp(b)) + sp.exp(b) / (sp.exp(a) + sp.exp(b)) - 1)
True
>>> is_zero(sp.sin(a + b) - sp.sin(a) * sp.cos(b))
False
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions import (HadamardProduct, MatAdd, MatMul, MatrixExpr, OneMatrix, Transpose,
                                        ZeroMatrix)
from sympy.matrices.matrixbase import MatrixBase

from mhasym.catalog.evaluate import size_values
from mhasym.errors import MhasymError
from mhasym.model import notation
from mhasym.model.expressions import (Apply, Concat, Elided, Expect, Grad, MatMinus, MatSum, RowSum, Scaled, Softmax,
                                      Var, VStack, value_of)
from mhasym.printing.plain import plain


class ProofError(MhasymError):
    """A side of a step that cannot be computed (an unknown matrix, a shape that does not fit)."""


# Explicit matrices of symbols

def entries(name: str, rows: int, cols: int) -> sp.ImmutableMatrix:
    """A rows x cols matrix of distinct real symbols ``name[r,c]`` (counted from 1)."""
    return sp.ImmutableMatrix(rows, cols, lambda r, c: sp.Symbol(f"{name}[{r + 1},{c + 1}]", real=True))


def _softmax_rows(x: sp.MatrixBase, axis: int) -> sp.ImmutableMatrix:
    x = x if axis == 1 else x.T
    out = sp.Matrix(x.rows, x.cols, lambda r, c: sp.exp(x[r, c]))
    for r in range(x.rows):
        total = sum(out[r, :])
        if total == 0:
            raise ProofError(f"row {r + 1} of a softmax has no allowed entry")
        for c in range(x.cols):
            out[r, c] = out[r, c] / total
    out = sp.ImmutableMatrix(out)
    return out if axis == 1 else out.T


def _int(value, what):
    value = sp.sympify(value)
    if not value.is_Integer:
        raise ProofError(f"{what} is {plain(value)}, not a number: give it a size")
    return int(value)


def explicit(expr, env: dict):
    """``expr`` (sizes already put in) computed with the explicit matrices of ``env``
    (matrix symbol or gradient -> matrix); scalars are returned as SymPy scalars."""
    if expr in env:
        return env[expr]
    if isinstance(expr, MatrixBase):
        return sp.ImmutableMatrix(expr.applyfunc(lambda e: explicit(e, env)))
    if isinstance(expr, (notation.NamedMatrix, Grad)) or type(expr).__name__ == "MatrixSymbol":
        if isinstance(env, Entries) and isinstance(expr, notation.NamedMatrix):
            env[expr] = env.make(expr)
            return env[expr]
        raise ProofError(f"no entries for {plain(expr)}")
    if not isinstance(expr, MatrixExpr):
        return value_of(expr).xreplace({k: v for k, v in env.items() if not isinstance(k, MatrixExpr)})
    go = lambda e: explicit(e, env)  # noqa: E731
    if isinstance(expr, MatMul):
        out = sp.Integer(1)
        for a in expr.args:
            out = out * go(a)
        return sp.ImmutableMatrix(out)
    if isinstance(expr, MatAdd):
        out = go(expr.args[0])
        for a in expr.args[1:]:
            out = out + go(a)
        return sp.ImmutableMatrix(out)
    if isinstance(expr, MatMinus):
        return sp.ImmutableMatrix(go(expr.args[0]) - go(expr.args[1]))
    if isinstance(expr, HadamardProduct):
        out = go(expr.args[0])
        for a in expr.args[1:]:
            other = go(a)
            if out.shape != other.shape:
                raise ProofError(f"entrywise product of shapes {out.shape} and {other.shape}")
            out = out.multiply_elementwise(other)
        return sp.ImmutableMatrix(out)
    if isinstance(expr, Transpose):
        return go(expr.arg).T
    if isinstance(expr, Scaled):
        return sp.ImmutableMatrix(go(expr.numerator) / go(expr.denominator))
    if isinstance(expr, Softmax):
        return _softmax_rows(go(expr.arg), expr.axis)
    if isinstance(expr, RowSum):
        x = go(expr.arg)
        return sp.ImmutableMatrix(x.rows, 1, lambda r, c: sum(x[r, :]))
    if isinstance(expr, OneMatrix):
        return sp.ImmutableMatrix(sp.ones(_int(expr.shape[0], "rows"), _int(expr.shape[1], "columns")))
    if isinstance(expr, ZeroMatrix):
        return sp.ImmutableMatrix(sp.zeros(_int(expr.shape[0], "rows"), _int(expr.shape[1], "columns")))
    if isinstance(expr, (Concat, VStack)):
        written = expr.doit(deep=False)
        if isinstance(written, MatrixBase):
            return sp.ImmutableMatrix(written)
        if any(isinstance(b, Elided) for b in written.blocks):
            raise ProofError("an elided run of blocks whose bounds are not numbers")
        blocks = [go(b) for b in written.blocks]
        joined = sp.Matrix.hstack(*blocks) if isinstance(expr, Concat) else sp.Matrix.vstack(*blocks)
        return sp.ImmutableMatrix(joined)
    if isinstance(expr, MatSum):
        written = expr.doit(deep=False)
        if isinstance(written, MatSum):
            raise ProofError("a sum whose bounds are not numbers")
        return go(written)
    if isinstance(expr, Apply) and expr.name == "Attention" and len(expr.operands) in (3, 4):
        q, k, v = (go(a) for a in expr.operands[:3])
        scores = q * k.T / sp.sqrt(q.cols)
        if len(expr.operands) == 4:
            scores = scores + go(expr.operands[3])
        return sp.ImmutableMatrix(_softmax_rows(scores, 1) * v)
    raise ProofError(f"cannot write out {type(expr).__name__} {plain(expr)}")


def at_sizes(expr, sizes: dict):
    """``expr`` with the sizes (and indices such as ``i``) of ``sizes`` put in; the index that a sum
    runs over keeps its name inside the sum."""
    table = size_values(sizes)

    def put(e):
        if isinstance(e, MatSum):
            term, index, lower, upper = e.args
            inner = {k: v for k, v in table.items() if k != index}
            return MatSum(term.xreplace(inner), index, lower.xreplace(table), upper.xreplace(table))
        if not e.args or not isinstance(e, sp.Basic):
            return table.get(e, e)
        return e.func(*[put(a) if isinstance(a, sp.Basic) else a for a in e.args])

    return put(expr) if any(isinstance(a, MatSum) for a in sp.preorder_traversal(expr)) else expr.xreplace(table)


# Zero tests

def _exp_free(expr):
    """Each exponential e^(c_1 t_1 + c_2 t_2 + ...) (c rational) written as a product of powers of
    positive symbols, one per monomial t: a rational function that is 0 in these symbols is 0."""
    atoms = expr.atoms(sp.exp)
    found = {}
    for e in atoms:
        for term in sp.Add.make_args(sp.expand(e.args[0])):
            coeff, mono = term.as_coeff_Mul()
            found.setdefault(mono, set()).add(sp.Rational(coeff))
    base = {}
    for k, (mono, coeffs) in enumerate(sorted(found.items(), key=lambda x: sp.default_sort_key(x[0]))):
        base[mono] = (sp.Symbol(f"_e{k}", positive=True), sp.ilcm(1, *[c.q for c in coeffs]))

    def power(e):
        out = sp.Integer(1)
        for term in sp.Add.make_args(sp.expand(e.args[0])):
            coeff, mono = term.as_coeff_Mul()
            symbol, scale = base[mono]
            out *= symbol ** (sp.Rational(coeff) * scale)
        return out

    return expr.xreplace({e: power(e) for e in atoms})


def is_zero(expr) -> bool:
    """True when SymPy shows ``expr`` is 0: exponentials as independent positive symbols (after
    e^(a+b) is written e^a e^b), sines and cosines expanded; then the rational function is cancelled."""
    expr = sp.sympify(value_of(expr)).doit()
    if expr == 0:
        return True
    if expr.has(sp.sin, sp.cos):
        if _far_from_zero(expr):
            return False
        return sp.simplify(sp.expand_trig(expr)) == 0
    if expr.has(sp.exp):
        expr = _exp_free(expr)
    if _nonzero_somewhere(expr):
        return False
    return _rational_zero(expr)


def _rational_zero(expr) -> bool:
    """True when ``expr``, a rational function, is 0: the numerator over a common denominator, expanded,
    is the zero polynomial."""
    numerator, _ = sp.together(expr).as_numer_denom()
    return sp.expand(numerator) == 0


def _random_point(expr) -> dict:
    """Small positive rationals for the free symbols of ``expr``, seeded by how many there are, so that a
    proof gives the same answer on every run."""
    import random

    g = random.Random(len(expr.free_symbols))
    return {s: sp.Rational(g.randint(1, 97), g.randint(1, 89)) for s in expr.free_symbols}


def _far_from_zero(expr) -> bool:
    """True when ``expr`` is clearly not 0 at one point of small rationals (30 digits, |value| > 1e-12):
    a quick way to reject a wrong side with sines and cosines before simplifying."""
    try:
        value = sp.N(expr.xreplace(_random_point(expr)), 30)
        return value.is_number and abs(value) > 1e-12
    except (ZeroDivisionError, TypeError):
        return False


def _nonzero_somewhere(expr) -> bool:
    """True when ``expr`` (a rational function) is not 0 at one point of small positive rationals, computed
    exactly: a quick way to reject a wrong side before the slower cancellation."""
    try:
        value = expr.xreplace(_random_point(expr))
        value = sp.nsimplify(value) if value.has(sp.Float) else value
        return value.is_number and value.is_finite is not False and sp.simplify(value) != 0
    except (ZeroDivisionError, TypeError):
        return False


def matrices_equal(a, b) -> bool:
    if not (isinstance(a, MatrixBase) and isinstance(b, MatrixBase)):
        return is_zero(sp.sympify(a) - sp.sympify(b))
    if a.shape != b.shape:
        raise ProofError(f"the two sides have shapes {a.shape} and {b.shape}")
    return all(is_zero(a[r, c] - b[r, c]) for r in range(a.rows) for c in range(a.cols))


# Gradients

@dataclass(frozen=True)
class Setting:
    """What the gradients of a derivation are of: matrices defined in order (``(symbol, expression)``),
    the output ``Z`` and the loss L = sum(dZ o Z) with the upstream gradient ``dZ`` given.
    ``definitions`` may be a function of the sizes (one definition per head once h is a number).
    ``sizes`` lists the sizes the steps are proven at; ``values`` gives fixed matrices at each
    (a mask), by the sizes' position."""

    definitions: tuple
    output: object
    sizes: tuple
    values: tuple = field(default=())

    def leaves(self, expr_list, definitions) -> list:
        defined = {s for s, _ in definitions}
        found = set()
        for e in expr_list:
            for a in sp.preorder_traversal(e):
                if isinstance(a, notation.NamedMatrix) and a not in defined:
                    found.add(a)
        return sorted(found, key=sp.default_sort_key)


def _fill(symbol, sizes) -> sp.ImmutableMatrix:
    rows, cols = (_int(at_sizes(s, sizes), f"a size of {plain(symbol)}") for s in symbol.shape)
    return entries(plain(symbol), rows, cols)


class _Gradients:
    """Explicit values and true gradients of one setting at one choice of sizes."""

    def __init__(self, setting: Setting, sizes: dict, fixed: dict, step_exprs):
        self.setting, self.sizes, self.fixed = setting, sizes, fixed
        defs = setting.definitions(sizes) if callable(setting.definitions) else setting.definitions
        self.definitions = [(at_sizes(s, sizes), at_sizes(e, sizes)) for s, e in defs]
        self.output = at_sizes(setting.output, sizes)
        exprs = [e for _, e in self.definitions] + [at_sizes(e, sizes) for e in step_exprs]
        self.leaves = {x: fixed.get(x) if x in fixed else _fill(x, sizes)
                       for x in setting.leaves(exprs, self.definitions)}
        self.upstream = _fill(Grad(self.output), sizes)
        self._cache = {}

    def values(self, fresh=None) -> dict:
        """Every defined matrix computed from the leaves; ``fresh`` (symbol, matrix) replaces one."""
        if fresh is None and "values" in self._cache:
            return dict(self._cache["values"])
        env = dict(self.leaves)
        env[Grad(self.output)] = self.upstream
        for symbol, expr in self.definitions:
            env[symbol] = fresh[1] if fresh is not None and symbol == fresh[0] else explicit(expr, env)
        if fresh is None:
            self._cache["values"] = dict(env)
        return env

    def gradient(self, X):
        """(entries standing for X, dL/dX in terms of them) with L = sum(dZ o Z)."""
        if X in self._cache:
            return self._cache[X]
        defined = [s for s, _ in self.definitions]
        if X in defined:
            stand_in = _fill(X, self.sizes).applyfunc(lambda s: sp.Symbol(s.name + "'", real=True))
            env = self.values((X, stand_in))
        elif X in self.leaves:
            stand_in, env = self.leaves[X], self.values()
        else:
            raise ProofError(f"d{plain(X)}: {plain(X)} is neither an input nor defined in this derivation")
        Z = env[self.output]
        loss = sum(self.upstream[r, c] * Z[r, c] for r in range(Z.rows) for c in range(Z.cols))
        grad = stand_in.applyfunc(lambda x: sp.diff(loss, x))
        self._cache[X] = (stand_in, grad)
        return stand_in, grad

    def side(self, expr, env):
        """A side of a step: gradients replaced by their true values at ``env``."""
        table = dict(env)
        expr = expr.replace(lambda e: isinstance(e, MatSum), lambda e: e.doit(deep=False))
        for g in sorted(expr.atoms(Grad), key=sp.default_sort_key):
            if g == Grad(self.output):
                continue
            stand_in, grad = self.gradient(g.arg)
            actual = env[g.arg]
            table[g] = grad.xreplace({s: a for s, a in zip(stand_in, actual)})
        return explicit(expr, table)


_CACHE: dict = {}


def _gradients(setting, k, sizes, fixed, sides) -> _Gradients:
    """One :class:`_Gradients` per setting, case and set of inputs: the steps of a derivation and their
    mutants share the derivatives they need (each computed once)."""
    g = _Gradients(setting, sizes, fixed, sides)
    key = (id(setting), k, tuple(sorted(map(str, g.leaves))))
    if key not in _CACHE:
        _CACHE[key] = (setting, g)  # the setting is kept alive, so its id stays its own
    return _CACHE[key][1]


def gradient_equal(relation, setting: Setting) -> tuple:
    """Prove ``dX = rhs`` (or any relation whose sides hold gradients) at each of ``setting.sizes``."""
    for k, sizes in enumerate(setting.sizes):
        fixed = {at_sizes(x, sizes): v for x, v in (setting.values[k].items() if setting.values else ())}
        lhs, rhs = at_sizes(relation.lhs, sizes), at_sizes(relation.rhs, sizes)
        g = _gradients(setting, k, sizes, fixed, [lhs, rhs])
        env = g.values()
        if not matrices_equal(g.side(lhs, env), g.side(rhs, env)):
            return False, _at(sizes, fixed) + ": the two sides differ"
    masked = sum(any(isinstance(v, MatrixBase) and -sp.oo in v for v in case.values()) for case in setting.values)
    cases = len(setting.sizes)
    extra = f" ({cases} cases, {masked} with a mask)" if masked else f" ({cases} cases)"
    return True, f"SymPy's derivatives with symbolic entries at {_sizes_text(setting.sizes)}{extra}"


_INDICES = ("i", "j")


def _sizes_text(sizes_list) -> str:
    """``n = 2, m = 3 and n = 3, m = 2``: each choice of sizes once, with the values its indices i, j took."""
    groups = {}
    for s in sizes_list:
        base = _at({k: v for k, v in s.items() if k not in _INDICES}, None)
        seen = groups.setdefault(base, {})
        for x in _INDICES:
            if x in s:
                seen.setdefault(x, [])
                if s[x] not in seen[x]:
                    seen[x].append(s[x])
    texts = []
    for base, seen in groups.items():
        indices = " and ".join(f"{x} = {', '.join(map(str, v))}" for x, v in seen.items())
        texts.append(base + (f" for {indices}" if base and indices else indices))
    return " and ".join(texts) if len(texts) <= 2 else "; ".join(texts[:-1]) + " and " + texts[-1]


def _at(sizes, fixed) -> str:
    text = ", ".join(f"{k} = {v}" for k, v in sizes.items())
    return text + (" with a mask" if fixed else "")


# Matrix identities with symbolic entries

class Entries(dict):
    """Explicit matrices made on first use: symbolic entries, or ``blocks(symbol, self)`` for a matrix
    defined as a block of another (W^O_i as rows of W^O); ``blocks`` returns None for the others."""

    def __init__(self, sizes, blocks=None):
        super().__init__()
        self.sizes, self.blocks = sizes, blocks

    def make(self, symbol):
        made = self.blocks(symbol, self) if self.blocks else None
        return made if made is not None else _fill(symbol, self.sizes)


def identity_equal(relation, sizes_list, blocks=None) -> tuple:
    """Both sides written out with symbolic entries at each sizes (:class:`Entries`)."""
    for sizes in sizes_list:
        env = Entries(sizes, blocks)
        lhs, rhs = (explicit(at_sizes(side, sizes), env) for side in (relation.lhs, relation.rhs))
        if not matrices_equal(lhs, rhs):
            return False, _at(sizes, None) + ": the two sides differ"
    return True, f"written out with symbolic entries at {_sizes_text(sizes_list)}"


# Scalar identities: sums written out at sizes, named quantities replaced by their definitions

def written_out(expr, sizes: dict, definitions=()):
    """``expr`` at ``sizes``: definitions ((pattern, function of the match) pairs) put in, finite sums
    written term by term, derivatives taken."""
    expr = at_sizes(expr, sizes)
    for _ in range(3):  # definitions may use each other
        for match, make in definitions:
            expr = expr.replace(match, make)
    expr = at_sizes(expr, sizes)
    expr = expr.replace(lambda e: isinstance(e, sp.Sum), _sum_out)
    return value_of(expr).doit()


def _sum_out(e):
    (index, lower, upper), = e.limits
    lower, upper = _int(lower, "a lower bound"), _int(upper, "an upper bound")
    return sp.Add(*[e.function.xreplace({index: sp.Integer(v)}) for v in range(lower, upper + 1)])


def scalar_equal(relation, sizes_list, definitions=(), values=None) -> tuple:
    """Both sides written out (:func:`written_out`) and compared at each sizes; ``definitions`` may be a
    function of the sizes; ``values(sizes)`` gives extra substitutions per sizes (masks)."""
    count = 0
    for sizes in sizes_list:
        defs = definitions(sizes) if callable(definitions) else definitions
        for extra in (values(sizes) if values else [{}]):
            count += 1
            lhs = written_out(relation.lhs, sizes, defs).xreplace(extra)
            rhs = written_out(relation.rhs, sizes, defs).xreplace(extra)
            if not matrices_equal(lhs, rhs):
                return False, _at(sizes, extra) + ": the two sides differ"
    if sizes_list == [{}] and count == 1:
        return True, "simplified symbolically by SymPy"
    return True, f"written out and simplified at {_sizes_text(sizes_list)} ({count} cases)"


# Expectations

def _moment(base, power: int, assume: frozenset):
    """E[x^power] for an entry x of ``base``: 0 for the first moment under "mean 0", 1 for the second under
    "mean 0" and "variance 1"; otherwise a symbol, the same for every entry of one vector."""
    if power == 0:
        return sp.Integer(1)
    if power == 1 and "mean 0" in assume:
        return sp.Integer(0)
    if power == 2 and {"mean 0", "variance 1"} <= assume:
        return sp.Integer(1)
    return sp.Symbol(f"E[{base}^{power}]")


def expectation(expr, variables, assume=frozenset()) -> sp.Expr:
    """E[expr] for a polynomial in independent ``variables`` (indexed entries), under ``assume``."""
    poly = sp.Poly(sp.expand(expr), *variables)
    out = sp.Integer(0)
    for powers, coeff in poly.terms():
        term = coeff
        for x, p in zip(variables, powers):
            term *= _moment(x.base, p, assume)
        out += term
    return out


def moments_equal(relation, sizes_list, variables, assume=()) -> tuple:
    """Both sides with sums written out, E and Var computed by :func:`expectation` for independent entries
    (``assume``: "mean 0", "variance 1"; moments not fixed by them stay symbols), compared."""
    assume = frozenset(assume)
    for sizes in sizes_list:
        sides = []
        for side in (relation.lhs, relation.rhs):
            e = at_sizes(side, sizes).replace(lambda x: isinstance(x, sp.Sum), _sum_out)
            e = value_of(e)
            names = variables(sizes)
            e = e.replace(lambda x: isinstance(x, Var),
                          lambda x: expectation(x.args[0] ** 2, names, assume) - expectation(x.args[0], names, assume) ** 2)
            e = e.replace(lambda x: isinstance(x, Expect), lambda x: expectation(x.args[0], names, assume))
            sides.append(e)
        if not is_zero(sides[0] - sides[1]):
            return False, _at(sizes, None) + ": the two sides differ"
    what = " and ".join(sorted(assume)) if assume else "no other assumption"
    return True, (f"expectations computed from independence and {what} (other moments left as symbols) "
                  f"at {_sizes_text(sizes_list)}")
