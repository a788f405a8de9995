"""Formulas said in words, in English or Chinese: a SymPy printer beside the LaTeX one.

The site puts a formula's spoken form in its ``aria-label``, so a screen reader says
"softmax of Q K transpose over the square root of d k, times V" instead of reading TeX.
It is printed from the same objects as the LaTeX, so the two cannot drift apart.

>>> from mhasym.model.notation import matrix, dim
>>> from mhasym.model.expressions import Softmax, Scaled
>>> import sympy as sp
>>> Q, K = matrix("Q", dim("n"), dim("d_k")), matrix("K", dim("m"), dim("d_k"))
>>> V = matrix("V", dim("m"), dim("d_v"))
>>> A = Softmax(Scaled(Q * K.T, sp.sqrt(dim("d_k")))) * V
>>> speech(A)
'softmax of Q K transpose over the square root of d k, times V'
>>> speech(A, lang="zh")
'Q 乘 K 的转置除以根号 d k 的 softmax，再乘 V'

Conventions: a subscript or superscript is said after its base without a word (``W^Q_i`` is "W Q i",
``d_k`` is "d k"); a sum or difference inside a product, a power or a transpose is put between "open
paren" and "close paren" (左括号, 右括号); an operation on one argument is "f of x" in English and
"x 的 f" in Chinese, as a learner says it. Names of functions (softmax, LayerNorm) stay as written.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, MatrixSymbol, Transpose
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.printing.printer import Printer

from mhasym.errors import MhasymError
from mhasym.model import notation

# The words of both languages, by what they say.
WORDS = {
    "en": {
        "equals": "equals", "in": "is in", "approx": "is approximately", "equiv": "is identically equal to",
        "transpose": "{x} transpose", "transpose_of": "the transpose of {x}",
        "over": "{a} over {b}", "fraction": "the fraction with numerator {a} and denominator {b}", "sqrt": "the square root of {x}", "one_over_sqrt": "1 over the square root of {x}",
        "squared": "{x} squared", "cubed": "{x} cubed", "power": "{x} to the power {p}", "inverse": "1 over {x}",
        "times_simple": " ", "times": ", times ", "mul": " times ", "plus": " plus ", "minus": " minus ",
        "neg": "minus {x}", "paren": "open paren {x} close paren",
        "call": "{f} of {x}", "list": ", ", "last": ", ", "through": "{a} through {b}", "etc": "and so on",
        "softmax_col": "column softmax of {x}",
        "matrix": "the matrix with rows {rows}, end matrix", "row_sep": "; ", "cell_sep": ", ",
        "stacked": "the blocks {x} stacked one above the other",
        "hadamard": "the elementwise product of {x}", "and": " and ",
        "rowsum": "rowsum of {x}", "ones_col": "the column of ones", "ones_row": "the row of ones",
        "expect": "the expectation of {x}", "var": "the variance of {x}",
        "partial": "partial {f} over partial {x}",
        "relu": "the elementwise maximum of 0 and {x}", "min": "the minimum of {x}",
        "space": "the space of real {x} matrices", "dims": "{a} by {b}", "by": " by ",
        "shape": "shape of {x}", "group": "; ",
        "big_o": "big O of {x}",
        "case": "{v} if {c}", "otherwise": "{v} otherwise", "case_sep": "; ",
        "le": "{a} is at most {b}", "lt": "{a} is less than {b}", "ge": "{a} is at least {b}",
        "gt": "{a} is greater than {b}", "eq": "{a} equals {b}", "ne": "{a} is not equal to {b}",
        "sum": "the sum over {i} from {a} to {b} of {x}", "range": "{i} from {a} to {b}",
        "stack": "{layer} 1 through {layer} {n} applied one after the other to {x}",
        "stack_extra": "{layer} 1 through {layer} {n}, each also given {extra}, applied one after the other to {x}",
        "entry_of": "{x}, entry {i}", "element_of": "{x}, entry {i} {j}", "indexed": "{x} with index {i}",
        "split": "{name} {i} of {x}",
        "exp": "e to the power {x}", "sin": "sine of {x}", "cos": "cosine of {x}", "log": "log of {x}",
        "infinity": "infinity", "neg_infinity": "minus infinity",
        "scientific": "{a} times 10 to the power {p}",
        "grad": "d {x}", "kronecker": "Kronecker delta {x}", "det": "the determinant of {x}",
    },
    "zh": {
        "equals": "等于", "in": "属于", "approx": "约等于", "equiv": "恒等于",
        "transpose": "{x} 的转置", "transpose_of": "{x} 的转置",
        "over": "{a} 除以 {b}", "fraction": "分子为 {a}、分母为 {b} 的分数", "sqrt": "根号 {x}", "one_over_sqrt": "1 除以根号 {x}",
        "squared": "{x} 的平方", "cubed": "{x} 的立方", "power": "{x} 的 {p} 次方", "inverse": "1 除以 {x}",
        "times_simple": " 乘 ", "times": "，再乘 ", "mul": " 乘 ", "plus": " 加 ", "minus": " 减 ",
        "neg": "负 {x}", "paren": "左括号 {x} 右括号",
        "call": "{x} 的 {f}", "list": "、", "last": "、", "through": "{a} 到 {b}", "etc": "等等",
        "softmax_col": "{x} 的按列 softmax",
        "matrix": "矩阵，各行为 {rows}，矩阵结束", "row_sep": "；", "cell_sep": "，",
        "stacked": "上下堆叠的分块 {x}",
        "hadamard": "{x} 的逐元素乘积", "and": " 与 ",
        "rowsum": "{x} 的行和", "ones_col": "全 1 列向量", "ones_row": "全 1 行向量",
        "expect": "{x} 的期望", "var": "{x} 的方差",
        "partial": "{f} 对 {x} 的偏导数",
        "relu": "0 与 {x} 的逐元素最大值", "min": "{x} 中的较小值",
        "space": "{x}的实矩阵的集合", "dims": "{a} 行 {b} 列", "by": " 乘 ",
        "shape": "{x} 的形状", "group": "；",
        "big_o": "大 O {x}",
        "case": "{v}，当 {c} 时", "otherwise": "{v}，其他情况", "case_sep": "；",
        "le": "{a} 小于等于 {b}", "lt": "{a} 小于 {b}", "ge": "{a} 大于等于 {b}",
        "gt": "{a} 大于 {b}", "eq": "{a} 等于 {b}", "ne": "{a} 不等于 {b}",
        "sum": "对 {i} 从 {a} 到 {b} 求和 {x}", "range": "{i} 从 {a} 到 {b}",
        "stack": "{layer} 1 到 {layer} {n} 依次作用于 {x}",
        "stack_extra": "{layer} 1 到 {layer} {n} 依次作用于 {x}，每层还读取 {extra}",
        "entry_of": "{x} 的第 {i} 个分量", "element_of": "{x} 的第 {i} 行第 {j} 列元素", "indexed": "{x} 下标 {i}",
        "split": "{x} 的 {name} {i}",
        "exp": "e 的 {x} 次方", "sin": "{x} 的正弦", "cos": "{x} 的余弦", "log": "{x} 的对数",
        "infinity": "无穷大", "neg_infinity": "负无穷大",
        "scientific": "{a} 乘 10 的 {p} 次方",
        "grad": "d {x}", "kronecker": "克罗内克 delta {x}", "det": "{x} 的行列式",
    },
}

_CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"


def tidy(text: str, lang: str) -> str:
    """One space between words; in Chinese none between two Chinese characters or around Chinese punctuation
    ("K 的 转置" is written "K 的转置")."""
    text = " ".join(text.split())
    if lang == "zh":
        text = re.sub(rf"(?<={_CJK}) (?={_CJK})", "", text)
        text = re.sub(r" ?([，；：、）（]) ?", r"\1", text)
    return text


class SpeechPrinter(Printer):
    """Words for the package's objects. Settings: ``lang`` (``en`` or ``zh``) and ``strict`` (an object this
    printer has no words for raises instead of being written in plain text; the tests use it)."""

    printmethod = "_speech"
    _default_settings = {"lang": "en", "strict": False}

    def __init__(self, settings=None):
        super().__init__(settings)
        if self._settings["lang"] not in WORDS:
            raise MhasymError(f"unknown language {self._settings['lang']!r}; known: {', '.join(WORDS)}")
        self.w = WORDS[self._settings["lang"]]

    def doprint(self, expr):
        return tidy(super().doprint(expr), self._settings["lang"])

    def emptyPrinter(self, expr):
        if self._settings["strict"]:
            raise MhasymError(f"no spoken form for {type(expr).__name__}: {expr}")
        from mhasym.printing.plain import plain

        return plain(expr)

    # Helpers

    def _say(self, key, **parts):
        return self.w[key].format(**parts)

    def _is_simple(self, expr) -> bool:
        """A name, a number or a name's transpose: said side by side with its neighbours in a product."""
        from mhasym.model.expressions import Grad

        if isinstance(expr, (Transpose, Grad)):
            return self._is_simple(expr.args[0])
        return isinstance(expr, (MatrixSymbol, sp.Symbol, sp.Number, sp.Indexed, MatrixElement))

    def _is_short(self, expr) -> bool:
        """Simple, a square root of something simple, or a product of such: the two sides of a fraction said
        "a over b"; anything longer is said "the fraction with numerator a and denominator b"."""
        from mhasym.model.expressions import Times

        if self._is_simple(expr):
            return True
        if isinstance(expr, sp.Pow) and expr.exp == sp.S.Half:
            return self._is_simple(expr.base)
        if isinstance(expr, sp.Mul) and (expr.could_extract_minus_sign() or sp.fraction(expr)[1] != 1):
            return False
        if isinstance(expr, (sp.Mul, MatMul, Times)):
            return all(self._is_short(a) for a in expr.args)
        return False

    def _over(self, a, b) -> str:
        if self._is_short(a) and self._is_short(b):
            return self._say("over", a=self._print(a), b=self._print(b))
        return self._say("fraction", a=self._print(a), b=self._print(b))

    def _grouped(self, expr) -> str:
        """``expr`` said as one unit: sums and differences between parens."""
        from mhasym.model.expressions import Minus, Plus, MatMinus, MatSum, Residual

        text = self._print(expr)
        compound = isinstance(expr, (sp.Add, MatAdd, Plus, Minus, MatMinus, MatSum, Residual, HadamardProduct))
        return self._say("paren", x=text) if compound else text

    def _terms(self, terms, signs=None) -> str:
        """A sum said term by term; a pause (a comma) after a term longer than a name or a product of names,
        or with a pause of its own, so that "a over b, plus c" is not heard as a over (b plus c)."""
        signs = signs or ["plus"] * len(terms)
        said = [self._print(terms[0])] + [self._grouped(t) if sg == "minus" else self._print(t)
                                          for t, sg in zip(terms[1:], signs[1:])]
        out = said[0]
        for before, text, term_said, sign in zip(terms, said, said[1:], signs[1:]):
            long = not self._is_short(before) or "," in text or "，" in text
            pause = ("，" if self._settings["lang"] == "zh" else ",") if long else ""
            out += pause + self.w[sign] + term_said
        return out

    def _list(self, items) -> str:
        from mhasym.model.expressions import Elided

        items = list(items)
        if len(items) == 3 and isinstance(items[1], Elided):
            return self._say("through", a=self._print(items[0]), b=self._print(items[2]))
        return self.w["list"].join(self._grouped(a) for a in items)

    def _call(self, name: str, args) -> str:
        return self._say("call", f=name, x=self._list(args))

    # Names

    def _print_Symbol(self, expr):
        return notation.symbol_speech(expr.name, self._settings["lang"])

    def _print_NamedMatrix(self, expr):
        base = notation.matrix_speech(expr.key, self._settings["lang"])
        return base if expr.index is None else f"{base} {self._print(expr.index)}"

    def _print_OperatorName(self, expr):
        return expr.name

    def _print_IndexedBase(self, expr):
        return self._print(expr.label)

    def _print_Str(self, expr):
        return expr.name

    def _print_Indexed(self, expr):
        base = self._print(expr.base.label)
        if all(self._is_simple(i) for i in expr.indices):
            return " ".join([base] + [self._print(i) for i in expr.indices])
        return self._say("indexed", x=base, i=self.w["list"].join(self._print(i) for i in expr.indices))

    def _print_MatrixElement(self, expr):
        if self._is_simple(expr.parent):  # Z_il, dZ_il
            return " ".join(self._print(a) for a in (expr.parent, expr.i, expr.j))
        return self._say("element_of", x=self._print(expr.parent), i=self._print(expr.i), j=self._print(expr.j))

    # Numbers

    def _print_Integer(self, expr):
        return self._say("neg", x=str(-expr)) if expr < 0 else str(expr)

    def _print_Rational(self, expr):
        if expr < 0:
            return self._say("neg", x=self._print(-expr))
        return self._say("over", a=str(expr.p), b=str(expr.q))

    def _print_Float(self, expr):
        from mhasym.printing.latex import written_float

        text = written_float(expr) or format(float(expr), ".6g")
        mantissa, _, power = text.partition("e")
        if power:
            return self._say("scientific", a=mantissa, p=self._print(sp.Integer(int(power))))
        return self._say("neg", x=text[1:]) if text.startswith("-") else text

    def _print_Infinity(self, expr):
        return self.w["infinity"]

    def _print_NegativeInfinity(self, expr):
        return self.w["neg_infinity"]

    # Scalar algebra

    def _print_Add(self, expr):
        terms = expr.as_ordered_terms()
        signs = ["plus"] + ["minus" if t.could_extract_minus_sign() else "plus" for t in terms[1:]]
        return self._terms([terms[0]] + [-t if sg == "minus" else t for t, sg in zip(terms[1:], signs[1:])], signs)

    def _print_Mul(self, expr):
        if expr.could_extract_minus_sign():
            return self._say("neg", x=self._print(-expr))
        num, den = sp.fraction(expr)
        if den != 1:
            return self._over(num, den)
        coeff, rest = expr.as_coeff_Mul()
        factors = sp.Mul.make_args(rest)
        # the order the LaTeX printer writes: sizes as a textbook does (h d_v), else SymPy's order
        factors = sorted(factors, key=notation.factor_rank) if all(f.is_Symbol for f in factors) \
            else rest.as_ordered_factors()
        parts = ([coeff] if coeff != 1 else []) + list(factors)
        return self._product(parts)

    def _product(self, parts, matrix=False) -> str:
        """Factors in order. English says simple factors side by side ("Q K transpose") and "times" otherwise;
        a number before a name is said side by side in both languages ("2 i"); after a call or a fraction in
        a matrix product the pause is ", times" (，再乘), as in "softmax of ..., times V"."""
        en = self._settings["lang"] == "en"
        out = self._grouped(parts[0])
        for before, f in zip(parts, parts[1:]):
            if isinstance(before, sp.Number) and self._is_simple(f) and not isinstance(f, sp.Number):
                joint = " "
            elif not self._is_simple(before) and matrix:
                joint = self.w["times"]
            elif en and self._is_simple(before) and self._is_simple(f):
                joint = " "
            else:
                joint = self.w["mul"]
            out += joint + self._grouped(f)
        return out

    def _print_Pow(self, expr):
        base, power = expr.base, expr.exp
        if base == sp.E:
            return self._say("exp", x=self._grouped(power))
        if power == sp.S.Half:
            return self._say("sqrt", x=self._grouped(base))
        if power == -sp.S.Half:
            return self._say("one_over_sqrt", x=self._grouped(base))
        if power == -1:
            return self._say("inverse", x=self._grouped(base))
        # a power of anything but a name is said with parens: (E[q])^2 is not E[q^2]
        b = self._print(base) if self._is_simple(base) else self._say("paren", x=self._print(base))
        if power == 2:
            return self._say("squared", x=b)
        if power == 3:
            return self._say("cubed", x=b)
        return self._say("power", x=b, p=self._print(power))

    def _print_exp(self, expr):
        return self._say("exp", x=self._grouped(expr.args[0]))

    def _print_sin(self, expr):
        return self._say("sin", x=self._grouped(expr.args[0]))

    def _print_cos(self, expr):
        return self._say("cos", x=self._grouped(expr.args[0]))

    def _print_log(self, expr):
        return self._say("log", x=self._grouped(expr.args[0]))

    def _print_AppliedUndef(self, expr):  # a function named in a formula, such as the entropy H(a)
        name = expr.func.__name__
        return self._call(notation.FUNCTION_SPOKEN.get(name, (name, name))[self._settings["lang"] != "en"], expr.args)

    def _relation(self, key, expr):
        return self._say(key, a=self._print(expr.lhs), b=self._print(expr.rhs))

    def _print_LessThan(self, expr):
        return self._relation("le", expr)

    def _print_StrictLessThan(self, expr):
        return self._relation("lt", expr)

    def _print_GreaterThan(self, expr):
        return self._relation("ge", expr)

    def _print_StrictGreaterThan(self, expr):
        return self._relation("gt", expr)

    def _print_Equality(self, expr):
        return self._relation("eq", expr)

    def _print_Unequality(self, expr):
        return self._relation("ne", expr)

    def _print_Not(self, expr):
        return self._print(expr.args[0].negated)

    def _print_KroneckerDelta(self, expr):
        return self._say("kronecker", x=" ".join(self._print(a) for a in expr.args))

    def _print_Determinant(self, expr):
        return self._say("det", x=self._print(expr.arg))

    def _print_Tuple(self, expr):
        return self._list(expr.args)

    def _print_Sum(self, expr):
        # a double sum is one sum over both ranges, the outer one said first
        (i, a, b), *inner = reversed(expr.limits)
        ranges = [self._say("range", i=self._print(v), a=self._print(lo), b=self._print(hi)) for v, lo, hi in inner]
        return self._say("sum", i=self._print(i), a=self._print(a), b=self._print(b) + "".join(
            self.w["list"] + r for r in ranges), x=self._grouped(expr.function))

    def _print_Piecewise(self, expr):
        rows = []
        for value, cond in expr.args:
            if cond == True and len(expr.args) == 2:  # noqa: E712 - the negation of the case before, as in the LaTeX
                rows.append(self._say("case", v=self._print(value), c=self._print(sp.Not(expr.args[0][1]))))
            elif cond == True:  # noqa: E712
                rows.append(self._say("otherwise", v=self._print(value)))
            else:
                rows.append(self._say("case", v=self._print(value), c=self._print(cond)))
        return self.w["case_sep"].join(rows)

    _print_Cases = _print_Piecewise

    # Matrix algebra

    def _print_Transpose(self, expr):
        if self._is_simple(expr.arg):
            return self._say("transpose", x=self._print(expr.arg))
        return self._say("transpose_of", x=self._say("paren", x=self._print(expr.arg)))

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        parts = [coeff] if coeff != 1 else []
        for f in factors:  # a product written inside a product is said as one run of factors
            parts.extend(f.args if isinstance(f, MatMul) else [f])
        return self._product(parts, matrix=True)

    def _print_MatAdd(self, expr):
        return self._terms(list(expr.args))

    def _print_HadamardProduct(self, expr):
        return self._say("hadamard", x=self.w["and"].join(self._grouped(a) for a in expr.args))

    def _print_MatrixBase(self, expr):
        rows = [self.w["cell_sep"].join(self._print(expr[r, c]) for c in range(expr.cols)) for r in range(expr.rows)]
        return self._say("matrix", rows=self.w["row_sep"].join(rows))

    _print_ImmutableDenseMatrix = _print_MatrixBase
    _print_MutableDenseMatrix = _print_MatrixBase

    # The package's own operations

    def _print_Softmax(self, expr):
        if expr.axis == 0:
            return self._say("softmax_col", x=self._print(expr.arg))
        return self._call("softmax", [expr.arg])

    def _print_Scaled(self, expr):
        return self._over(expr.numerator, expr.denominator)

    def _print_Elided(self, expr):
        return self.w["etc"]

    def _print_Concat(self, expr):
        from mhasym.model.expressions import Elided

        if not expr.is_explicit:
            return self._call("Concat", expr.blocks)
        rows = []
        for r in range(int(expr.shape[0])):
            cells = []
            for block in expr.blocks:
                if isinstance(block, Elided):
                    cells.append(self.w["etc"])
                else:
                    cells.extend(self._print(block[r, c]) for c in range(block.cols))
            rows.append(self.w["cell_sep"].join(cells))
        return self._say("matrix", rows=self.w["row_sep"].join(rows))

    def _print_VStack(self, expr):
        return self._say("stacked", x=self._list(expr.blocks))

    def _print_Grad(self, expr):
        return self._say("grad", x=self._print(expr.arg) if isinstance(expr.arg, MatrixSymbol)
                         else self._say("paren", x=self._print(expr.arg)))

    def _print_MatMinus(self, expr):
        a, b = expr.args
        return self._print(a) + self.w["minus"] + self._grouped(b)

    def _print_RowSum(self, expr):
        return self._say("rowsum", x=self._print(expr.arg))

    def _print_OneMatrix(self, expr):
        return self.w["ones_row" if expr.shape[0] == 1 else "ones_col"]

    def _print_Expect(self, expr):
        return self._say("expect", x=self._print(expr.args[0]))

    def _print_Var(self, expr):
        return self._say("var", x=self._print(expr.args[0]))

    def _print_Derivative(self, expr):
        (var, count), = expr.variable_count
        if count != 1:
            raise MhasymError(f"no spoken form for a derivative of order {count}")
        return self._say("partial", f=self._print(expr.expr), x=self._print(var))

    def _print_SplitHeads(self, expr):
        name = "split" if expr.transpose else "reshape"
        return self._say("split", name=name, i=self._print(expr.i), x=self._print(expr.P))

    def _print_RowVector(self, expr):
        return self._print(expr.vector)

    def _print_ReLU(self, expr):
        return self._say("relu", x=self._grouped(expr.arg))

    def _print_LayerNorm(self, expr):
        return self._call("LayerNorm", [expr.X])

    def _print_Residual(self, expr):
        return self._terms(list(expr.args))

    def _print_Let(self, expr):
        return self._print(expr.name)

    def _print_Apply(self, expr):
        return self._call(expr.name, expr.operands)

    def _print_Call(self, expr):
        return self._call(expr.name, expr.operands)

    def _print_PosEnc(self, expr):
        return self._call("PE", expr.args)

    def _print_Space(self, expr):
        return self._say("space", x=self._print_Dims(expr.shape))

    def _print_Dims(self, expr):
        sizes = expr if isinstance(expr, tuple) else expr.args
        if len(sizes) == 2:
            return self._say("dims", a=self._grouped(sizes[0]), b=self._grouped(sizes[1]))
        return self.w["by"].join(self._grouped(s) for s in sizes)

    _print_Shape = _print_Dims

    def _print_ShapeOf(self, expr):
        return self._say("shape", x=self._print(expr.arg))

    def _print_Group(self, expr):
        return self.w["group"].join(self._print(item) for item in expr.args)

    _print_Aligned = _print_Group

    def _print_BigO(self, expr):
        return self._say("big_o", x=self._print(expr.arg))

    def _print_Stack(self, expr):
        layer = expr.name
        n, x = self._print(expr.count), self._print(expr.X)
        if expr.extra:
            return self._say("stack_extra", layer=layer, n=n, x=x, extra=self._list(expr.extra))
        return self._say("stack", layer=layer, n=n, x=x)

    def _print_MatSum(self, expr):
        term, index, lower, upper = expr.args
        return self._say("sum", i=self._print(index), a=self._print(lower), b=self._print(upper), x=self._grouped(term))

    # Scalar forms kept in written order

    def _print_Frac(self, expr):
        return self._over(*expr.args)

    def _print_Minus(self, expr):
        a, b = expr.args
        return self._print(a) + self.w["minus"] + self._grouped(b)

    def _print_Plus(self, expr):
        return self._terms(list(expr.args))

    def _print_Times(self, expr):
        return self._product(list(expr.args))

    def _print_Power(self, expr):
        return self._print_Pow(sp.Pow(*expr.args, evaluate=False))

    def _print_Neg(self, expr):
        return self._say("neg", x=self._grouped(expr.args[0]))

    def _print_Scientific(self, expr):
        mantissa, power = (self._print(a) for a in expr.args)
        return self._say("scientific", a=mantissa, p=power)

    def _print_Minimum(self, expr):
        return self._say("min", x=self.w["and"].join(self._print(a) for a in expr.args))

    def _print_Sub(self, expr):
        base, index = expr.args
        return self._say("entry_of", x=self._print(base), i=self._print(index))

    def _print_Relation(self, expr):
        return f"{self._print(expr.lhs)} {self.w[expr.op if expr.op != '=' else 'equals']} {self._print(expr.rhs)}"


def speech(obj, lang: str = "en", **settings) -> str:
    """``obj`` said in words in ``lang`` (``en`` or ``zh``), through :class:`SpeechPrinter`."""
    return SpeechPrinter({"lang": lang, **settings}).doprint(obj)


__all__ = ["SpeechPrinter", "WORDS", "speech", "tidy"]
