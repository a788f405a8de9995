"""The built site: every formula rendered by KaTeX with its check mark, both languages, offline, searchable."""

import json
import re

import pytest

import mhasym
from site_support import pages

pytestmark = [pytest.mark.site, pytest.mark.slow]

RAW_TEX = re.compile(r"\\\[|\\\(|\$\$|\\begin\{|\\frac\{|\\operatorname")


def soup(site, page):
    from bs4 import BeautifulSoup  # the docs extras; this module's tests are marked site

    return BeautifulSoup((site / page / "index.html").read_text(encoding="utf-8"), "html.parser")


def visible_text(doc):
    """Article text outside code, KaTeX's MathML annotation and scripts."""
    article = doc.select_one("article") or doc
    for el in article.select("code, pre, annotation, script, style, .katex-mathml"):
        el.decompose()
    return article.get_text(" ")


def test_both_languages_have_every_page(built_site):
    all_pages = pages(built_site)
    english = [p for p in all_pages if not p.startswith("zh/")]
    for page in english:
        assert "zh/" + page in all_pages, page
    for page in ("multihead/", "notebooks/using_mhasym/", "notebooks/attention_numbers/", "api/"):
        assert page in all_pages


def test_every_formula_is_rendered_checked_and_copyable(built_site):
    count = 0
    for page in pages(built_site):
        doc = soup(built_site, page)
        for block in doc.select(".mhasym-formula"):
            fid = block["data-formula-id"]
            f = mhasym.formula(fid)
            assert block.select_one(".mhasym-display .katex"), (page, fid)
            assert not block.select(".katex-error")
            summary = block.select_one("details.mhasym-check summary").get_text()
            if f.section != "mistakes":
                assert "✓" in summary
            else:  # an error is marked ✗, another convention ≠ (not an error), never both
                from mhasym.catalog.mistakes import MISTAKES

                convention = MISTAKES[fid.removeprefix("mistake.")].kind == "convention"
                assert ("≠" if convention else "✗") in summary and ("✗" if convention else "≠") not in summary, fid
            assert block.select_one(".mhasym-copy")["data-tex"] == f.latex
            # a screen reader says the formula's words in the page's language, never its TeX
            lang = "zh" if page.startswith("zh/") else "en"
            assert block.select_one(".mhasym-display .mhasym-math")["aria-label"] == f.speech(lang)
            count += 1
    assert count >= 2 * len(mhasym.formulas())


@pytest.mark.parametrize("lang,prefix,proven", [("en", "", "✓ proven"), ("zh", "zh/", "✓ 已证明")])
def test_every_derivation_step_is_rendered_with_its_proof_mark(built_site, lang, prefix, proven):
    doc = soup(built_site, prefix + "derivations/")
    for d in mhasym.derivations():
        block = doc.select_one(f'[data-derivation-id="{d.id}"]')
        steps = block.select("li.mhasym-step")
        assert len(steps) == len(d.steps), d.id
        for step in steps:
            assert step.select_one(".katex") and not step.select(".katex-error")
            assert step.select_one("details.mhasym-check summary").get_text().startswith(proven)
        assert block.select_one(".mhasym-copy")["data-tex"] == d.aligned()


def test_check_marks_state_what_was_compared(built_site):
    doc = soup(built_site, "multihead/")
    text = doc.select_one('[data-formula-id="mha.multihead"] details.mhasym-check').get_text()
    assert "reference.multi_head_attention" in text and "seed" in text and "max error" in text
    zh = soup(built_site, "zh/multihead/").select_one('[data-formula-id="seed.concat_2"] details').get_text()
    assert "已验证" in zh and "数值比对" in zh


@pytest.mark.parametrize("page", ["", "multihead/", "transformer/", "mistakes/", "notebooks/using_mhasym/",
                                  "zh/multihead/", "zh/notebooks/attention_numbers/"])
def test_no_raw_tex_in_visible_text(built_site, page):
    text = visible_text(soup(built_site, page))
    assert not RAW_TEX.search(text), RAW_TEX.search(text).group(0)


TEX_SIGNS = re.compile(r"[\\{}^_$]")


