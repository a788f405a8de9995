"""Matrix expressions that SymPy lacks: row-wise softmax, a matrix over a scalar,
horizontal concatenation, named functions, and relations between formulas.

They keep the order a lecturer writes them in; the printer shows them as a
textbook does and the compiler turns them into NumPy calls.

>>> from mhasym.model.notation import matrix
>>> Q, K = matrix("Q", 4, 3), matrix("K", 5, 3)
>>> Softmax(Q * K.T).shape
(4, 5)
>>> Concat(matrix("Z", 2, 3, index=1), matrix("Z", 2, 3, index=2)).shape
(2, 6)
"""

from __future__ import annotations

import sympy as sp
from sympy.core.symbol import Str
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.matrixbase import MatrixBase

from mhasym.printing.display import Displayable
from mhasym.errors import MhasymError
from mhasym.model.shapes import equal, fmt


def _str(name) -> Str:
    """A name kept in ``args`` as SymPy's ``Str``, so that ``e.func(*e.args) == e``."""
    return name if isinstance(name, Str) else Str(name)


def _matrix(arg, what: str):
    if not isinstance(arg, (MatrixExpr, MatrixBase)):
        raise MhasymError(f"{what} must be a matrix, got {type(arg).__name__}")
    return arg


class Softmax(Displayable, MatrixExpr):
    """Softmax of each row of a matrix (``axis=1``: over the keys).

    ``axis=0`` normalises each column instead: a common mistake, kept so
    that it can be shown and caught.
    """

    def __new__(cls, arg, axis=1):
        _matrix(arg, "softmax argument")
        if int(axis) not in (0, 1):
            raise MhasymError(f"softmax axis must be 0 or 1, got {axis}")
        return sp.Basic.__new__(cls, arg, sp.Integer(axis))

    arg = property(lambda self: self.args[0])
    axis = property(lambda self: int(self.args[1]))
    shape = property(lambda self: self.args[0].shape)

    def _entry(self, i, j, **kwargs):
        k = sp.Dummy("k", integer=True)
        if self.axis == 1:
            return sp.exp(self.arg[i, j]) / sp.Sum(sp.exp(self.arg[i, k]), (k, 0, self.shape[1] - 1))
        return sp.exp(self.arg[i, j]) / sp.Sum(sp.exp(self.arg[k, j]), (k, 0, self.shape[0] - 1))


class Scaled(Displayable, MatrixExpr):
    """A matrix divided by a scalar, printed as a fraction: ``Q K^T / sqrt(d_k)``."""

    def __new__(cls, numerator, denominator):
        _matrix(numerator, "numerator")
        denominator = sp.sympify(denominator)
        if isinstance(denominator, (MatrixExpr, MatrixBase)):
            raise MhasymError("the denominator of a scaled matrix must be a scalar")
        return sp.Basic.__new__(cls, numerator, denominator)

    numerator = property(lambda self: self.args[0])
    denominator = property(lambda self: self.args[1])
    shape = property(lambda self: self.args[0].shape)


class Elided(Displayable, MatrixExpr):
    """Blocks left out of a concatenation, printed as ``\\cdots`` or ``\\ldots``.

    Its width counts the columns of the blocks it stands for, so the shape of
    the whole concatenation stays exact: ``Z_1, Z_2, ..., Z_h`` has ``3h``
    columns. ``Elided(rows, cols, term, i, lower, upper)`` also says which blocks
    it stands for (``term`` at ``i = lower .. upper``); once the bounds are numbers,
    ``Concat(...).doit()`` writes them out.

    >>> from mhasym.model.notation import matrix, dim, scalar
    >>> h, i = dim("h"), scalar("i")
    >>> head = lambda k: matrix("head", 2, 3, k)
    >>> c = Concat(head(1), Elided(2, 3 * (h - 2), head(i), i, 2, h - 1), head(h))
    >>> c.xreplace({h: 3}).doit().blocks
    (head_1, head_2, head_3)
    """

    def __new__(cls, rows, cols, *family):
        if family and len(family) != 4:
            raise MhasymError(f"Elided takes rows, cols and optionally term, index, lower, upper; got {2 + len(family)} arguments")
        return sp.Basic.__new__(cls, sp.sympify(rows), sp.sympify(cols), *(sp.sympify(a) for a in family))

    shape = property(lambda self: (self.args[0], self.args[1]))

    def blocks(self):
        """The blocks it stands for, once its bounds are numbers; None otherwise."""
        if len(self.args) == 2:
            return None
        term, index, lower, upper = self.args[2:]
        if not (lower.is_Integer and upper.is_Integer):
            return None
        return [term.xreplace({index: sp.Integer(k)}) for k in range(int(lower), int(upper) + 1)]


