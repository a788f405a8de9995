"""The MkDocs plugin of the mhasym site (``plugins: - mhasym`` in ``mkdocs.yml``).

- Formulas come from the catalog: a ```` ```formula ```` fence with one id per line (several ids are
  shown side by side) and inline `` `#!m id-or-symbol` ``. Unknown ids, failing checks, math typed by
  hand and images from outside servers stop the build, with the page named.
- Each formula carries its check mark (what its check compared, sizes, seed, max error, the wrong
  versions it kills; run during this build) and a "copy LaTeX" button with the catalog's TeX.
- Math is rendered at build time by KaTeX (:mod:`mhasym.publish.katex`) on every page, notebook pages
  included; KaTeX's CSS and fonts are served from the site.
- Figures are drawn by :mod:`mhasym.publish.figures`; the lecture notes and slides
  (:mod:`mhasym.publish.notes`) are compiled with pdflatex and offered for download with a zip of the LaTeX.

Options: ``checks: all`` (run every check and its mutants; ``none`` shows formulas without marks, for a
quick preview) and ``downloads: true`` (``false`` skips the PDFs and the zip).
"""

from __future__ import annotations

import html
import io
import json
import logging
import os
import re
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree as etree

import mkdocs.utils
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.util import AtomicString
from mkdocs.config import config_options
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File
from pymdownx.superfences import SuperFencesException

import mhasym
from mhasym.catalog import registry as catalog
from mhasym.catalog.mutants import checked
from mhasym.publish import blocks, figures
from mhasym.printing.display import SPEECH_LOG
from mhasym.publish.katex import KaTeX
from mhasym.publish.katex import css_for as katex_css_for
from mhasym.publish.words import WORDS

log = logging.getLogger("mkdocs.plugins.mhasym")


class FormulaError(SuperFencesException, PluginError):
    """Stops the build (SuperFences would swallow an ordinary exception)."""


FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<kind>formula|derivation|exercise|notation|glossary|checks)\s*$")
INLINE = re.compile(r"`#!m\s+([^`]+?)\s*`")
HAND_MATH = re.compile(r"\$|\\\(|\\\[|\\begin")
OUTSIDE = re.compile(r"!\[[^\]]*\]\(\s*(https?:)?//|<(img|script|iframe)[^>]*\bsrc=[\"']?(https?:)?//", re.I)
OUTSIDE_URL = re.compile(r"(https?:)?//")
# the names of Material's colour-scheme switch in mkdocs.yml -> their entries in publish/words.py
SCHEME_SWITCH = {"Switch to light mode": "to_light", "Switch to dark mode": "to_dark",
                 "Switch to system preference": "to_system"}
KATEX_STYLE = "mhasym-katex-css"  # the id of the <style> that holds the KaTeX rules a page uses
KEEP_TEX = "MHASYM_KEEP_TEX"  # set by benchmarks/run.py: each formula keeps its TeX in data-tex


# Strings that Python-Markdown (heading links) and mkdocs-jupyter (copy buttons) write in English, in Chinese
INTERFACE_ZH = {"Permanent link": "永久链接", "Copy to Clipboard": "复制到剪贴板", "Copied!": "已复制！"}
# A line break inside a Chinese paragraph is shown as a space between two characters: it goes when the text on
# either side of it is Chinese (a character or full-width punctuation)
_HAN, _PUNCT = "\u4e00-\u9fff", "\u3000-\u303f\uff00-\uffef“”‘’"
CJK_BREAK = re.compile(rf"(?<=[{_PUNCT}])[ \t]*\n\s*|[ \t]*\n\s*(?=[{_PUNCT}])|(?<=[{_HAN}])[ \t]*\n\s*(?=[{_HAN}])")
_ENDS_CJK = re.compile(rf"[{_HAN}{_PUNCT}]$")
_STARTS_CJK = re.compile(rf"^[{_HAN}{_PUNCT}]")
_NO_JOIN = ("pre", "code", "script", "style", "textarea", "noscript")


