"""The wrong versions from :mod:`mhasym.mistakes`, as catalog entries for the "Common mistakes" page.

Each entry's formula is the wrong one; its check passes when the checks catch the mistake
(a shape error while the expression is built, numbers that differ from the reference, or an
input the reference refuses).
"""

from __future__ import annotations

from ..catalog import Text, register
from ..checks import CheckResult
from ..mistakes import MISTAKES, detect


def _entry(mistake):
    def check(f):
        caught = detect(mistake)
        how = caught.detail or f"differs from the reference by more than {caught.tolerance:g}"
        return CheckResult(f.id, "caught", f"the wrong version is caught by a {caught.kind} check", not caught.passed,
                           caught.sizes, caught.seed, caught.max_error, caught.tolerance, how)

    register(
        f"mistake.{mistake.id}", "mistakes", mistake.title,
        Text(f"Wrong. The right formula is {mistake.right}.", f"错误写法。正确的公式是 {mistake.right}。"),
        mistake.wrong, check,
    )


for _m in MISTAKES.values():
    _entry(_m)
