"""Sizes and shapes: validation, symbolic comparison, and the limit on explicit expansion.

>>> size("rows", 100)
100
>>> size("heads", "h")
h
>>> size("heads", 0)
Traceback (most recent call last):
...
mhasym.errors.MhasymError: heads must be a positive integer, got 0
"""

from __future__ import annotations

import re

import sympy as sp

from mhasym.errors import MhasymError
from mhasym.model.notation import factor_rank

# Explicit matrices of entry symbols larger than this are refused at once.
EXPANSION_LIMIT = 10_000

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")


def size(what: str, value):
    """A positive integer size, or a SymPy symbol standing for one.

    Accepts ints, integer strings, SymPy integers and symbols, and plain
    identifier strings (``"h"``), which become positive integer symbols.
    Raw text is never evaluated.
    """
    if isinstance(value, bool):
        raise MhasymError(f"{what} must be a positive integer, got {value!r}")
    if isinstance(value, sp.Symbol):
        return value
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            value = int(text)
        elif _NAME.match(text):
            return sp.Symbol(text, positive=True, integer=True)
        else:
            raise MhasymError(f"{what} must be a positive integer or a symbol name, got {value!r}")
    if isinstance(value, sp.Basic):
        if value.is_Integer:
            value = int(value)
        elif value.is_positive and value.is_integer:
            return value
        else:
            raise MhasymError(f"{what} must be a positive integer, got {value}")
    if hasattr(value, "__index__"):
        value = int(value.__index__())
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        raise MhasymError(f"{what} must be a positive integer, got {value!r}")
    return value


def equal(a, b) -> bool:
    """True when two sizes are provably equal."""
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


def fmt(expr) -> str:
    """A size as plain text: ``24``, ``3h``, ``h*d_v``, ``n + 1``.

    >>> from mhasym.model.notation import dim
    >>> fmt(3 * dim("h")), fmt(dim("d_v") * dim("h")), fmt(2 * dim("h") * dim("d_v"))
    ('3h', 'h*d_v', '2*h*d_v')
    """
    expr = sp.sympify(expr)
    if expr.is_Mul:
        coeff, rest = expr.as_coeff_Mul()
        factors = [str(f) for f in sorted(sp.Mul.make_args(rest), key=factor_rank)]
        body = "*".join(factors)
        if coeff == 1:
            return body
        return f"{coeff}{body}" if len(factors) == 1 and factors[0].isidentifier() else f"{coeff}*{body}"
    return str(expr)


def fmt_shape(shape) -> str:
    """A shape as plain text: ``(100, 24)``, ``(2, 3h)``."""
    return "(" + ", ".join(fmt(s) for s in shape) + ")"


def require(what: str, unit: str, need_value, got_value, need_name: str | None = None) -> None:
    """Raise ``"{what} needs {need_name} = {need_value} {unit}, got {got_value}"`` unless equal.

    >>> require("W^O", "rows", 24, 20, "h*d_v")
    Traceback (most recent call last):
    ...
    mhasym.errors.MhasymError: W^O needs h*d_v = 24 rows, got 20
    """
    if equal(need_value, got_value):
        return
    need = fmt(need_value)
    if need_name and need_name != need:
        need = f"{need_name} = {need}" if sp.sympify(need_value).is_Integer else need_name
    raise MhasymError(f"{what} needs {need} {unit}, got {fmt(got_value)}")


def check_expansion(what: str, count) -> None:
    """Refuse to build more than :data:`EXPANSION_LIMIT` explicit entries."""
    count = sp.sympify(count)
    if not count.is_Integer:
        raise MhasymError(f"{what}: explicit entries need numeric sizes, got {fmt(count)} entries")
    if int(count) > EXPANSION_LIMIT:
        raise MhasymError(
            f"{what}: {int(count)} entries exceeds the explicit expansion limit of {EXPANSION_LIMIT};"
            " use symbolic shapes (concat_shape) instead"
        )