def _interface(soup, lang: str) -> None:
    """The interface in the page's language: the colour-scheme switch (mkdocs.yml names it in English) and, on a
    Chinese page, the strings of INTERFACE_ZH, in titles, labels and text."""
    words = WORDS.get(lang, WORDS["en"])
    table = {english: words[key] for english, key in SCHEME_SWITCH.items()}
    if lang == "zh":
        table.update(INTERFACE_ZH)
    for attr in ("title", "aria-label"):
        for el in soup.find_all(attrs={attr: lambda v: v in table}):
            el[attr] = table[el[attr]]
    for text in soup.find_all(string=lambda t: t.strip() in table):
        text.replace_with(text.replace(text.strip(), table[text.strip()]))


def _join_chinese_lines(soup) -> None:
    """A Chinese page's paragraphs have no spaces where the source broke lines."""
    from bs4 import NavigableString

    article = soup.select_one("article") or soup
    for text in article.find_all(string=lambda t: "\n" in t):
        if text.find_parent(_NO_JOIN) is None and type(text) is NavigableString:  # not a comment or a doctype
            joined = CJK_BREAK.sub("", str(text))
            if "\n" in joined and _ENDS_CJK.search(joined.rstrip()) and joined.rstrip() != joined:
                after = text.find_next(string=lambda t: t.strip())  # the break before <a>链接</a>, <code>, ...
                if after is not None and _STARTS_CJK.search(after.lstrip()):
                    joined = joined.rstrip()
            if joined != str(text):
                text.replace_with(joined)


def _describe_notebook_figures(soup, lang: str) -> None:
    """A figure that a notebook draws is described by its own title (nbconvert writes "No description has been
    provided for this image")."""
    import base64

    for img in soup.find_all("img", alt="No description has been provided for this image"):
        src = img.get("src", "")
        title = None
        if src.startswith("data:image/svg+xml;base64,"):
            svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8", "replace")
            found = re.search(r"<title>(.*?)</title>", svg, re.S)
            title = html.unescape(found.group(1)).strip() if found else None
        img["alt"] = title or WORDS.get(lang, WORDS["en"])["figure"]


def _sections(soup, level: int = 2, parent=None) -> None:
    """Each top-level ``h2`` and what follows it, up to the next one, in a ``div.mhasym-section``, and inside it
    each ``h3`` the same way: the browser lays out and styles a section only when it comes near the screen
    (``content-visibility`` in mhasym.css), so a page with many formulas shows as soon as its first screen is
    ready."""
    parent = soup if parent is None else parent
    tag = f"h{level}"
    for heading in parent.find_all(tag, recursive=False):
        section = soup.new_tag("div", attrs={"class": "mhasym-section"})
        heading.insert_before(section)
        node = heading
        while node is not None and (node is heading or getattr(node, "name", None) != tag):
            following = node.next_sibling
            section.append(node.extract())
            node = following
        if level < 3:
            _sections(soup, level + 1, section)


def _defer_drawing(soup, immediate: int = 1) -> None:
    """After the first ``immediate`` sections, each formula's KaTeX output (its drawing and its MathML) waits in a
    ``<noscript class="mhasym-held">`` until its section comes near the screen: with JavaScript the browser
    keeps that as plain text (nothing to build or style) and mhasym.js puts the formula in place as the reader
    scrolls; without JavaScript the browser shows it as it is. The words (``aria-label``) are on the page from
    the start."""
    leaves = [s for s in soup.select(".mhasym-section") if s.select_one(".mhasym-section") is None]
    for section in leaves[immediate:]:
        for el in section.select(".mhasym-rendered"):
            if el.find_parent(class_="mhasym-section") is not section:
                continue
            drawing = el.select_one(".katex")
            if drawing is None:
                continue
            holder = soup.new_tag("noscript", attrs={"class": "mhasym-held"})
            drawing.replace_with(holder)
            holder.append(drawing)
            el["class"] = el.get("class", []) + ["mhasym-deferred"]


