"""The formula catalog: every formula that the site and the lecture notes show.

Each :class:`Formula` has an id, an English and a Chinese title and
description, its SymPy object (``.expr``, a relation whose left-hand side
names what is defined), its LaTeX (``.latex``, printed from ``.expr``) and a
check (``.check()``) that compares it with numbers or proves it.

>>> f = formula("seed.head_1")
>>> f.title.en, f.title["zh"]
('Output of head 1', '头1的输出')
>>> f.latex
'Z_{1} = \\\\begin{pmatrix} z_{11} & z_{12} & z_{13} \\\\\\\\ z_{14} & z_{15} & z_{16} \\\\end{pmatrix}'
>>> formula("seed.head_9")
Traceback (most recent call last):
...
mhasym.errors.MhasymError: unknown formula id 'seed.head_9' (did you mean 'seed.head_i'?)
"""

from __future__ import annotations

import difflib
import sys
import importlib
from functools import cached_property
from typing import Callable

from mhasym.catalog.text import LANGUAGES, MARKER, Text, plain_symbol  # noqa: F401 (re-exported)
from mhasym.errors import MhasymError


# Sections in the order a learner reads them; the site and the notes follow it.
SECTIONS = {
    "attention": ("Scaled dot-product attention", "缩放点积注意力"),
    "multihead": ("Multi-head attention", "多头注意力"),
    "masks": ("Masks and cross-attention", "掩码与交叉注意力"),
    "transformer": ("The Transformer", "Transformer 整体结构"),
    "cost": ("Parameters and cost", "参数量与计算量"),
    "mistakes": ("Common mistakes", "常见错误"),
}

# Modules that define entries, imported on first use so that ``import mhasym`` stays fast.
_ENTRY_MODULES = (
    "mhasym.catalog.entries.notebook_example",
    "mhasym.catalog.entries.scaled_dot_product",
    "mhasym.catalog.entries.multi_head",
    "mhasym.catalog.entries.masking",
    "mhasym.catalog.entries.layers",
    "mhasym.catalog.entries.identities",
    "mhasym.catalog.entries.training",
    "mhasym.catalog.entries.parameter_counts",
    "mhasym.catalog.entries.wrong_versions",
)






class Formula:
    """One catalog entry. ``.expr`` and ``.latex`` are built on first use."""

    def __init__(self, id: str, section: str, title: Text, description: Text,
                 build: Callable, check: Callable, right: str | None = None):
        if section not in SECTIONS:
            raise MhasymError(f"formula {id!r}: unknown section {section!r}")
        self.id = id
        self.section = section
        self.title = title
        self.description = description
        self._build = build
        self._check = check
        self._right = right
        self.module = None  # the entries module that registered it (set by register)
        self._speech = {}

    @cached_property
    def expr(self):
        """The SymPy object: a relation (usually ``lhs = rhs``)."""
        return self._build()

    @cached_property
    def latex(self) -> str:
        """The whole display formula, left-hand side included, from the package's printer."""
        from mhasym.printing.latex import latex

        return latex(self.expr)

    def speech(self, lang: str = "en") -> str:
        """The formula said in words in ``lang`` (``en`` or ``zh``): what a screen reader says for it on the site.

        >>> formula("attention.sdpa").speech()
        'Attention of Q, K, V equals softmax of Q K transpose over the square root of d k, times V'
        """
        from mhasym.printing.speech import speech

        if lang not in LANGUAGES:
            raise MhasymError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        if lang not in self._speech:
            self._speech[lang] = speech(self.expr, lang)
        return self._speech[lang]

    def latex_with(self, **settings) -> str:
        """The formula's LaTeX with printer settings, e.g. ``notation_macros=True`` for exports."""
        from mhasym.printing.latex import latex

        return latex(self.expr, **settings) if settings else self.latex

    @property
    def right(self):
        """For a mistake: the catalog entry of its right formula; None for other entries."""
        return formula(self._right) if self._right else None

    def check(self, expr=None, *, sizes=None):
        """Run the check on ``expr`` (a relation of the same form; ``f.expr`` by default).

        The check reads the object it is given: ``f.check(expr=wrong)`` runs the wrong version
        through the same comparison, and fails. ``sizes`` replaces the check's sizes where the
        check compares numbers. Returns a :class:`~mhasym.catalog.checks.CheckResult`.
        """
        from mhasym.catalog.checks import defines_other, failed

        expr = self.expr if expr is None else expr
        try:
            result = defines_other(self.id, self.expr, expr) or self._check(self, expr, sizes)
        except Exception as exc:  # a version that breaks the check's own code fails, in one line
            result = failed(self.id, "numeric", "the formula", sizes or {}, exc)
        if result.id != self.id:
            raise MhasymError(f"check of {self.id} reported for {result.id}")
        return result

    def _repr_latex_(self) -> str:
        from mhasym.printing.display import shown

        return shown(self.latex, self.speech)

    def __repr__(self) -> str:
        return f"<Formula {self.id}: {self.title.en}>"


_REGISTRY: dict = {}