def test_every_formula_reaches_assistive_technology_as_words_and_mathml(built_site):
    """On every page, each piece of math has its spoken form as aria-label (no TeX), KaTeX's MathML beside the
    drawing, and no TeX copy inside the MathML."""
    count = 0
    for page in pages(built_site):
        doc = soup(built_site, page)
        for el in doc.select(".katex"):
            holder = el.find_parent(attrs={"role": "math"})
            assert holder is not None, (page, str(el)[:80])
            said = holder.get("aria-label", "")
            assert said and not TEX_SIGNS.search(said), (page, said)
            assert el.select_one(".katex-mathml math"), (page, said)
            count += 1
        assert not doc.select("annotation"), page
    assert count > 1000


@pytest.mark.parametrize("page", ["mistakes/", "zh/multihead/", "derivations/"])
def test_later_sections_hold_their_math_for_later(built_site, page):
    """After the first section, each formula's KaTeX output (drawing and MathML) waits in a <noscript> for the
    reader to scroll near it (with JavaScript the browser keeps it as text; without, it shows it); its words are
    on the page from the start."""
    doc = soup(built_site, page)
    sections = [s for s in doc.select(".mhasym-section") if s.select_one(".mhasym-section") is None]
    assert len(sections) >= 3
    assert sections[0].select(".katex-html") and not sections[0].select("noscript.mhasym-held")
    holders = doc.select("noscript.mhasym-held")
    assert len(holders) > 10
    for holder in holders:
        math = holder.find_parent(attrs={"role": "math"})
        assert "mhasym-deferred" in math["class"] and math["aria-label"]
        assert holder.select_one(".katex > .katex-mathml math") and holder.select_one(".katex > .katex-html")


def test_notebook_math_is_said_in_the_page_language(built_site):
    en = soup(built_site, "notebooks/using_mhasym/").select("[role=math]")
    zh = soup(built_site, "zh/notebooks/using_mhasym/").select("[role=math]")
    assert en and len(en) == len(zh)
    assert en[0]["aria-label"] == mhasym.formula("cost.attention_params").speech("en")
    assert zh[0]["aria-label"] == mhasym.formula("cost.attention_params").speech("zh")


def test_notebooks_are_rendered_pages_with_math(built_site):
    for page in ("notebooks/using_mhasym/", "zh/notebooks/using_mhasym/"):
        doc = soup(built_site, page)
        assert doc.select(".jp-Cell") and doc.select(".jp-RenderedLatex .katex")
        assert not doc.find("script", attrs={"type": "text/x-mathjax-config"})


def test_nothing_is_loaded_from_outside(built_site):
    for path in built_site.rglob("*.html"):
        from bs4 import BeautifulSoup

        doc = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for el in doc.find_all(["img", "script", "link", "iframe", "source"]):
            loaded = el.name != "link" or set(el.get("rel", [])) & {"stylesheet", "icon", "preload", "modulepreload"}
            url = (el.get("src") or el.get("href") or "") if loaded else ""
            assert not re.match(r"(https?:)?//", url), (path, url)
    assert (built_site / "assets/katex/katex.min.css").exists()
    assert list((built_site / "assets/katex/fonts").glob("*.woff2"))


def test_a_page_carries_the_katex_rules_it_uses_and_no_other(built_site):
    """KaTeX's rules are in the page (no stylesheet to wait for), only those whose classes the page's math uses
    (held math included); a page without math has no KaTeX rules at all."""
    from bs4 import BeautifulSoup

    full = (built_site / "assets/katex/katex.min.css").read_text(encoding="utf-8")
    with_math = without = 0
    for path in built_site.rglob("*.html"):
        doc = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        assert not doc.find("link", href=re.compile("katex.min.css")), path
        style = doc.find("style", id="mhasym-katex-css")
        classes = {c for el in doc.find_all(class_=True) for c in el["class"]}
        if "katex" not in classes:
            assert style is None, path
            without += 1
            continue
        with_math += 1
        css = style.string
        assert len(css) < len(full) and css.count("@font-face") == full.count("@font-face")
        for used in classes & {"mfrac", "vlist-t2", "katex-display", "mathnormal", "delimsizing"}:
            assert re.search(rf"\.{used}(?![\w-])", css), (path, used)
        for unused in {"mathcal", "accent", "overline", "underline", "boxpad"} - classes:
            assert not re.search(rf"\.{unused}(?![\w-])", css), (path, unused)
    assert with_math > 20 and without >= 2