def _bare(tex: str) -> str:
    """A notebook's TeX without the ``\\displaystyle`` that Jupyter's display adds, for matching."""
    return tex.strip().removeprefix("\\displaystyle").strip()


NOTEBOOK_MATH = re.compile(r"^\s*\$\$?(?P<tex>.*?)\$?\$\s*$", re.S)

# KaTeX CSS classes and the font files they use: the fonts a page needs are preloaded, so they
# download alongside the CSS instead of after layout.
# The KaTeX fonts and the selectors of the elements drawn with them (the Size fonts draw big delimiters and
# operators; KaTeX's "sizing size3" classes are font sizes, not the Size3 font).
FONT_SELECTORS = {
    "KaTeX_Main-Regular": ".katex",
    "KaTeX_Math-Italic": ".mathnormal",
    "KaTeX_Main-Italic": ".mathit",
    "KaTeX_Main-Bold": ".mathbf, .textbf",
    "KaTeX_AMS-Regular": ".amsrm, .mathbb, .textbb",
    "KaTeX_Size1-Regular": ".delimsizing.size1, .delim-size1, .small-op",
    "KaTeX_Size2-Regular": ".delimsizing.size2, .large-op",
    "KaTeX_Size3-Regular": ".delimsizing.size3",
    "KaTeX_Size4-Regular": ".delimsizing.size4, .delim-size4",
    "KaTeX_Caligraphic-Regular": ".mathcal",
}


def scan(markdown: str, page_name: str) -> list:
    """Every problem of a page's Markdown, each as ``page:line: what``."""
    problems, inside, kind = [], False, None
    known = {f.id for f in catalog.formulas()}
    derived = {d.id for d in mhasym.derivations()}
    from mhasym.catalog.exercise import exercises

    asked = {e.id for e in exercises()}
    for number, line in enumerate(markdown.splitlines(), 1):
        m = FENCE.match(line)
        if m and not inside:
            inside, kind = True, m["kind"]
            continue
        if inside and line.strip().startswith("```"):
            inside = False
            continue
        if inside:
            if kind == "formula" and line.strip():
                problems += [f"{page_name}:{number}: unknown formula id {fid!r}" for fid in line.split()
                             if fid not in known]
            if kind == "exercise" and line.strip():
                problems += [f"{page_name}:{number}: unknown exercise id {eid!r}" for eid in line.split()
                             if eid not in asked]
            if kind == "derivation" and line.strip():
                problems += [f"{page_name}:{number}: unknown derivation id {did!r}" for did in line.split()
                             if did not in derived]
            continue
        if line.lstrip().startswith("```"):
            inside, kind = True, "code"
            continue
        for name in INLINE.findall(line):
            try:
                catalog.inline(name)
            except mhasym.MhasymError:
                problems.append(f"{page_name}:{number}: unknown formula id or symbol {name!r}")
        text = INLINE.sub("", re.sub(r"`[^`]*`", "", line))
        if HAND_MATH.search(text):
            problems.append(f"{page_name}:{number}: math typed by hand (use a formula marker): {line.strip()[:60]}")
        if OUTSIDE.search(text):
            problems.append(f"{page_name}:{number}: image or script from an outside server: {line.strip()[:60]}")
    return problems