def register(id: str, section: str, title: Text, description: Text, build, check, right=None) -> Formula:
    """Add an entry; ids are unique. ``check(f, expr, sizes)`` checks ``expr`` as a version of ``f``."""
    entry = Formula(id, section, title, description, build, check, right)
    entry.module = sys._getframe(1).f_globals.get("__name__")
    return add(_REGISTRY, id, entry, "formula")


def _load() -> dict:
    for module in _ENTRY_MODULES:
        importlib.import_module(module)
    return _REGISTRY


def add(table: dict, id: str, item, what: str):
    """``table[id] = item``; an id given twice raises a one-line :class:`MhasymError`."""
    if id in table:
        raise MhasymError(f"{what} id {id!r} is registered twice")
    table[id] = item
    return item


def lookup(table: dict, id, what: str):
    """``table[id]``; an unknown id raises a one-line :class:`MhasymError` naming the closest known id."""
    if not isinstance(id, str) or id not in table:
        close = difflib.get_close_matches(str(id), list(table), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise MhasymError(f"unknown {what} id {id!r}{hint}")
    return table[id]


def formula(id: str) -> Formula:
    """The catalog entry ``id``; an unknown id raises a one-line :class:`MhasymError`."""
    return lookup(_load(), id, "formula")


def formulas(section: str | None = None) -> list:
    """All entries in reading order (optionally one section's)."""
    entries = list(_load().values())
    if section is not None:
        if section not in SECTIONS:
            raise MhasymError(f"unknown section {section!r}; known: {', '.join(SECTIONS)}")
        entries = [f for f in entries if f.section == section]
    sections, modules, ids = list(SECTIONS), list(_ENTRY_MODULES), list(_REGISTRY)
    # Reading order: section, then the module that defines the entry, then definition order;
    # it does not depend on which module happened to be imported first.
    return sorted(entries, key=lambda f: (sections.index(f.section), modules.index(f.module), ids.index(f.id)))


_EXPRESSIONS: dict = {}
_EXPRESSION_MODULES = ("mhasym.catalog.entries.derivations",)


def expression(name: str, build) -> None:
    """Name an expression that prose shows as math, ``[[expr:NAME]]`` (built by ``build()`` on first use): a
    formula that belongs in a sentence, such as one entry of a gradient, but is not a catalog entry."""
    add(_EXPRESSIONS, name, [build, None], "expression")


def _expression(name: str):
    for module in _EXPRESSION_MODULES:
        importlib.import_module(module)
    found = lookup(_EXPRESSIONS, name, "expression")
    if found[1] is None:
        found[1] = found[0]()
    return found[1]


def marker(name: str):
    """What a text marker ``[[name]]`` stands for: a formula of the catalog (by id), a named expression
    (``expr:NAME``) or a symbol of :func:`mhasym.model.notation.symbol`."""
    from mhasym.model import notation

    if name in _load():
        return formula(name)
    if name.startswith("expr:"):
        return _expression(name[len("expr:"):])
    try:
        return notation.symbol(name)
    except MhasymError:
        raise MhasymError(f"unknown formula id or symbol {name!r}") from None


def inline(name: str) -> str:
    r"""LaTeX for an inline mention on a page: a formula id, or a symbol of :mod:`mhasym.model.notation`
    (``d_k``, ``W_O``, ``W_Q:i`` for head i's W^Q, ``softmax``), printed by the package's printer.

    >>> inline("d_model"), inline("W_Q:i"), inline("W_O"), inline("sqrt:d_k")
    ('d_{\\text{model}}', 'W_{i}^{Q}', 'W^{O}', '\\sqrt{d_k}')
    """
    from mhasym.printing.latex import latex

    found = marker(name)
    return found.latex if isinstance(found, Formula) else latex(found)




def inline_speech(name: str, lang: str) -> str:
    """What a screen reader says for an inline mention (:func:`inline`), in ``lang``.

    >>> inline_speech("W_Q:i", "en"), inline_speech("sqrt:d_k", "zh")
    ('W Q i', '根号 d k')
    """
    from mhasym.printing.speech import speech

    found = marker(name)
    return found.speech(lang) if isinstance(found, Formula) else speech(found, lang)


def _shape(shape):
    """A shape from :data:`mhasym.model.notation.GLOSSARY` (sizes by name, numbers, or tuples of names
    multiplied) as the object that both its LaTeX and its words are printed from."""
    import sympy as sp

    from mhasym.model.expressions import Dims

    def size(s):
        if isinstance(s, tuple):
            return sp.Mul(*(size(x) for x in s), evaluate=False)
        return marker(s) if isinstance(s, str) else s

    return Dims(*(size(s) for s in shape))


def shape_speech(shape, lang: str) -> str:
    """A shape of :data:`mhasym.model.notation.GLOSSARY` said in words: "n by d k" or "n 行 d k 列"."""
    from mhasym.printing.speech import speech

    return speech(_shape(shape), lang)


def shape_tex(shape) -> str:
    """LaTeX of a shape from :data:`mhasym.model.notation.GLOSSARY`, e.g. ``(("h", "d_v"), "d_model")`` gives
    ``h d_v \\times d_{\\text{model}}``."""
    from mhasym.printing.latex import latex

    return latex(_shape(shape))
