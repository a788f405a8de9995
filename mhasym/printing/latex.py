"""Textbook LaTeX for the package's objects: a subclass of SymPy's LatexPrinter.

It keeps the order a lecturer writes (``\\frac{Q K^{\\top}}{\\sqrt{d_k}}``, not
SymPy's ``\\frac{1}{\\sqrt{d_k}} Q K^{T}``), writes named functions upright, and
takes symbol names from :mod:`mhasym.model.notation`.

>>> from mhasym.model.notation import matrix, dim
>>> from mhasym.model.expressions import Softmax, Scaled
>>> import sympy as sp
>>> Q, K = matrix("Q", dim("n"), dim("d_k")), matrix("K", dim("m"), dim("d_k"))
>>> latex(Softmax(Scaled(Q * K.T, sp.sqrt(dim("d_k")))))
'\\\\operatorname{softmax}\\\\left(\\\\frac{Q K^{\\\\top}}{\\\\sqrt{d_k}}\\\\right)'
>>> latex(K.T, transpose="T")
'K^{T}'
"""

from __future__ import annotations

from sympy.matrices.expressions import HadamardProduct, MatAdd, MatrixSymbol
from sympy import Mul
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from mhasym.model import notation
from mhasym.model.expressions import Concat, Elided, Group, MatMinus, MatSum


def written_float(expr) -> str | None:
    """A Float of at most 6 significant digits is a number as written (:func:`mhasym.model.expressions.fixed`):
    its text keeps every digit, trailing zeros too (0.140, 1.000). None for other Floats."""
    from mpmath.libmp import prec_to_dps, to_str

    dps = prec_to_dps(expr._prec)
    if dps > 6 or not expr.is_finite:
        return None
    return to_str(expr._mpf_, dps, strip_zeros=False, min_fixed=-10, max_fixed=10)