def test_chinese_pages_speak_chinese_and_have_no_spaces_from_line_breaks(built_site):
    """No English interface string on a Chinese page (heading links, copy buttons, the scheme switch, notebook
    figures), and no line break left between two Chinese characters of a paragraph (a browser shows it as a space)."""
    from bs4 import BeautifulSoup

    english = ("Permanent link", "Copy to Clipboard", "Copied!", "Switch to", "No description has been provided")
    pages = sorted((built_site / "zh").rglob("*.html"))
    assert len(pages) >= 13
    for path in pages:
        doc = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        shown = str(doc.select_one("article")) + " ".join(str(el) for el in doc.select("header, [data-md-component=palette]"))
        for word in english:
            assert word not in shown, (path, word)
        for p in doc.select("article p, article li"):
            for text in p.find_all(string=True):
                if text.find_parent(["pre", "code", "noscript"]) is None:
                    assert not re.search(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]\s*\n\s*[\u4e00-\u9fff]", text), \
                        (path, text[:80])


def test_search_finds_chinese_and_english_and_shows_no_tex(built_site):
    index = json.loads((built_site / "search/search_index.json").read_text(encoding="utf-8"))
    text = " ".join(d["text"] for d in index["docs"]).replace("\u200b", "")
    for word in ("多头注意力", "缩放点积", "concatenation", "subspace"):
        assert word in text, word
    prose = re.sub(r"<code>.*?</code>|<pre>.*?</pre>", "", text, flags=re.S)
    assert not RAW_TEX.search(prose), RAW_TEX.search(prose).group(0)


def test_figures_are_drawn_in_both_languages(built_site):
    for name in ("multihead", "concatenation", "architecture", "masks", "positional_encoding", "attention_weights"):
        en = (built_site / "figures" / f"{name}.svg").read_text(encoding="utf-8")
        zh = (built_site / "figures" / f"{name}-zh.svg").read_text(encoding="utf-8")
        assert en.startswith("<svg") and zh.startswith("<svg") and en != zh


def test_lecturers_page_offers_pdfs_and_the_latex(built_site):
    import zipfile

    for lang, prefix in (("en", ""), ("zh", "zh/")):
        links = [a["href"] for a in soup(built_site, prefix + "lecturers/").select("article a[href]")]
        for name in (f"mhasym-notes-{lang}.pdf", f"mhasym-slides-{lang}.pdf", f"mhasym-latex-{lang}.zip"):
            assert any(link.endswith("downloads/" + name) for link in links), name
            assert (built_site / "downloads" / name).stat().st_size > 1000
        assert (built_site / "downloads" / f"mhasym-notes-{lang}.pdf").read_bytes().startswith(b"%PDF")
        with zipfile.ZipFile(built_site / "downloads" / f"mhasym-latex-{lang}.zip") as z:
            names = z.namelist()
        assert f"mhasym-latex-{lang}/formulas/seed.concat_2.tex" in names
        assert f"mhasym-latex-{lang}/mhasym-notation.sty" in names


def test_search_index_keeps_glossary_terms_whole_and_leaves_out_notebooks(built_site):
    from mhasym.catalog.terms import TERMS, words_of

    docs = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    assert not [d["location"] for d in docs if "notebooks/" in d["location"]]
    chinese = " ".join(d["title"] + " " + d["text"] for d in docs if d["location"].startswith("zh/"))
    tokens = set(re.split(r"[\s\u200b]+", re.sub(r"<[^>]+>", " ", chinese)))
    for term in TERMS:
        for word in words_of(term, "zh"):
            if len(word) > 1 and " " not in word and word in chinese.replace("\u200b", ""):  # a phrase is not one token
                assert word in tokens, word  # cut whole by the search's Chinese segmenter