class _DocstringPreprocessor(Preprocessor):
    """Docstrings on the API page: doctest examples become Python console blocks, Sphinx roles
    (``:func:`x```) become code."""

    ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc):`~?([^`]+)`")

    def run(self, lines):
        out, block = [], []
        for line in lines + [""]:
            if line.lstrip().startswith(">>>") or (block and line.strip()):
                block.append(line.strip())
                continue
            if block:
                out += ["", "```pycon", *block, "```", ""]
                block = []
            out.append(self.ROLE.sub(r"`\1`", line))
        return out[:-1]


class DocstringExtension(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.register(_DocstringPreprocessor(md), "mhasym-docstrings", 30)


class MhasymPlugin(BasePlugin):
    """Formulas from the catalog with their checks, math by KaTeX at build time, figures and notes."""

    config_scheme = (
        ("checks", config_options.Choice(("all", "none"), default="all")),
        ("downloads", config_options.Type(bool, default=True)),
    )

    def __init__(self):
        self.results = {}  # formula or derivation id -> check result or proof, kept for the whole process
        self.scores = {}  # derivation id -> the wrong versions each step's proof rejects
        self.downloads = {}  # uri -> bytes of the notes, slides and zips, made once per process
        self.page = None
        self.exercise_number = 0
        self.lang = "en"
        self.folder = None  # a temporary folder for generated files, removed after each build
        self.katex = None
        self.katex_css = None  # KaTeX's stylesheet, read in on_files
        self.figure_sizes = {}  # figures/NAME.svg -> (width, height) as drawn

    # Configuration

    def on_config(self, config):
        # mkdocs-static-i18n re-creates every file as a plain MkDocs file; unless .ipynb counts as a
        # documentation page, notebooks are copied as raw JSON and the build still passes.
        if ".ipynb" not in mkdocs.utils.markdown_extensions:
            mkdocs.utils.markdown_extensions = (*mkdocs.utils.markdown_extensions, ".ipynb")
        fences = config["mdx_configs"].setdefault("pymdownx.superfences", {}).setdefault("custom_fences", [])
        kinds = ("formula", "derivation", "exercise", "notation", "glossary", "checks")
        fences[:] = [f for f in fences if f.get("name") not in kinds]
        for name in kinds:
            fences.append({"name": name, "class": "mhasym", "format": self.fence_format})
        inlines = config["mdx_configs"].setdefault("pymdownx.inlinehilite", {}).setdefault("custom_inline", [])
        inlines[:] = [f for f in inlines if f.get("name") != "m"]
        inlines.append({"name": "m", "class": "mhasym", "format": self.inline_format})
        if not any(isinstance(e, DocstringExtension) for e in config["markdown_extensions"]):
            config["markdown_extensions"].append(DocstringExtension())
        self._section_titles(config)
        if self.folder is None:
            self.folder = tempfile.TemporaryDirectory(prefix="mhasym-site-")
        self._search_words(self.folder.name)
        root = Path(config.config_file_path).resolve().parent if config.config_file_path else Path.cwd()
        # npm's folder beside mkdocs.yml, or else beside the mhasym package (a checkout of this project)
        candidates = [root / "node_modules", Path(mhasym.__file__).resolve().parents[1] / "node_modules"]
        self.node_modules = next((c for c in candidates if (c / "katex").is_dir()), candidates[0])
        if self.katex is None:
            self.katex = KaTeX(self.node_modules)
        # the notebooks that mkdocs-jupyter runs write the words of what they show here
        os.environ[SPEECH_LOG] = str(Path(self.folder.name) / "speech.jsonl")
        return config

    @staticmethod
    def _search_words(cache_folder: str):
        """The glossary's Chinese terms as words of the search index: Material's search cuts Chinese text
        with jieba, which would cut 多头注意力 into 多头 + 注意力, so that the term typed whole finds nothing.
        jieba writes its model cache into ``cache_folder`` (the build's own temporary folder)."""
        try:
            import jieba
        except ImportError:  # without jieba, Material indexes Chinese unsegmented
            return
        from mhasym.catalog.terms import TERMS, words_of

        if not jieba.dt.initialized:
            jieba.dt.tmp_dir = cache_folder
        for term in TERMS:
            for word in words_of(term, "zh"):
                jieba.add_word(word, freq=100000)

    @staticmethod
    def _section_titles(config):
        """The navigation titles of the section pages (``multihead.md``, ...) and their translations come
        from the catalog's sections, so ``mkdocs.yml`` lists those pages without titles."""
        from mhasym.catalog.derivation import DERIVATIONS_TITLE

        titles = {f"{key}.md": names for key, names in catalog.SECTIONS.items()}
        titles["derivations.md"] = DERIVATIONS_TITLE

        def titled(items):
            out = []
            for item in items or []:
                if isinstance(item, str) and item in titles:
                    item = {titles[item][0]: item}
                elif isinstance(item, dict):
                    (title, target), = item.items()
                    item = {title: titled(target) if isinstance(target, list) else target}
                out.append(item)
            return out

        config["nav"] = titled(config["nav"]) if config["nav"] else config["nav"]
        i18n = config["plugins"].get("i18n")
        for language in (i18n.config["languages"] if i18n is not None else []):
            if language["locale"] == "zh":
                translations = dict(language["nav_translations"] or {})
                translations.update({en: zh for en, zh in titles.values()})
                language["nav_translations"] = translations

    # Checks and generated files

    def _checked(self, f):
        """The check of ``f`` with its mutants, run once per process."""
        if f.id not in self.results:
            self.results[f.id] = checked(f)
        return self.results[f.id]

    def result(self, f):
        """The check of ``f``; a failure stops the build, naming the page."""
        if self.config["checks"] == "none":
            return None
        result = self._checked(f)
        if not result.passed:
            raise FormulaError(f"{self._page_name()}: check of formula {f.id!r} failed: {result.summary()}")
        return result

    def proof(self, d):
        """The proof of every step of ``d`` and the wrong versions each step's proof rejects, run once per
        process; a step that is not proven stops the build, naming the page."""
        from mhasym.catalog.derivation import cached_check, score

        if self.config["checks"] == "none":
            return None, None
        if d.id not in self.results:
            self.results[d.id] = cached_check(d)
            self.scores[d.id] = [score(step) for step in d.steps]
        result, scores = self.results[d.id], self.scores[d.id]
        holes = [k for k, s in enumerate(scores, 1) if s.survived]
        if not result.passed or holes:
            why = result.summary() if not result.passed else f"a wrong version of step {holes[0]} is accepted"
            raise FormulaError(f"{self._page_name()}: derivation {d.id!r}: {why}")
        return result, scores

    def on_files(self, files, config):
        """Run every check (the notes need them), then add figures, KaTeX's CSS and fonts and the downloads.

        Generated files are written to a temporary folder: mkdocs-static-i18n needs a real source path.
        """
        katex_dist = self.node_modules / "katex" / "dist"
        if not katex_dist.is_dir():
            raise PluginError(f"KaTeX is not installed: {katex_dist} is missing (run `npm ci`)")
        if self.config["checks"] == "all":
            for f in catalog.formulas():
                if not self._checked(f).passed:
                    pages = [p.src_uri for p in files.documentation_pages() if p.abs_src_path and
                             f.id in Path(p.abs_src_path).read_text(encoding="utf-8", errors="replace")]
                    raise PluginError(f"{', '.join(pages) or 'the lecture notes'}: check of formula {f.id!r} "
                                      f"failed: {self.results[f.id].summary()}")
            for d in mhasym.derivations():
                self.page = None
                self.proof(d)
        generated = {}
        for lang, suffix in (("en", ""), ("zh", "-zh")):  # Chinese pages link figures/NAME-zh.svg
            for name, svg in figures.all_figures(lang).items():
                generated[f"figures/{name}{suffix}.svg"] = svg.encode()
                found = re.search(r"<svg[^>]*?\bwidth=['\"]([\d.]+)['\"][^>]*?\bheight=['\"]([\d.]+)['\"]", svg)
                if found:
                    self.figure_sizes[f"{name}{suffix}.svg"] = tuple(str(round(float(v))) for v in found.groups())
        # KaTeX's stylesheet: each page with math carries the part of it that it uses (on_post_page); the whole
        # file is shipped beside the fonts for a reader who wants it
        self.katex_css = (katex_dist / "katex.min.css").read_text(encoding="utf-8")
        for path in [katex_dist / "katex.min.css"] + sorted((katex_dist / "fonts").glob("*.woff2")):
            generated["assets/katex/" + path.relative_to(katex_dist).as_posix()] = path.read_bytes()
        if self.config["downloads"]:
            generated.update(self._downloads())
        if self.folder is None:
            self.folder = tempfile.TemporaryDirectory(prefix="mhasym-site-")
        for uri, content in generated.items():
            target = Path(self.folder.name) / uri
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            old = files.get_file_from_path(uri)
            if old is not None:
                files.remove(old)
            files.append(File.generated(config, uri, abs_src_path=str(target)))
        return files

    def _downloads(self) -> dict:
        """Lecture notes and slides (PDF) and a zip of the LaTeX, in both languages."""
        if not self.downloads:
            from mhasym.publish.notes import export_latex

            with tempfile.TemporaryDirectory(prefix="mhasym-notes-") as work:
                for lang in ("en", "zh"):
                    folder = Path(work) / lang
                    try:
                        export_latex(folder, lang, pdf=True, results=self.results)
                    except mhasym.MhasymError as exc:
                        raise PluginError(f"lecture notes ({lang}): {exc}") from None
                    archive = io.BytesIO()
                    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
                        for path in sorted(folder.rglob("*")):
                            if path.is_file() and path.suffix != ".pdf":
                                z.write(path, f"mhasym-latex-{lang}/{path.relative_to(folder).as_posix()}")
                    self.downloads[f"downloads/mhasym-latex-{lang}.zip"] = archive.getvalue()
                    for name in ("notes", "slides"):
                        self.downloads[f"downloads/mhasym-{name}-{lang}.pdf"] = (folder / f"{name}.pdf").read_bytes()
        return self.downloads

    def _notebook_speech(self, lang: str) -> dict:
        """TeX -> words of every object the notebooks showed in this build (see :mod:`mhasym.printing.display`)."""
        found = {}
        log = Path(os.environ.get(SPEECH_LOG, ""))
        if log.is_file():
            for line in log.read_text(encoding="utf-8").splitlines():
                item = json.loads(line)
                found[_bare(item["tex"])] = item[lang]
        return found

    # Pages: markers validated, then rendered

    def _page_name(self) -> str:
        return self.page.file.src_uri if self.page is not None else "?"

    def on_page_markdown(self, markdown, page, config, files):
        self.page = page
        self.exercise_number = 0  # exercises are numbered on each page
        lang = getattr(page.file, "locale", None) or config["theme"]["language"] or "en"
        self.lang = lang if lang in WORDS else "en"
        problems = scan(markdown, page.file.src_uri)
        if problems:
            raise PluginError("; ".join(problems))
        return markdown

    def _formula(self, fid: str):
        try:
            return mhasym.formula(fid)
        except mhasym.MhasymError as exc:
            raise FormulaError(f"{self._page_name()}: {exc}") from None

    def fence_format(self, source, language, css_class, options, md, **kwargs):
        if language == "notation":
            return blocks.notation_table(self.lang)
        if language == "glossary":
            return blocks.glossary_table(self.lang)
        if language == "checks":
            if self.config["checks"] == "none":
                return ""
            return blocks.checks_table({f.id: self.result(f) for f in catalog.formulas()}, self.lang)
        ids = source.split()
        if language == "exercise":
            return "".join(self._exercise(eid) for eid in ids)
        if language == "derivation":
            if len(ids) != 1:
                raise FormulaError(f"{self._page_name()}: a derivation marker holds one id, got {len(ids)}")
            try:
                d = mhasym.derivation(ids[0])
            except mhasym.MhasymError as exc:
                raise FormulaError(f"{self._page_name()}: {exc}") from None
            result, scores = self.proof(d)
            return blocks.derivation_html(d, result, scores, self.lang)
        if not ids:
            raise FormulaError(f"{self._page_name()}: empty formula marker")
        html = "".join(blocks.formula_html(f, self.result(f), self.lang) for f in map(self._formula, ids))
        return html if len(ids) == 1 else f'<div class="mhasym-side-by-side">{html}</div>'

    def _exercise(self, eid: str) -> str:
        from mhasym.catalog.exercise import exercise

        try:
            ex = exercise(eid)
        except mhasym.MhasymError as exc:
            raise FormulaError(f"{self._page_name()}: {exc}") from None
        result = None
        if self.config["checks"] != "none":
            if ex.id not in self.results:
                self.results[ex.id] = ex.check()
            result = self.results[ex.id]
            if not result.passed:
                raise FormulaError(f"{self._page_name()}: the answer of exercise {ex.id!r} failed its check: "
                                   f"{result.summary()}")
        self.exercise_number += 1
        return blocks.exercise_html(ex, self.exercise_number, result, self.lang)

    def inline_format(self, src, language, class_name, md):
        try:
            tex = catalog.inline(src.strip())
        except mhasym.MhasymError as exc:
            raise FormulaError(f"{self._page_name()}: {exc}") from None
        el = etree.Element("span", {"class": "mhasym-math", "data-display": "0", "data-search-exclude": "",
                                    "data-speech": catalog.inline_speech(src.strip(), self.lang)})
        el.text = AtomicString(tex)
        return el

    def on_page_content(self, content, page, config, files):
        """Math to HTML with KaTeX; mkdocs-jupyter's MathJax set-up and outside scripts removed; a notebook's
        math typed by hand or an outside image stops the build."""
        from bs4 import BeautifulSoup, Comment

        soup = BeautifulSoup(content, "html.parser")
        for comment in soup.find_all(string=lambda s: isinstance(s, Comment) and "Load mathjax" in s):
            node = comment
            while node is not None:  # everything up to mkdocs-jupyter's closing comment
                following = node.next_sibling
                done = isinstance(node, Comment) and "End of mathjax configuration" in node
                node.extract()
                node = None if done else following
        for script in soup.find_all("script"):
            src = script.get("src", "")
            if "mathjax" in src.lower() or script.get("type") == "text/x-mathjax-config" or src.startswith("http"):
                script.decompose()
        lang = getattr(page.file, "locale", None) or self.lang
        lang = lang if lang in WORDS else "en"
        targets = [(el, el.get_text(), el.get("data-display") == "1") for el in soup.select(".mhasym-math")]
        spoken = self._notebook_speech(lang) if soup.select_one(".jp-RenderedLatex") is not None else {}
        for el in soup.select(".jp-RenderedLatex"):
            m = NOTEBOOK_MATH.match(el.get_text())
            if not m:
                raise PluginError(f"{page.file.src_uri}: notebook output is not a formula: {el.get_text()[:60]!r}")
            tex = m["tex"].strip()
            words = spoken.get(_bare(tex))
            if words is None:
                raise PluginError(f"{page.file.src_uri}: notebook math that mhasym did not print has no spoken "
                                  f"form: {tex[:60]!r}")
            el["data-speech"] = words
            targets.append((el, tex, True))
        for el in soup.find_all(["img", "script", "iframe"]):
            url = el.get("src") or ""
            if OUTSIDE_URL.match(url):
                raise PluginError(f"{page.file.src_uri}: {el.name} from an outside server: {url}")
        for el in soup.select(".jp-RenderedMarkdown"):
            if HAND_MATH.search(el.get_text()):
                raise PluginError(f"{page.file.src_uri}: math typed by hand in a notebook markdown cell: "
                                  f"{el.get_text().strip()[:60]!r}")
        # A wide formula scrolls inside its display and wide code inside its cell: a keyboard reaches and scrolls
        # them (Material does the same for its own code blocks)
        for el in soup.select(".jp-InputArea-editor .highlight-ipynb, .jp-OutputArea-output pre"):
            el["tabindex"] = "0"
        # Notebook pages stay out of the search index: Material's search parser loses its place in the HTML
        # of their code cells, and a query that matches such a page then finds nothing at all (measured:
        # 多头注意力 found no page while the Chinese notebook was indexed). The prose pages say the same.
        if page.file.src_uri.endswith(".ipynb"):
            page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}
        # Figures load when they come near the screen: the page and its math are ready without waiting for them.
        for img in soup.find_all("img", src=lambda s: s and "figures/" in s):
            img["loading"], img["decoding"] = "lazy", "async"
            size = self.figure_sizes.get(img["src"].rsplit("figures/", 1)[1])
            if size:  # the space a figure takes is known before it loads: the page does not jump
                img["width"], img["height"] = size
            if img.parent.name != "a":  # a tap opens the figure alone, where a phone can zoom it
                link = soup.new_tag("a", href=img["src"], attrs={"class": "mhasym-figure-link"})
                img.wrap(link)
        _sections(soup)
        try:
            answers = self.katex.render([(tex, display) for _, tex, display in targets])
        except mhasym.MhasymError as exc:
            raise PluginError(f"{page.file.src_uri}: {exc}") from None
        for (el, tex, display), answer in zip(targets, answers):
            if "error" in answer:
                raise PluginError(f"{page.file.src_uri}: KaTeX cannot render {tex[:60]!r}: {answer['error']}")
            speech = el.get("data-speech")
            if not speech:
                raise PluginError(f"{page.file.src_uri}: formula without a spoken form: {tex[:60]!r}")
            el.clear()
            el.append(BeautifulSoup(answer["html"], "html.parser"))
            for note in el.select("annotation"):  # KaTeX's copy of the TeX inside the MathML: not for listeners
                note.decompose()
            # the words a screen reader says: the spoken form in the page's language, never the TeX
            el["role"] = "math"
            el["aria-label"] = speech
            del el["data-speech"]
            if os.environ.get(KEEP_TEX):  # the page-load benchmark retypesets the page with MathJax from these
                el["data-tex"] = tex
            el["data-search-exclude"] = ""
            el["class"] = el.get("class", []) + ["mhasym-rendered"]
        _defer_drawing(soup)
        return str(soup)

    def on_post_page(self, output, page, config):
        """Put the KaTeX rules the page uses in the page and preload the KaTeX fonts of the math drawn on load
        (a page without math gets neither); drop the per-page ``<link rel=alternate>`` that
        mkdocs-static-i18n adds (Material fetches a sitemap.xml next to each, a 404 on every page; the
        visible language switch stays)."""
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(output, "html.parser")
        for link in soup.find_all("link", rel="alternate", hreflang=True):
            link.decompose()
        if soup.select_one(".katex") is not None and soup.head is not None:  # a page without math gets no KaTeX CSS
            base = mkdocs.utils.get_relative_url("assets/katex/fonts/", page.url)  # keeps its final /
            # the KaTeX rules this page uses (held math included), in the page: no stylesheet to wait for; before
            # the site's own stylesheet, which restyles some of them
            classes = {c for el in soup.find_all(class_=True) for c in el["class"]}
            css = soup.new_tag("style", id=KATEX_STYLE)
            css.string = katex_css_for(self.katex_css, classes, base)
            own = soup.head.find("link", rel="stylesheet", href=lambda h: h and h.endswith("stylesheets/mhasym.css"))
            if own is not None:
                own.insert_before(css)
            else:
                soup.head.append(css)
            # the fonts of the math drawn on load: what later sections hold is drawn, and its fonts fetched, later
            def drawn_on_load(el):
                return el.find_parent("noscript", class_="mhasym-held") is None

            for name, selector in FONT_SELECTORS.items():
                if any(drawn_on_load(el) for el in soup.select(selector)):
                    css.insert_before(soup.new_tag("link", rel="preload", href=f"{base}{name}.woff2", attrs={
                        "as": "font", "type": "font/woff2", "crossorigin": ""}))
        lang = getattr(page.file, "locale", None) or "en"
        _interface(soup, lang)
        _describe_notebook_figures(soup, lang)
        if lang == "zh":
            _join_chinese_lines(soup)
        return str(soup)

    # End of a build

    def on_post_build(self, config):
        """Each language's build ends here: the KaTeX process and the temporary folder go."""
        self.close()

    def on_build_error(self, error):
        self.close()

    def on_shutdown(self):
        self.close()

    def close(self):
        if self.katex is not None:
            self.katex.close()
        if self.folder is not None:
            if os.environ.get(SPEECH_LOG, "").startswith(self.folder.name):
                del os.environ[SPEECH_LOG]
            self.folder.cleanup()
            self.folder = None
