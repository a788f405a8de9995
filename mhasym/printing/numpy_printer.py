"""Compile symbolic matrix expressions into NumPy functions.

A subclass of SymPy's NumPyPrinter writes each expression as one NumPy
expression, keeping the order of products as written (``(X W^Q) (X W^K)^T``,
not SymPy's canonical ``X W^Q W^K^T X^T``); the source is then turned into a
Python function whose arguments are the given symbols.

>>> import numpy as np
>>> from mhasym.model.notation import matrix
>>> from mhasym.model.expressions import Softmax
>>> A = matrix("A", 2, 3)
>>> f = compile_function([A], Softmax(A))
>>> f(np.zeros((2, 3))).round(3).tolist()
[[0.333, 0.333, 0.333], [0.333, 0.333, 0.333]]
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions import MatrixExpr, MatrixSymbol
from sympy.printing.numpy import NumPyPrinter

from mhasym.errors import MhasymError
from mhasym.model.expressions import LayerNorm, _Written


def softmax(x, axis=1):
    """Softmax along ``axis`` (1: each row), shifted by the maximum for stability."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class MatrixCodePrinter(NumPyPrinter):
    """NumPy source for the package's matrix expressions; arguments print as their given names."""

    def __init__(self, names: dict, settings=None, functions=()):
        super().__init__(settings or {})
        self._names = names
        self._functions = set(functions)

    def _print(self, expr, **kwargs):
        name = self._names.get(expr)
        if name is not None:
            return name
        if isinstance(expr, _Written):
            # Frac, Minus, Plus, Times, Power, Minimum: the numbers do not depend on the written order
            # (SymPy's printer dispatch skips the base class of Function subclasses, so it is done here)
            return f"({super()._print(expr.value(), **kwargs)})"
        return super()._print(expr, **kwargs)

    def _print_MatMul(self, expr):
        scalars = [a for a in expr.args if not isinstance(a, (MatrixExpr, sp.MatrixBase))]
        mats = [a for a in expr.args if isinstance(a, (MatrixExpr, sp.MatrixBase))]
        out = " @ ".join(self._print(m) for m in mats)
        if scalars:
            out = " * ".join(self._print(s) for s in scalars) + " * " + f"({out})"
        return f"({out})"

    def _print_MatAdd(self, expr):
        return "(" + " + ".join(self._print(a) for a in expr.args) + ")"

    def _print_HadamardProduct(self, expr):
        return "(" + " * ".join(self._print(a) for a in expr.args) + ")"

    def _print_Transpose(self, expr):
        return f"({self._print(expr.arg)}).T"

    def _print_Softmax(self, expr):
        return f"_softmax({self._print(expr.arg)}, {expr.axis})"

    def _print_Scaled(self, expr):
        return f"({self._print(expr.numerator)} / {self._print(expr.denominator)})"

    def _print_Concat(self, expr):
        parts = ", ".join(self._print(b) for b in expr.blocks)
        return f"numpy.concatenate([{parts}], axis=1)"

    def _print_VStack(self, expr):
        parts = ", ".join(self._print(b) for b in expr.blocks)
        return f"numpy.concatenate([{parts}], axis=0)"

    def _print_MatMinus(self, expr):
        return f"({self._print(expr.args[0])} - {self._print(expr.args[1])})"

    def _print_RowSum(self, expr):
        return f"({self._print(expr.arg)}).sum(axis=1, keepdims=True)"

    def _print_OneMatrix(self, expr):
        rows, cols = (self._print(s) for s in expr.shape)
        return f"numpy.ones(({rows}, {cols}))"

    def _print_Tuple(self, expr):
        return "(" + "".join(self._print(a) + ", " for a in expr.args) + ")"

    def _print_SplitHeads(self, expr):
        P, h, i = self._print(expr.P), self._print(expr.heads), self._print(expr.i)
        if expr.transpose:
            return f"({P}).reshape(({P}).shape[0], {h}, -1).transpose(1, 0, 2)[{i} - 1]"
        return f"({P}).reshape({h}, ({P}).shape[0], -1)[{i} - 1]"

    def _print_Cases(self, expr):
        return self._print_Piecewise(expr)

    def _print_RowVector(self, expr):
        return self._print(expr.vector)

    def _print_ReLU(self, expr):
        return f"numpy.maximum(0.0, {self._print(expr.arg)})"

    def _print_LayerNorm(self, expr):
        x, eps = self._print(expr.X), self._print(expr.eps)
        gamma, beta = self._print(expr.gamma), self._print(expr.beta)
        ddof = 1 if expr.unbiased else 0
        centred = f"({x} - {x}.mean(axis=1, keepdims=True))"
        if expr.eps_inside:
            scale = f"numpy.sqrt({x}.var(axis=1, ddof={ddof}, keepdims=True) + {eps})"
        else:
            scale = f"(numpy.sqrt({x}.var(axis=1, ddof={ddof}, keepdims=True)) + {eps})"
        return f"({gamma} * {centred} / {scale} + {beta})"

    def _print_Residual(self, expr):
        return f"({self._print(expr.args[0])} + {self._print(expr.args[1])})"

    def _print_Let(self, expr):
        return self._print(expr.value)

    def _print_Elided(self, expr):
        raise MhasymError("an elided concatenation (h heads shown as ...) has no numeric value")

    def _print_Apply(self, expr):
        if expr.name in self._functions:
            return f"_function_{expr.name}(" + ", ".join(self._print(a) for a in expr.operands) + ")"
        raise MhasymError(f"{expr.name}(...) is a named call; compile its expanded definition")

    def _print_MatrixSymbol(self, expr):
        raise MhasymError(f"matrix {expr.name} is not an argument of the compiled function")

    _print_NamedMatrix = _print_MatrixSymbol