def _joined(expr, hints: dict, axis: int):
    """``expr`` (Concat, axis 1, or VStack, axis 0) with its elided runs written out once their bounds are
    numbers (an empty run dropped), and its blocks joined into one matrix when they are all explicit."""
    blocks = []
    for b in expr.args:
        b = b.doit(**hints) if hints.get("deep", True) else b
        written = b.blocks() if isinstance(b, Elided) else None
        if written is not None:
            blocks += [w.doit(**hints) for w in written]
        elif not (isinstance(b, Elided) and b.shape[axis] == 0):
            blocks.append(b)
    if all(isinstance(b, MatrixBase) for b in blocks):
        join = sp.Matrix.hstack if axis == 1 else sp.Matrix.vstack
        return sp.ImmutableMatrix(join(*blocks))
    return expr.func(*blocks)


class Concat(Displayable, MatrixExpr):
    """Horizontal concatenation of blocks with equal row counts."""

    def __new__(cls, *blocks):
        if not blocks:
            raise MhasymError("Concat needs at least one block")
        for k, block in enumerate(blocks, 1):
            _matrix(block, f"block {k}")
        rows = blocks[0].shape[0]
        for k, block in enumerate(blocks[1:], 2):
            if not equal(block.shape[0], rows):
                raise MhasymError(
                    f"Concat block {k} has {fmt(block.shape[0])} rows, block 1 has {fmt(rows)}"
                )
        return sp.Basic.__new__(cls, *blocks)

    blocks = property(lambda self: self.args)

    @property
    def shape(self):
        return self.args[0].shape[0], sp.expand(sp.Add(*[b.shape[1] for b in self.args]))

    def doit(self, **hints):
        """Elided runs with numeric bounds written out; explicit blocks joined into one matrix."""
        return _joined(self, hints, axis=1)

    @property
    def is_explicit(self) -> bool:
        """True when every block is a matrix of entries (or an elided run of them)."""
        return all(isinstance(b, (MatrixBase, Elided)) for b in self.args)


class VStack(Displayable, MatrixExpr):
    """Vertical stacking of blocks with equal column counts, e.g. W^O as its h blocks W^O_i of d_v rows.

    >>> from mhasym.model.notation import matrix
    >>> VStack(matrix("W_O", 2, 5, 1), matrix("W_O", 2, 5, 2)).shape
    (4, 5)
    """

    def __new__(cls, *blocks):
        if not blocks:
            raise MhasymError("VStack needs at least one block")
        for k, block in enumerate(blocks, 1):
            _matrix(block, f"block {k}")
        cols = blocks[0].shape[1]
        for k, block in enumerate(blocks[1:], 2):
            if not equal(block.shape[1], cols):
                raise MhasymError(f"VStack block {k} has {fmt(block.shape[1])} columns, block 1 has {fmt(cols)}")
        return sp.Basic.__new__(cls, *blocks)

    blocks = property(lambda self: self.args)

    @property
    def shape(self):
        return sp.expand(sp.Add(*[b.shape[0] for b in self.args])), self.args[0].shape[1]

    def doit(self, **hints):
        """Elided runs with numeric bounds written out; explicit blocks joined into one matrix."""
        return _joined(self, hints, axis=0)


class Grad(Displayable, MatrixExpr):
    """``dX``: the gradient of a scalar loss L with respect to the matrix X (same shape as X).

    Which L is meant is said by the derivation that uses it (for attention, L = sum(dZ o Z) with the
    upstream gradient dZ given).
    """

    def __new__(cls, X):
        _matrix(X, "the variable of a gradient")
        return sp.Basic.__new__(cls, X)

    arg = property(lambda self: self.args[0])
    shape = property(lambda self: self.args[0].shape)


