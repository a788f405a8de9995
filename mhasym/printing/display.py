"""Jupyter display: objects of this package show as math through its printer.

When the site builds a notebook, the environment variable ``MHASYM_SPEECH_LOG`` names a file; each object
shown then also writes its TeX and its words in both languages there (one JSON line), so the site can give
the notebook's math the same spoken form as the catalog's.
"""

import json
import os

SPEECH_LOG = "MHASYM_SPEECH_LOG"


def shown(tex: str, speech) -> str:
    """``$\\displaystyle tex$`` for Jupyter; ``speech(lang)`` gives the words, logged while the site builds."""
    log = os.environ.get(SPEECH_LOG)
    if log and os.path.isdir(os.path.dirname(log)):
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps({"tex": tex, "en": speech("en"), "zh": speech("zh")}, ensure_ascii=False) + "\n")
    return "$\\displaystyle " + tex + "$"


def _expression(expr) -> str:
    """Any expression for Jupyter through the package's printers, its words logged as :func:`shown` does."""
    from mhasym.printing.latex import latex
    from mhasym.printing.speech import speech

    return shown(latex(expr), lambda lang: speech(expr, lang))


class Displayable:
    """Mixin giving ``_repr_latex_`` through :func:`mhasym.printing.latex.latex`."""

    def _repr_latex_(self):
        return _expression(self)


class show:
    """Any SymPy expression displayed in Jupyter through mhasym's printers (a product that SymPy built, such
    as one head, would otherwise show with SymPy's own LaTeX): ``mhasym.show(expr)``."""

    def __init__(self, expr):
        self.expr = expr

    def _repr_latex_(self):
        return _expression(self.expr)

    def __repr__(self):
        from mhasym.printing.plain import plain

        return plain(self.expr)
