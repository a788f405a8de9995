"""The site as a course: page order, learning goals and key points on every page, exercises with answers
computed and checked by mhasym, one bilingual glossary the pages follow, and the two languages in step."""

import re
from pathlib import Path

import pytest

from mhasym.catalog import registry as catalog
from mhasym.catalog.exercise import exercise, exercises
from mhasym.catalog.terms import TERMS, words_of

DOCS = Path(__file__).resolve().parents[1] / "docs"
COURSE = ["attention", "multihead", "masks", "transformer", "cost", "derivations", "mistakes"]
FENCED = re.compile(r"```(formula|derivation|exercise)\n(.*?)```", re.S)


def page(name, lang):
    return (DOCS / (f"{name}.md" if lang == "en" else f"{name}.zh.md")).read_text(encoding="utf-8")


def test_pages_come_in_the_order_that_defines_before_use():
    nav = (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    positions = [nav.index(f"  - {name}.md") for name in COURSE]
    assert positions == sorted(positions)
    assert list(catalog.SECTIONS)[:2] == ["attention", "multihead"]


@pytest.mark.parametrize("name", COURSE)
@pytest.mark.parametrize("lang,goal,before,remember", [
    ("en", '!!! abstract "On this page"', "**Before this page:**", "## What to remember"),
    ("zh", '!!! abstract "本页内容"', "**预备知识**：", "## 要点"),
])
def test_each_page_opens_with_goals_and_ends_with_what_to_remember(name, lang, goal, before, remember):
    text = page(name, lang)
    lines = text.splitlines()
    assert lines[2] == goal and before in text[:800], name
    last = text.rindex("\n## ")
    assert text[last + 1:].startswith(remember), name
    assert text[last:].count("\n- ") >= 3


def test_at_least_twenty_exercises_three_on_every_page():
    assert len(exercises()) >= 20
    for name in COURSE:
        assert len(exercises(name)) >= 3, name


@pytest.mark.parametrize("ex", exercises(), ids=lambda e: e.id)
def test_every_answer_is_computed_and_checked_by_another_route(ex):
    result = ex.check()
    assert result.passed, result.summary()
    for lang in ("en", "zh"):
        assert ex.question[lang] and ex.answer(ex.value).text[lang]


def test_an_answer_that_its_check_contradicts_fails():
    ex = exercise("ex.multihead.concat_shape")
    assert not ex.verify((100, 23))[0]
    assert not exercise("ex.cost.base_parameters").verify(63045633)[0]


@pytest.mark.parametrize("name", COURSE)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_shows_its_own_exercises(name, lang):
    shown = [i for kind, ids in FENCED.findall(page(name, lang)) if kind == "exercise" for i in ids.split()]
    assert shown == [e.id for e in exercises(name)]


@pytest.mark.parametrize("name", COURSE + ["index", "notation", "glossary", "lecturers", "api"])
def test_both_languages_have_the_same_sections_and_the_same_formulas(name):
    en, zh = page(name, "en"), page(name, "zh")
    levels = [[len(m) for m in re.findall(r"^(#+) ", text, re.M)] for text in (en, zh)]
    assert levels[0] == levels[1], name
    markers = [FENCED.findall(text) for text in (en, zh)]
    assert markers[0] == markers[1], name


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.en)
def test_each_glossary_term_is_on_its_first_page_in_both_languages(term):
    for lang in ("en", "zh"):
        text = page(term.page, lang).lower()
        assert any(w.lower() in text for w in words_of(term, lang)), (term.en, lang)


def test_no_chinese_page_uses_a_spelling_that_the_glossary_rules_out():
    for path in DOCS.glob("*.zh.md"):
        text = path.read_text(encoding="utf-8")
        for term in TERMS:
            for wrong in term.avoid:
                assert wrong not in text, (path.name, wrong)


def test_the_glossary_page_lists_every_term_and_the_references():
    for lang in ("en", "zh"):
        text = page("glossary", lang)
        assert "```glossary" in text
        for link in ("arxiv.org/abs/1706.03762", "arxiv.org/abs/1607.06450", "arxiv.org/abs/2002.04745",
                     "annotated-transformer", "d2l.ai"):
            assert link in text, (lang, link)


def test_the_home_page_says_who_what_and_where_before_the_checks_table():
    for lang, words in (("en", ("## Who it is for", "## What you will be able to do", "## Where to start")),
                        ("zh", ("## 本站面向谁", "## 学完之后你能做什么", "## 从哪里开始"))):
        text = page("index", lang)
        positions = [text.index(w) for w in words] + [text.index("```checks")]
        assert positions == sorted(positions), lang


def test_chinese_pages_do_not_repeat_the_seeds_slips():
    text = page("transformer", "zh")
    for slip in ("被武装", "残差链接", "All you need is Attention", "普通的多头注意力机制层"):
        assert slip not in text
    assert "交叉注意力" in text and "《Attention Is All You Need》" in text
    assert "## 1." not in page("multihead", "zh") and "教师专用" not in page("lecturers", "zh")