class MatMinus(Displayable, MatrixExpr):
    """``A - B`` for matrices of one shape, kept in the written order (SymPy's MatAdd puts -B first)."""

    def __new__(cls, a, b):
        _matrix(a, "the left of a difference")
        _matrix(b, "the right of a difference")
        if not (equal(a.shape[0], b.shape[0]) and equal(a.shape[1], b.shape[1])):
            raise MhasymError(f"difference of a {fmt(a.shape[0])} x {fmt(a.shape[1])} and a "
                              f"{fmt(b.shape[0])} x {fmt(b.shape[1])} matrix")
        return sp.Basic.__new__(cls, a, b)

    shape = property(lambda self: self.args[0].shape)

    def _entry(self, i, j, **kwargs):
        return self.args[0][i, j] - self.args[1][i, j]


class RowSum(Displayable, MatrixExpr):
    """The column of row sums of a matrix: ``rowsum(X)`` is X times a column of ones."""

    def __new__(cls, X):
        _matrix(X, "rowsum argument")
        return sp.Basic.__new__(cls, X)

    arg = property(lambda self: self.args[0])
    shape = property(lambda self: (self.args[0].shape[0], sp.Integer(1)))

    def _entry(self, i, j, **kwargs):
        k = sp.Dummy("k", integer=True)
        return sp.Sum(self.arg[i, k], (k, 0, self.arg.shape[1] - 1))


class Apply(Displayable, MatrixExpr):
    """A named function applied to matrices, e.g. ``Attention(Q, K, V)``.

    The shape of the result is given, since the name alone does not fix it.
    """

    def __new__(cls, name, rows, cols, *operands):
        return sp.Basic.__new__(cls, _str(name), sp.sympify(rows), sp.sympify(cols), *operands)

    name = property(lambda self: self.args[0].name)
    operands = property(lambda self: self.args[3:])
    shape = property(lambda self: (self.args[1], self.args[2]))


class Space(Displayable, sp.Basic):
    """The set of real matrices of a shape: ``\\mathbb{R}^{n \\times d_k}``."""

    def __new__(cls, rows, cols):
        return sp.Basic.__new__(cls, sp.sympify(rows), sp.sympify(cols))

    shape = property(lambda self: self.args)


class Dims(Displayable, sp.Basic):
    """Sizes of a shape written with times signs: ``n \\times d_k`` (as in a table of symbols)."""

    def __new__(cls, *sizes):
        return sp.Basic.__new__(cls, *(sp.sympify(s) for s in sizes))


class Shape(Displayable, sp.Basic):
    """A shape written as a pair: ``(2, 3h)``."""

    def __new__(cls, rows, cols):
        return sp.Basic.__new__(cls, sp.sympify(rows), sp.sympify(cols))


class Relation(Displayable, sp.Basic):
    """``lhs op rhs`` where op is ``=``, ``\\in`` or another relation symbol.

    A catalog formula is a relation: its left-hand side names what is defined.
    """

    OPS = {"=": "=", "in": r"\in", "approx": r"\approx", "equiv": r"\equiv"}

    def __new__(cls, lhs, rhs, op="="):
        op = _str(op)
        if op.name not in cls.OPS:
            raise MhasymError(f"unknown relation {op.name!r}")
        return sp.Basic.__new__(cls, sp.sympify(lhs), sp.sympify(rhs), op)

    lhs = property(lambda self: self.args[0])
    rhs = property(lambda self: self.args[1])
    op = property(lambda self: self.args[2].name)


def shape_of(expr):
    """The shape of a matrix expression or explicit matrix."""
    return tuple(expr.shape)


class ShapeOf(Displayable, sp.Basic):
    """``shape(X)``: the pair (rows, columns) of a matrix, as a formula's left-hand side."""

    def __new__(cls, arg):
        return sp.Basic.__new__(cls, arg)

    arg = property(lambda self: self.args[0])

    @property
    def value(self):
        return Shape(*self.args[0].shape)


class Group(Displayable, sp.Basic):
    """Several relations shown in one display, separated by a comma and a quad space."""

    def __new__(cls, *items):
        return sp.Basic.__new__(cls, *items)


