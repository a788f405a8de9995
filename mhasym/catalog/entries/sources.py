"""Where the entries' formulas come from, said the same way in every entry."""

from __future__ import annotations

from mhasym.catalog.text import Text

PAPER = Text("Following “Attention Is All You Need” (Vaswani et al., 2017).",
             "依据论文《Attention Is All You Need》（Vaswani 等，2017）。")

NOTEBOOK_AND_PAPER = Text(
    "The lecture notebook describes this in words; the formula follows “Attention Is All You Need”.",
    "课程笔记只用文字描述了这一部分；公式依据论文《Attention Is All You Need》。")


def cite(en, zh, source=None):
    """A text with its source appended in each language."""
    return Text(en + (" " + source.en if source else ""), zh + (source.zh if source else ""))
