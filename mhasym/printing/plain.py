"""Plain text for the package's objects: a subclass of SymPy's StrPrinter, for the command line, search
text, titles and error messages.

>>> from mhasym.model.notation import symbol
>>> plain(symbol("W_Q:i")), plain(symbol("sqrt:d_k")), plain(symbol("d_model:sq")), plain(symbol("memory"))
('W^Q_i', 'sqrt(d_k)', 'd_model^2', 'H_enc')
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.str import StrPrinter

from mhasym.model import notation


class PlainPrinter(StrPrinter):
    """Names as a reader writes them in plain text: ``W^Q_2``, ``sqrt(d_k)``, ``n^2``, ``K^T``."""

    printmethod = "_plain"  # not SymPy's _sympystr, which writes an indexed entry a_i as a[i]

    def _print_NamedMatrix(self, expr):
        base = notation.MATRIX_PLAIN.get(expr.key, expr.key)
        return base if expr.index is None else f"{base}_{self._print(expr.index)}"

    def _print_Float(self, expr):
        from mhasym.printing.latex import written_float

        return written_float(expr) or super()._print_Float(expr)

    def _print_Symbol(self, expr):
        return notation.SCALAR_PLAIN.get(expr.name, super()._print_Symbol(expr))

    def _print_OperatorName(self, expr):
        return expr.name

    def _print_Pow(self, expr, rational=False):
        if expr.exp == sp.S.Half:
            return f"sqrt({self._print(expr.base)})"
        base = self.parenthesize(expr.base, 100)
        return f"{base}^{self._print(expr.exp)}"

    def _print_Transpose(self, expr):
        return f"{self.parenthesize(expr.arg, 100)}^T"

    def _print_MatMul(self, expr):
        return " ".join(self.parenthesize(a, 50) for a in expr.args)

    def _print_Softmax(self, expr):
        return f"softmax({self._print(expr.arg)})"

    def _print_Grad(self, expr):
        return "d" + self.parenthesize(expr.arg, 100)

    def _print_MatMinus(self, expr):
        return f"{self._print(expr.args[0])} - {self.parenthesize(expr.args[1], 45)}"

    def _print_RowSum(self, expr):
        return f"rowsum({self._print(expr.arg)})"

    def _print_OneMatrix(self, expr):
        return "1^T" if expr.shape[0] == 1 else "1"

    def _print_HadamardProduct(self, expr):
        return " ⊙ ".join(self.parenthesize(a, 50) for a in expr.args)

    def _print_Relation(self, expr):
        op = {"=": "=", "in": "in", "approx": "≈", "equiv": "≡"}[expr.op]
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_Scaled(self, expr):
        return f"{self.parenthesize(expr.numerator, 50)} / {self.parenthesize(expr.denominator, 50)}"

    def _print_Frac(self, expr):
        return "/".join(self.parenthesize(a, 50) for a in expr.args)

    def _print_Times(self, expr):
        return " ".join(self.parenthesize(a, 50) for a in expr.args)

    def _print_Minus(self, expr):
        return f"{self._print(expr.args[0])} - {self.parenthesize(expr.args[1], 45)}"

    def _print_Plus(self, expr):
        return " + ".join(self._print(a) for a in expr.args)

    def _print_Derivative(self, expr):
        (var, _), = expr.variable_count
        return f"d{self._print(expr.expr)}/d{self._print(var)}"

    def _print_Indexed(self, expr):
        return self._print(expr.base.label) + "_" + "".join(self._print(i) for i in expr.indices)

    def _print_MatrixElement(self, expr):
        return self.parenthesize(expr.parent, 100) + "_" + "".join(self._print(i) for i in (expr.i, expr.j))

    def _print_Sum(self, expr):
        ranges = ",".join(f"{self._print(i)}={self._print(a)}..{self._print(b)}" for i, a, b in reversed(expr.limits))
        return f"sum_{ranges} {self.parenthesize(expr.function, 50)}"

    def _print_exp(self, expr):
        return f"e^({self._print(expr.args[0])})"

    def _print_KroneckerDelta(self, expr):
        return "δ_" + "".join(self._print(a) for a in expr.args)

    def _print_Power(self, expr):
        base, power = expr.args
        return f"{self.parenthesize(base, 100)}^{self.parenthesize(power, 100) if power.is_negative else self._print(power)}"

    def _print_Neg(self, expr):
        return f"-{self.parenthesize(expr.args[0], 50)}"

    def _print_SplitHeads(self, expr):
        return f"{'split' if expr.transpose else 'reshape'}_{self._print(expr.i)}({self._print(expr.P)})"

    def _print_Apply(self, expr):
        return f"{expr.name}(" + ", ".join(self._print(a) for a in expr.operands) + ")"


def plain(obj) -> str:
    """Plain text of ``obj`` through :class:`PlainPrinter`."""
    return PlainPrinter().doprint(obj)
