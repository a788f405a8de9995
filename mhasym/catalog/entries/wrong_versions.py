"""The wrong versions from :mod:`mhasym.catalog.mistakes`, as catalog entries for the "Common mistakes" page.

Each entry's formula is the wrong one. Its check runs that formula through the check of its right
formula (``f.right.check(expr=f.expr, ...)``) at sizes where it is well-typed, and passes when that
check fails with numbers compared: the mistake is caught. Given its right formula instead, the
entry's check fails, so it cannot pass whatever it is given.
"""

from __future__ import annotations

from mhasym.catalog.registry import register
from mhasym.catalog.text import Text
from mhasym.catalog.checks import CheckResult
from mhasym.catalog.mistakes import MISTAKES, caught


def _entry(mistake):
    def check(f, expr, sizes=None):
        result = f.right.check(expr=expr, sizes=sizes or mistake.sizes or None)
        if result.passed:
            how = "the right formula's check passes on it: not caught"
        elif result.refused:
            how = f"refused, not compared: {result.detail}"
        else:
            how = result.detail or f"differs from the reference by more than {result.tolerance:g}"
        return CheckResult(f.id, "caught", f"the wrong version, run through the check of {mistake.right}: "
                           f"{result.compared}", caught(mistake, result), result.sizes, result.seed,
                           result.max_error, result.tolerance, how)

    def description():
        from mhasym.catalog.registry import formula

        right = formula(mistake.right).title
        if mistake.kind == "convention":
            source = mistake.differs_from
            # a space between Chinese and a name in Latin letters, none between Chinese characters
            before = " " if source.zh[:1].isascii() else ""
            after = " " if source.zh[-1:].isascii() else ""
            lead = Text(f"Differs from {source.en}. ", f"与{before}{source.zh}{after}不同的约定。")
            tail = Text(f" The formula it differs from: “{right.en}”.", f"对照的公式见“{right.zh}”。")
        else:
            lead = Text("Wrong. ", "错误写法。")
            tail = Text(f" The right formula: “{right.en}”.", f"正确的公式见“{right.zh}”。")
        return Text(lead.en + mistake.why.en + " " + mistake.seen.en + tail.en,
                    lead.zh + mistake.why.zh + mistake.seen.zh + tail.zh)

    register(f"mistake.{mistake.id}", "mistakes", mistake.title, _Lazy(description), mistake.wrong, check,
             right=mistake.right)


class _Lazy(Text):
    """A text made on first use (it names another entry's title)."""

    def __init__(self, make):
        object.__setattr__(self, "_make", make)

    def __getattr__(self, name):
        if name in ("en", "zh"):
            return getattr(self._make(), name)
        raise AttributeError(name)


for _m in MISTAKES.values():
    _entry(_m)