def _shared(expr, args) -> list:
    """Matrix subexpressions used more than once, children before parents.

    Each becomes a local variable, so a layer that uses ``H`` in its residual
    and in its sublayer computes ``H`` once.
    """
    counts, order, atoms = {}, [], set(args)

    def visit(e):
        if e in atoms or not isinstance(e, MatrixExpr) or isinstance(e, MatrixSymbol):
            return
        counts[e] = counts.get(e, 0) + 1
        if counts[e] > 1:
            return
        for a in e.args:
            visit(a)
        if isinstance(e, LayerNorm):  # its input is read twice (mean and variance)
            visit(e.X)
        order.append(e)

    for top in (expr.args if isinstance(expr, sp.Tuple) else (expr,)):
        visit(top)
    return [e for e in order if counts[e] > 1 and e != expr]


def source(args, expr, name: str = "compiled", functions=(), steps=()) -> str:
    """The Python source of the function that evaluates ``expr`` at ``args``, after the named
    ``steps`` ((symbol, value) pairs, each computed once, in order)."""
    names = {a: f"a{k}" for k, a in enumerate(args)}
    signature = ", ".join(names.values())
    printer = MatrixCodePrinter(names, functions=functions)
    lines, count = [], 0

    def assign(value):
        nonlocal count
        for shared in _shared(value, list(names)):
            lines.append(f"    t{count} = {printer.doprint(shared)}")
            names[shared] = f"t{count}"
            count += 1
        return printer.doprint(value)

    for k, (symbol, value) in enumerate(steps):
        lines.append(f"    s{k} = {assign(value)}")
        names[symbol] = f"s{k}"
    lines.append(f"    return {assign(expr)}")
    return f"def {name}({signature}):\n" + "\n".join(lines) + "\n"


def compile_function(args, expr, name: str = "compiled", functions=None, steps=()):
    """A NumPy function of ``args`` (symbols or matrix symbols) that evaluates ``expr``.

    ``functions`` maps names of calls (``Apply``) to NumPy functions that compute them."""
    functions = dict(functions or {})
    text = source(args, expr, name, functions, steps)
    namespace = {"numpy": np, "_softmax": softmax, **{f"_function_{k}": v for k, v in functions.items()}}
    # The source is generated by the printer above from SymPy objects, never from user text.
    exec(compile(text, f"<mhasym.printing.numpy_printer {name}>", "exec"), namespace)  # noqa: S102
    function = namespace[name]
    function.source = text
    return function
