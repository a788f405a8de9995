"""The formula catalog: entries with ids, bilingual texts and checks; how checks run formulas; mutants.

``registry`` holds the entries (``formula(id)``, ``formulas()``), ``text`` the bilingual texts,
``checks`` what a check compares and reports, ``evaluate`` how a formula is run as a program,
``mutants`` the wrong versions that every check must reject, ``mistakes`` the wrong versions that
tutorials publish, and ``entries/`` the entries themselves, one module per topic.
"""

from mhasym.catalog.registry import SECTIONS, Formula, formula, formulas, inline, register, shape_tex
from mhasym.catalog.text import LANGUAGES, Text

__all__ = ["LANGUAGES", "SECTIONS", "Formula", "Text", "formula", "formulas", "inline", "register", "shape_tex"]