class MhaLatexPrinter(LatexPrinter):
    """LaTeX printer for multi-head attention formulas.

    Settings (besides SymPy's): ``transpose`` (the transpose sign, ``\\top``),
    ``matrix_env`` (``pmatrix``), ``row_dots`` (``\\cdots``, for elided columns
    of an explicit matrix), ``list_dots`` (``\\ldots``, in argument lists) and
    ``notation_macros`` (write ``\\mhT`` and ``\\mhmatrix{...}`` from
    ``mhasym-notation.sty`` instead, for exported snippets).
    """

    printmethod = "_latex"

    _default_settings = {
        **LatexPrinter._default_settings,
        "transpose": r"\top",
        "matrix_env": "pmatrix",
        "row_dots": r"\cdots",
        "list_dots": r"\ldots",
        "notation_macros": False,
    }

    # Symbols and matrices

    def _print_Float(self, expr):
        return written_float(expr) or super()._print_Float(expr)

    def _print_Symbol(self, expr, style="plain"):
        tex = notation.symbol_latex(expr.name)
        return tex if tex is not None else super()._print_Symbol(expr, style)

    def _print_Mul(self, expr):
        # Products of sizes in the order a textbook writes them: h d_v, not d_v h.
        coeff, rest = expr.as_coeff_Mul()
        factors = Mul.make_args(rest)
        if coeff.is_Integer and coeff > 0 and all(f.is_Symbol for f in factors):
            ordered = sorted(factors, key=notation.factor_rank)
            return " ".join(([str(coeff)] if coeff != 1 else []) + [self._print(f) for f in ordered])
        return super()._print_Mul(expr)

    def _matrix_body(self, rows) -> str:
        env = self._settings["matrix_env"]
        body = r" \\ ".join(" & ".join(cells) for cells in rows)
        if self._settings["notation_macros"]:
            return rf"\mhmatrix{{{body}}}"
        return rf"\begin{{{env}}} {body} \end{{{env}}}"

    def _print_MatrixBase(self, expr):
        rows = [[self._print(expr[r, c]) for c in range(expr.cols)] for r in range(expr.rows)]
        return self._matrix_body(rows)

    _print_ImmutableDenseMatrix = _print_MatrixBase
    _print_MutableDenseMatrix = _print_MatrixBase

    def _print_Transpose(self, expr):
        arg = expr.arg
        base = self._print(arg)
        simple = isinstance(arg, MatrixSymbol) and "^" not in base
        if not simple:
            base = rf"\left({base}\right)"
        sign = r"\mhT" if self._settings["notation_macros"] else self._settings["transpose"]
        return f"{base}^{{{sign}}}"

    def _print_MatMul(self, expr):
        parts = []
        for arg in expr.args:
            tex = self._print(arg)
            if isinstance(arg, (MatAdd, HadamardProduct, MatSum)):
                tex = rf"\left({tex}\right)"
            parts.append(tex)
        return " ".join(parts)

    def _print_MatrixElement(self, expr):
        parts = [self._print(i) for i in (expr.i, expr.j)]
        return self._print(expr.parent) + notation.subscript(parts)

    def _print_Indexed(self, expr):
        parts = [self._print(i) for i in expr.indices]
        return self._print(expr.base.label) + notation.subscript(parts)

    def _print_MatAdd(self, expr):
        return " + ".join(self._print(a) for a in expr.args)

    # The package's own operations

    def _call(self, name: str, args, sub: str = "") -> str:
        inner = ", ".join(args)
        sub = f"_{{{sub}}}" if sub else ""
        return rf"{notation.operator_latex(name)}{sub}\left({inner}\right)"

    def _print_Softmax(self, expr):
        # axis 0 normalises each column: the wrong axis, shown on the mistakes page.
        sub = r"\text{col}" if expr.axis == 0 else ""
        return self._call("softmax", [self._print(expr.arg)], sub)

    def _print_Scaled(self, expr):
        return rf"\frac{{{self._print(expr.numerator)}}}{{{self._print(expr.denominator)}}}"

    def _print_Elided(self, expr):
        return self._settings["list_dots"]

    def _print_Concat(self, expr: Concat):
        if not expr.is_explicit:
            return self._call("Concat", [self._print(b) for b in expr.blocks])
        rows = []
        for r in range(int(expr.shape[0])):
            cells = []
            for block in expr.blocks:
                if isinstance(block, Elided):
                    cells.append(self._settings["row_dots"])
                else:
                    cells.extend(self._print(block[r, c]) for c in range(block.cols))
            rows.append(cells)
        return self._matrix_body(rows)

    def _print_VStack(self, expr):
        cells = [r"\vdots" if isinstance(b, Elided) else self._print(b) for b in expr.blocks]
        return self._matrix_body([[c] for c in cells])

    def _print_Grad(self, expr):
        arg = self._print(expr.arg)
        if not isinstance(expr.arg, MatrixSymbol):
            arg = rf"\left({arg}\right)"
        return rf"\mathrm{{d}}{arg}"

    def _print_MatMinus(self, expr):
        a, b = expr.args
        right = self._print(b)
        if isinstance(b, (MatAdd, type(expr))):
            right = rf"\left({right}\right)"
        return f"{self._print(a)} - {right}"

    def _print_RowSum(self, expr):
        return self._call("rowsum", [self._print(expr.arg)])

    def _print_OneMatrix(self, expr):
        # a row of ones is the transpose of the column 1
        sign = r"\mhT" if self._settings["notation_macros"] else self._settings["transpose"]
        return r"\mathbf{1}" + (f"^{{{sign}}}" if expr.shape[0] == 1 else "")

    def _print_Expect(self, expr, exp=None):
        return self._power(rf"\mathbb{{E}}\left[{self._print(expr.args[0])}\right]", exp)

    def _print_Var(self, expr, exp=None):
        return self._power(rf"\operatorname{{Var}}\left[{self._print(expr.args[0])}\right]", exp)

    def _print_Derivative(self, expr):
        if len(expr.variables) == 1 and len(expr.variable_count) == 1 and expr.variable_count[0][1] == 1:
            top, var = self._print(expr.expr), self._print(expr.variables[0])
            return rf"\frac{{\partial {top}}}{{\partial {var}}}"
        return super()._print_Derivative(expr)

    def _print_SplitHeads(self, expr):
        # Correct: the i-th block of columns. Wrong: the i-th slab of a reshape without transpose.
        name = "split" if expr.transpose else "reshape"
        return self._call(name, [self._print(expr.P)], self._print(expr.i))

    def _print_RowVector(self, expr):
        return self._print(expr.vector)

    def _print_ReLU(self, expr):
        return rf"\max\left(0, {self._print(expr.arg)}\right)"

    def _print_LayerNorm(self, expr):
        return self._call("LayerNorm", [self._print(expr.X)])

    def _print_Residual(self, expr):
        return " + ".join(self._print(a) for a in expr.args)

    def _print_Let(self, expr):
        return self._print(expr.name)

    def _print_Apply(self, expr):
        return self._call(expr.name, [self._print(a) for a in expr.operands])

    def _print_Space(self, expr):
        rows, cols = (self._print(s) for s in expr.shape)
        return rf"\mathbb{{R}}^{{{rows} \times {cols}}}"

    def _print_Dims(self, expr):
        return r" \times ".join(self._print(s) for s in expr.args)

    def _print_Shape(self, expr):
        return "(" + ", ".join(self._print(s) for s in expr.args) + ")"

    def _print_ShapeOf(self, expr):
        return self._call("shape", [self._print(expr.arg)])

    def _print_Group(self, expr):
        return r",\quad ".join(self._print(item) for item in expr.args)

    def _print_Aligned(self, expr):
        rows = []
        for rel in expr.args:
            rest = ""
            if isinstance(rel, Group):  # several relations on one line, aligned at the first one's sign
                rel, rest = rel.args[0], "".join(r",\quad " + self._print(item) for item in rel.args[1:])
            rows.append(f"{self._print(rel.lhs)} &{rel.OPS[rel.op]} {self._print(rel.rhs)}{rest}")
        return r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}"

    def _print_BigO(self, expr):
        return rf"O\left({self._print(expr.arg)}\right)"

    def _print_Piecewise(self, expr):
        # Conditions as math, in no language: "otherwise" is written as the negation of the one condition
        # before it (j > i after j <= i), so the formula reads the same on the English and Chinese pages.
        rows = []
        for k, (value, cond) in enumerate(expr.args):
            if cond == True and len(expr.args) == 2:  # noqa: E712
                from sympy import Not

                when = self._print(Not(expr.args[0][1]))
            elif cond == True:  # noqa: E712
                when = r"\text{otherwise}"
            else:
                when = self._print(cond)
            rows.append(f"{self._print(value)} & {when}")
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"

    _print_Cases = _print_Piecewise

    def _print_Stack(self, expr):
        op = notation.operator_latex(expr.name)
        extra = "".join(", " + self._print(a) for a in expr.extra)
        last, first = (rf"{op}_{{{k}}}" + (rf"\left(\cdot{extra}\right)" if extra else "")
                       for k in (self._print(expr.count), "1"))
        return rf"\left({last} \circ \cdots \circ {first}\right)\left({self._print(expr.X)}\right)"

    def _print_Sum(self, expr):
        # a double sum as two sums, the outer one first (SymPy's own printer stacks the ranges under one sign)
        if len(expr.limits) == 1:
            return super()._print_Sum(expr)
        signs = "".join(rf"\sum_{{{self._print(i)}={self._print(a)}}}^{{{self._print(b)}}} "
                        for i, a, b in reversed(expr.limits))
        return signs + self.parenthesize(expr.function, PRECEDENCE["Mul"], strict=True)

    def _print_MatSum(self, expr):
        term, index, lower, upper = (self._print(a) for a in expr.args)
        if isinstance(expr.args[0], (MatAdd, MatMinus)):
            term = rf"\left({term}\right)"
        return rf"\sum_{{{index}={lower}}}^{{{upper}}} {term}"

    def _print_HadamardProduct(self, expr):
        parts = []
        for a in expr.args:
            tex = self._print(a)
            parts.append(rf"\left({tex}\right)" if isinstance(a, (MatAdd, MatMinus)) else tex)
        return r" \odot ".join(parts)  # ⊙: the elementwise product (∘ is composition, as in the encoder stack)

    # Scalar forms kept in written order. SymPy's _print_Pow passes ``exp`` for function-like bases.

    @staticmethod
    def _power(text: str, exp) -> str:
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def _print_Frac(self, expr, exp=None):
        num, den = (self._print(a) for a in expr.args)
        return self._power(rf"\frac{{{num}}}{{{den}}}", exp)

    def _print_Minus(self, expr, exp=None):
        a, b = expr.args
        return self._power(f"{self._print(a)} - {self.parenthesize(b, PRECEDENCE['Add'], strict=True)}", exp)

    def _print_Plus(self, expr, exp=None):
        return self._power(" + ".join(self._print(a) for a in expr.args), exp)

    def _print_Times(self, expr, exp=None):
        # a centred dot between two factors written as words (\mathit{step} \cdot \mathit{warmup}), which side by
        # side would read as one word
        parts = [self.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in expr.args]
        out = parts[0]
        for left, right in zip(parts, parts[1:]):
            words = left.startswith(r"\mathit") and right.startswith(r"\mathit")
            out += (r" \cdot " if words else " ") + right
        return self._power(out, exp)

    def _print_Power(self, expr, exp=None):
        base, power = expr.args
        return self._power(f"{self.parenthesize(base, PRECEDENCE['Pow'], strict=True)}^{{{self._print(power)}}}", exp)

    def _print_Neg(self, expr, exp=None):
        return self._power(f"- {self.parenthesize(expr.args[0], PRECEDENCE['Mul'], strict=True)}", exp)

    def _print_Scientific(self, expr, exp=None):
        mantissa, power = (self._print(a) for a in expr.args)
        return self._power(rf"{mantissa} \cdot 10^{{{power}}}", exp)

    def _print_Minimum(self, expr, exp=None):
        return self._power(r"\min\left(" + ", ".join(self._print(a) for a in expr.args) + r"\right)", exp)

    def _print_Sub(self, expr):
        base, index = expr.args
        return f"{self._print(base)}_{{{self._print(index)}}}"

    def _print_PosEnc(self, expr, exp=None):
        return self._power(self._call("PE", [self._print(a) for a in expr.args]), exp)

    def _print_Call(self, expr):
        return self._call(expr.name, [self._print(a) for a in expr.operands])

    def _print_Relation(self, expr):
        op = expr.OPS[expr.op]
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"


def latex(obj, **settings) -> str:
    """LaTeX of ``obj`` through :class:`MhaLatexPrinter` (settings as keyword arguments)."""
    return MhaLatexPrinter(settings).doprint(obj)


__all__ = ["MhaLatexPrinter", "latex"]