class SplitHeads(Displayable, MatrixExpr):
    """Head ``i``'s block of a fused projection ``P = X W`` of shape (n, h d).

    With ``transpose=True`` it is what ``P.reshape(n, h, d).transpose(1, 0, 2)[i - 1]``
    gives: columns ``(i-1) d + 1 .. i d`` of P. With ``transpose=False`` it is
    ``P.reshape(h, n, d)[i - 1]``: the common mistake that mixes tokens and heads.
    """

    def __new__(cls, P, h, i, transpose=True):
        _matrix(P, "fused projection")
        return sp.Basic.__new__(cls, P, sp.sympify(h), sp.sympify(i), sp.true if transpose else sp.false)

    P = property(lambda self: self.args[0])
    heads = property(lambda self: self.args[1])
    i = property(lambda self: self.args[2])
    transpose = property(lambda self: bool(self.args[3]))

    @property
    def shape(self):
        n, width = self.P.shape
        return n, width / self.heads

    def _entry(self, r, c, **kwargs):
        n, width = self.P.shape
        d = width / self.heads
        if self.transpose:
            return self.P[r, (self.i - 1) * d + c]
        flat = (self.i - 1) * n * d + r * d + c
        return self.P[flat // width, flat % width]


class RowVector(Displayable, MatrixExpr):
    """A (1, d) parameter such as a bias b or LayerNorm's gamma, repeated on each of ``rows`` rows.

    It prints as the vector itself (``b_1``), as in the paper's ``x W_1 + b_1``;
    NumPy broadcasting does the repetition.
    """

    def __new__(cls, vector, rows):
        _matrix(vector, "row vector")
        if not equal(vector.shape[0], 1):
            raise MhasymError(f"a row vector needs 1 row, got {fmt(vector.shape[0])}")
        return sp.Basic.__new__(cls, vector, sp.sympify(rows))

    vector = property(lambda self: self.args[0])
    shape = property(lambda self: (self.args[1], self.args[0].shape[1]))


class ReLU(Displayable, MatrixExpr):
    """``max(0, X)`` entry by entry."""

    def __new__(cls, arg):
        _matrix(arg, "ReLU argument")
        return sp.Basic.__new__(cls, arg)

    arg = property(lambda self: self.args[0])
    shape = property(lambda self: self.args[0].shape)


class LayerNorm(Displayable, MatrixExpr):
    """Layer normalisation of each row (each position) over its d features:
    ``gamma * (x - mu) / sqrt(sigma^2 + eps) + beta`` with the biased variance.

    ``unbiased=True`` (divide by d - 1) and ``eps_inside=False``
    (``/ (sigma + eps)``) are the common mistakes, kept to be shown and caught.
    """

    def __new__(cls, X, gamma, beta, eps, unbiased=False, eps_inside=True):
        _matrix(X, "LayerNorm input")
        d = X.shape[1]
        for name, v in (("gamma", gamma), ("beta", beta)):
            if not (equal(v.shape[0], 1) and equal(v.shape[1], d)):
                raise MhasymError(f"LayerNorm {name} needs shape (1, {fmt(d)}), got ({fmt(v.shape[0])}, {fmt(v.shape[1])})")
        flags = (sp.true if unbiased else sp.false, sp.true if eps_inside else sp.false)
        return sp.Basic.__new__(cls, X, gamma, beta, sp.sympify(eps), *flags)

    X = property(lambda self: self.args[0])
    gamma = property(lambda self: self.args[1])
    beta = property(lambda self: self.args[2])
    eps = property(lambda self: self.args[3])
    unbiased = property(lambda self: bool(self.args[4]))
    eps_inside = property(lambda self: bool(self.args[5]))
    shape = property(lambda self: self.args[0].shape)


class Residual(Displayable, MatrixExpr):
    """``x + Sublayer(x)``: printed in that order, whatever SymPy's ordering of sums."""

    def __new__(cls, x, sublayer):
        for name, v in (("residual input", x), ("sublayer output", sublayer)):
            _matrix(v, name)
        if not (equal(x.shape[0], sublayer.shape[0]) and equal(x.shape[1], sublayer.shape[1])):
            raise MhasymError(
                f"residual needs equal shapes, got ({fmt(x.shape[0])}, {fmt(x.shape[1])}) and "
                f"({fmt(sublayer.shape[0])}, {fmt(sublayer.shape[1])})")
        return sp.Basic.__new__(cls, x, sublayer)

    shape = property(lambda self: self.args[0].shape)


class Let(Displayable, MatrixExpr):
    """A named intermediate result: ``Let(H, value)`` is ``value``, printed as ``H``.

    Layers are written as a sequence of such steps; the compiler evaluates each
    one once.
    """

    def __new__(cls, name, value):
        _matrix(value, "value")
        return sp.Basic.__new__(cls, name, value)

    name = property(lambda self: self.args[0])
    value = property(lambda self: self.args[1])
    shape = property(lambda self: self.args[1].shape)


class Aligned(Displayable, sp.Basic):
    """Relations shown one per line, aligned at their relation signs."""

    def __new__(cls, *relations):
        return sp.Basic.__new__(cls, *relations)


class BigO(Displayable, sp.Basic):
    """``O(f)``: the order of growth of a cost, written as in the paper's Table 1."""

    def __new__(cls, arg):
        return sp.Basic.__new__(cls, sp.sympify(arg))

    arg = property(lambda self: self.args[0])


def let_steps(expr) -> list:
    """The named steps (:class:`Let`) inside ``expr``, each once, inner steps first."""
    found = []

    def visit(e):
        for a in e.args:
            visit(a)
        if isinstance(e, Let) and e not in found:
            found.append(e)

    visit(expr)
    return found


class Stack(Displayable, MatrixExpr):
    """N layers applied one after the other, each with its own parameters:
    ``(Layer_N o ... o Layer_1)(X)``; ``extra`` arguments go to every layer (the encoder output H_enc
    of a decoder stack: ``Layer_k(., H_enc)``)."""

    def __new__(cls, name, count, X, *extra):
        _matrix(X, "stack input")
        return sp.Basic.__new__(cls, _str(name), sp.sympify(count), X, *extra)

    name = property(lambda self: self.args[0].name)
    count = property(lambda self: self.args[1])
    X = property(lambda self: self.args[2])
    extra = property(lambda self: self.args[3:])
    shape = property(lambda self: self.args[2].shape)

    def doit(self, **hints):
        """With a numeric count: the layers as nested calls, layer 1 innermost."""
        X = self.X.doit(**hints) if hints.get("deep", True) else self.X
        if not self.count.is_Integer:
            return self.func(self.args[0], self.count, X, *self.extra)
        out = X
        for _ in range(int(self.count)):
            out = Apply(self.args[0], *X.shape, out, *self.extra)
        return out


class MatSum(Displayable, MatrixExpr):
    """``sum_{index=lower}^{upper} term`` of matrices; ``doit`` with numeric bounds writes the terms out."""

    def __new__(cls, term, index, lower, upper):
        _matrix(term, "summed term")
        return sp.Basic.__new__(cls, term, index, sp.sympify(lower), sp.sympify(upper))

    shape = property(lambda self: self.args[0].shape)

    def doit(self, **hints):
        """With numeric bounds: the sum of the terms."""
        term, index, lower, upper = self.args
        if not (lower.is_Integer and upper.is_Integer):
            return self
        from sympy.matrices.expressions import MatAdd

        return MatAdd(*(term.xreplace({index: sp.Integer(k)}) for k in range(int(lower), int(upper) + 1))).doit(**hints)


# Scalar forms kept as written. SymPy would reorder ``x - mu`` into ``-mu + x`` and turn
# ``(1/d) sum`` into ``sum / d``; these keep the textbook order and still evaluate to numbers.

from sympy.printing.precedence import PRECEDENCE  # noqa: E402


class _Written(sp.Function):
    """A scalar operation printed in the order given; ``doit`` and ``evalf`` give its value."""

    @classmethod
    def eval(cls, *args):
        return None  # never rewritten

    def value(self):
        raise NotImplementedError

    def doit(self, **hints):
        args = [a.doit(**hints) if isinstance(a, sp.Basic) else a for a in self.args]
        return self.func(*args)

    def _eval_evalf(self, prec):
        return self.value().evalf(prec)


class Frac(_Written):
    """``\\frac{a}{b}``."""

    nargs = 2
    precedence = PRECEDENCE["Mul"]

    def value(self):
        return self.args[0] / self.args[1]


class Minus(_Written):
    """``a - b``."""

    nargs = 2
    precedence = PRECEDENCE["Add"]

    def value(self):
        return self.args[0] - self.args[1]


class Plus(_Written):
    """``a + b + ...``."""

    precedence = PRECEDENCE["Add"]

    def value(self):
        return sp.Add(*self.args)


class Times(_Written):
    """``a b ...`` (a product written left to right)."""

    precedence = PRECEDENCE["Mul"]

    def value(self):
        return sp.Mul(*self.args)



def fixed(value, places: int = 3) -> sp.Float:
    """A number rounded to ``places`` decimals that prints with exactly that many: 0.14 as 0.140, 1 as 1.000,
    in the LaTeX, the words and the plain text (its precision is the count of its digits).

    >>> from mhasym.printing.latex import latex
    >>> latex(fixed(0.139999)), latex(fixed(1)), latex(fixed(-0.0104)), latex(fixed(12.3456, 2)), latex(fixed(-1e-9))
    ('0.140', '1.000', '-0.010', '12.35', '0')
    """
    text = f"{float(value):.{places}f}"
    if float(text) == 0:
        return sp.Integer(0)  # SymPy writes a zero Float as 0.0 whatever its precision
    digits = len(text.lstrip("-").replace(".", "").lstrip("0")) or 1
    return sp.Float(text, digits)

class Power(_Written):
    """``a^{b}`` kept as written (``10^{6}``, not 1000000)."""

    nargs = 2
    precedence = PRECEDENCE["Pow"]

    def value(self):
        return self.args[0] ** self.args[1]


class Neg(_Written):
    """``-a`` kept as written."""

    nargs = 1
    precedence = PRECEDENCE["Add"]

    def value(self):
        return -self.args[0]


class Scientific(_Written):
    """``m \\cdot 10^{k}``: a number in scientific notation, e.g. ``63.0 \\cdot 10^{6}``."""

    nargs = 2
    precedence = PRECEDENCE["Mul"]

    def value(self):
        return self.args[0] * sp.Integer(10) ** self.args[1]


class Minimum(_Written):
    """``\\min(a, b, ...)`` with its arguments in the order written."""

    precedence = PRECEDENCE["Atom"]

    def value(self):
        return sp.Min(*self.args)


class Expect(sp.Function):
    """``E[x]``, the expectation of a random quantity, kept unevaluated (computed by the derivations' prover)."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        return None


class Var(sp.Function):
    """``Var[x]``, the variance of a random quantity, kept unevaluated."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        return None


class Cases(sp.Piecewise):
    """A piecewise definition kept as written: ``j \\le i`` stays ``j \\le i`` when the tree is rebuilt."""

    def __new__(cls, *args, **options):
        options["evaluate"] = False
        return super().__new__(cls, *args, **options)


class Call(Displayable, sp.Basic):
    """A named scalar function applied to arguments, e.g. ``PE(pos, 2i)``."""

    def __new__(cls, name, *args):
        return sp.Basic.__new__(cls, _str(name), *(sp.sympify(a) for a in args))

    name = property(lambda self: self.args[0].name)
    operands = property(lambda self: self.args[1:])


class PosEnc(sp.Function):
    """``PE(pos, c)``: one entry of the positional encoding, as a scalar that can sit in a matrix."""

    nargs = 2

    @classmethod
    def eval(cls, pos, column):
        return None


class Sub(Displayable, sp.Basic):
    """``base_{index}``: an entry of a named result, e.g. ``LayerNorm(x)_j``."""

    def __new__(cls, base, index):
        return sp.Basic.__new__(cls, base, sp.sympify(index))


def value_of(expr):
    """``expr`` with every written-order form (Frac, Minus, Plus, Times) replaced by its value."""
    expr = sp.sympify(expr).replace(lambda e: isinstance(e, _Written), lambda e: e.value())
    return expr.replace(lambda e: isinstance(e, Cases), lambda e: sp.Piecewise(*e.args))
