"""MkDocs hooks for the mhasym site.

- Formulas come from the catalog: a ```` ```formula ```` fence with one id per line
  (several ids are shown side by side) and inline `` `#!m id-or-symbol` ``. Unknown ids,
  failing checks and math typed by hand stop the build with the page named.
- Each formula carries a "checked" mark (what its check compared, sizes, seed, max error,
  run during this build) and a "copy LaTeX" button with the catalog's TeX.
- Math is rendered at build time by KaTeX (node, ``scripts/katex_server.js``) on every page,
  notebook pages included; KaTeX's CSS and fonts are served from the site.
- Figures are drawn by :mod:`mhasym.figures` during the build; the lecture notes and slides
  (:mod:`mhasym.export`) are compiled with pdflatex and offered for download with a zip of the LaTeX.
- Notebooks survive mkdocs-static-i18n (see the ``.ipynb`` registration below).
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree as etree

import mkdocs.utils
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.util import AtomicString
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File
from pymdownx.superfences import SuperFencesException

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import mhasym  # noqa: E402
from mhasym import catalog, figures, notation  # noqa: E402
from mhasym.checks import KIND_NAMES, mutant_words  # noqa: E402
from mhasym.mutants import checked  # noqa: E402

log = logging.getLogger("mkdocs.hooks.mhasym")

# mkdocs-static-i18n re-creates every file as a plain MkDocs file; unless .ipynb counts as a
# documentation page, notebooks are copied as raw JSON and the build still passes.
if ".ipynb" not in mkdocs.utils.markdown_extensions:
    mkdocs.utils.markdown_extensions = (*mkdocs.utils.markdown_extensions, ".ipynb")

LABELS = {
    "en": {"checked": "checked", "rejected": "rejected by the checks",
           "copy": "copy LaTeX", "copied": "copied", "wrong": "wrong",
           "symbol": "symbol", "shape": "shape", "meaning": "meaning",
           "formulas": "formulas", "section": "section", "kinds": "checks"},
    "zh": {"checked": "已验证", "rejected": "被验证拒绝",
           "copy": "复制 LaTeX", "copied": "已复制", "wrong": "错误写法",
           "symbol": "符号", "shape": "形状", "meaning": "含义",
           "formulas": "公式数", "section": "章节", "kinds": "验证"},
}


class FormulaError(SuperFencesException, PluginError):
    """Stops the build (SuperFences would swallow an ordinary exception)."""


_STATE = {"page": None, "lang": "en"}
_CHECKS: dict = {}


def _page_name() -> str:
    page = _STATE["page"]
    return page.file.src_uri if page is not None else "?"


def _formula(fid: str):
    try:
        return mhasym.formula(fid)
    except mhasym.MhasymError as exc:
        raise FormulaError(f"{_page_name()}: {exc}") from None


def _checked(f):
    """Run each formula's check once per build process; a failure stops the build."""
    if f.id not in _CHECKS:
        _CHECKS[f.id] = checked(f)
    result = _CHECKS[f.id]
    if not result.passed:
        raise FormulaError(f"{_page_name()}: check of formula {f.id!r} failed: {result.summary()}")
    return result


# Markers: validated for the whole page first, so every unknown id is reported with its line.

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<kind>formula|notation|checks)\s*$")
INLINE = re.compile(r"`#!m\s+([^`]+?)\s*`")
HAND_MATH = re.compile(r"\$|\\\(|\\\[|\\begin")
OUTSIDE = re.compile(r"!\[[^\]]*\]\(\s*(https?:)?//|<(img|script|iframe)[^>]*\bsrc=[\"']?(https?:)?//", re.I)


def _scan(markdown: str, page_name: str):
    problems, inside, kind = [], False, None
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
                for fid in line.split():
                    if fid not in catalog._load():
                        problems.append(f"{page_name}:{number}: unknown formula id {fid!r}")
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


def on_page_markdown(markdown, page, config, files):
    _STATE["page"] = page
    _STATE["lang"] = getattr(page.file, "locale", None) or config["theme"]["language"] or "en"
    if _STATE["lang"] not in LABELS:
        _STATE["lang"] = "en"
    problems = _scan(markdown, page.file.src_uri)
    if problems:
        raise PluginError("; ".join(problems))
    return markdown


# Rendering of markers (HTML that the KaTeX pass below turns into math).

def _math(tex: str, display: bool) -> str:
    kind = "div" if display else "span"
    return f'<{kind} class="mhasym-math" data-display="{int(display)}">{html.escape(tex)}</{kind}>'


def _check_html(result, lang, wrong=False) -> str:
    labels = LABELS[lang]
    parts = [f"<b>{result.kind_name(lang)}</b>: {html.escape(result.compared)}"]
    facts = result.facts(lang)
    if result.mutants is not None and not wrong:
        facts = facts[:-1]  # the kill count is on the mark itself
    parts += [html.escape(p) for p in facts]
    mark = f"✗ {labels['rejected']}" if wrong else f"✓ {labels['checked']}"
    if result.mutants is not None and not wrong:
        mark += f" · {html.escape(mutant_words(lang, *result.mutants[:2]))}"
    return (f'<details class="mhasym-check"><summary>{mark}</summary>'
            f'<p>{"; ".join(parts)}</p></details>')


def text_html(text: str) -> str:
    """Prose from the catalog, its ``[[symbol]]`` markers as inline math."""
    parts = catalog.MARKER.split(text)
    out = []
    for k, part in enumerate(parts):
        out.append(_math(catalog.inline(part), False) if k % 2 else html.escape(part))
    return "".join(out)


def formula_html(f, lang: str) -> str:
    result = _checked(f)
    labels = LABELS[lang]
    wrong = f.section == "mistakes"
    title = text_html(f.title[lang])
    badge = f'<span class="mhasym-wrong-badge">✗ {labels["wrong"]}</span> ' if wrong else ""
    return (
        f'<div class="mhasym-formula{" mhasym-wrong" if wrong else ""}" id="formula-{f.id}" data-formula-id="{f.id}">'
        f'<div class="mhasym-caption">{badge}{title} <code class="mhasym-id">{f.id}</code></div>'
        f'<div class="mhasym-display" data-search-exclude>{_math(f.latex, True)}</div>'
        f'<div class="mhasym-meta">{_check_html(result, lang, wrong)}'
        f'<button class="mhasym-copy md-button" type="button" data-tex="{html.escape(f.latex, quote=True)}" '
        f'data-copied="{labels["copied"]}">{labels["copy"]}</button></div>'
        f'<p class="mhasym-description">{text_html(f.description[lang])}</p>'
        f"</div>"
    )


def _notation_table(lang: str) -> str:
    labels = LABELS[lang]
    rows = []
    for key, shape, en, zh in notation.GLOSSARY:
        shape_tex = "" if shape is None else catalog.shape_tex(shape)
        rows.append(f"<tr><td data-search-exclude>{_math(catalog.inline(key), False)}</td>"
                    f"<td data-search-exclude>{_math(shape_tex, False) if shape_tex else '—'}</td>"
                    f"<td>{text_html(en if lang == 'en' else zh)}</td></tr>")
    return (f'<table class="mhasym-notation"><thead><tr><th>{labels["symbol"]}</th><th>{labels["shape"]}</th>'
            f'<th>{labels["meaning"]}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _checks_table(lang: str) -> str:
    labels = LABELS[lang]
    rows = []
    for section, names in catalog.SECTIONS.items():
        entries = catalog.formulas(section)
        results = [_checked(f) for f in entries]
        kinds = {}
        for r in results:
            kinds[r.kind] = kinds.get(r.kind, 0) + 1
        kind_text = ", ".join(f"{KIND_NAMES[lang][k]} {v}" for k, v in kinds.items())
        rows.append(f"<tr><td>{html.escape(names[0] if lang == 'en' else names[1])}</td><td>{len(entries)}</td>"
                    f"<td>{html.escape(kind_text)}</td></tr>")
    return (f'<table class="mhasym-checks"><thead><tr><th>{labels["section"]}</th><th>{labels["formulas"]}</th>'
            f'<th>{labels["kinds"]}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def fence_format(source, language, css_class, options, md, **kwargs):
    lang = _STATE["lang"]
    if language == "notation":
        return _notation_table(lang)
    if language == "checks":
        return _checks_table(lang)
    ids = source.split()
    if not ids:
        raise FormulaError(f"{_page_name()}: empty formula marker")
    blocks = "".join(formula_html(_formula(fid), lang) for fid in ids)
    if len(ids) == 1:
        return blocks
    return f'<div class="mhasym-side-by-side">{blocks}</div>'


def inline_format(src, language, class_name, md):
    try:
        tex = catalog.inline(src.strip())
    except mhasym.MhasymError as exc:
        raise FormulaError(f"{_page_name()}: {exc}") from None
    el = etree.Element("span", {"class": "mhasym-math", "data-display": "0", "data-search-exclude": ""})
    el.text = AtomicString(tex)
    return el


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


def on_config(config):
    fences = config["mdx_configs"].setdefault("pymdownx.superfences", {}).setdefault("custom_fences", [])
    for name in ("formula", "notation", "checks"):
        if not any(f.get("name") == name for f in fences):
            fences.append({"name": name, "class": "mhasym", "format": fence_format})
    if not any(isinstance(e, DocstringExtension) for e in config["markdown_extensions"]):
        config["markdown_extensions"].append(DocstringExtension())
    inlines = config["mdx_configs"].setdefault("pymdownx.inlinehilite", {}).setdefault("custom_inline", [])
    if not any(f.get("name") == "m" for f in inlines):
        inlines.append({"name": "m", "class": "mhasym", "format": inline_format})
    return config


# Generated files: figures and KaTeX's CSS and fonts.

KATEX = ROOT / "node_modules" / "katex" / "dist"


GENERATED = Path(tempfile.mkdtemp(prefix="mhasym-site-"))


def on_files(files, config):
    """Add the figures (drawn now, in both languages) and KaTeX's CSS and fonts.

    They are written to a temporary folder first: mkdocs-static-i18n needs a real source path.
    """
    if not KATEX.is_dir():
        raise PluginError(f"KaTeX is not installed: {KATEX} is missing (run `npm ci`)")
    _check_all(files)
    generated = {}
    for lang, suffix in (("en", ""), ("zh", "-zh")):  # Chinese pages link figures/NAME-zh.svg
        for name, svg in figures.all_figures(lang).items():
            generated[f"figures/{name}{suffix}.svg"] = svg.encode()
    for path in [KATEX / "katex.min.css"] + sorted((KATEX / "fonts").glob("*.woff2")):
        generated["assets/katex/" + path.relative_to(KATEX).as_posix()] = path.read_bytes()
    generated.update(_downloads())
    for uri, content in generated.items():
        target = GENERATED / uri
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        old = files.get_file_from_path(uri)
        if old is not None:
            files.remove(old)
        files.append(File.generated(config, uri, abs_src_path=str(target)))
    return files


def _check_all(files):
    """Run every check before anything is built (the notes need them); a failure names the pages."""
    for f in catalog.formulas():
        if f.id not in _CHECKS:
            _CHECKS[f.id] = checked(f)
        result = _CHECKS[f.id]
        if not result.passed:
            pages = [p.src_uri for p in files.documentation_pages()
                     if p.abs_src_path and f.id in Path(p.abs_src_path).read_text(encoding="utf-8", errors="replace")]
            raise PluginError(f"{', '.join(pages) or 'the lecture notes'}: check of formula {f.id!r} failed: "
                              f"{result.summary()}")


_DOWNLOADS: dict = {}


def _downloads() -> dict:
    """Lecture notes and slides (PDF) and a zip of the LaTeX, in both languages, made once per build."""
    if not _DOWNLOADS:
        from mhasym.export import export_latex

        for lang in ("en", "zh"):
            folder = GENERATED / "export" / lang
            try:
                export_latex(folder, lang, pdf=True, results=_CHECKS)
            except mhasym.MhasymError as exc:
                raise PluginError(f"lecture notes ({lang}): {exc}") from None
            archive = io.BytesIO()
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
                for path in sorted(folder.rglob("*")):
                    if path.is_file() and path.suffix != ".pdf":
                        z.write(path, f"mhasym-latex-{lang}/{path.relative_to(folder).as_posix()}")
            _DOWNLOADS[f"downloads/mhasym-latex-{lang}.zip"] = archive.getvalue()
            for name in ("notes", "slides"):
                _DOWNLOADS[f"downloads/mhasym-{name}-{lang}.pdf"] = (folder / f"{name}.pdf").read_bytes()
    return _DOWNLOADS


# Build-time KaTeX over every page's content (markdown and notebook pages alike).

class KaTeX:
    """One node process for the whole build; one JSON request and answer per line."""

    def __init__(self):
        self.proc = None

    def render(self, items):
        if not items:
            return []
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(["node", str(ROOT / "scripts" / "katex_server.js")], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, encoding="utf-8", cwd=ROOT)
        for tex, display in items:
            self.proc.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
        self.proc.stdin.flush()
        return [json.loads(self.proc.stdout.readline()) for _ in items]

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


_KATEX = KaTeX()
MATHJAX_BLOCK = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
NOTEBOOK_MATH = re.compile(r"^\s*\$\$?(?P<tex>.*?)\$?\$\s*$", re.S)


def on_page_content(content, page, config, files):
    from bs4 import BeautifulSoup

    content = MATHJAX_BLOCK.sub("", content)
    soup = BeautifulSoup(content, "html.parser")
    for script in soup.find_all("script"):
        src = script.get("src", "")
        if "mathjax" in src.lower() or script.get("type") == "text/x-mathjax-config" or src.startswith("http"):
            script.decompose()
    targets = []
    for el in soup.select(".mhasym-math"):
        targets.append((el, el.get_text(), el.get("data-display") == "1"))
    for el in soup.select(".jp-RenderedLatex"):
        m = NOTEBOOK_MATH.match(el.get_text())
        if not m:
            raise PluginError(f"{page.file.src_uri}: notebook output is not a formula: {el.get_text()[:60]!r}")
        tex = m["tex"].strip()
        tex = tex[len(r"\displaystyle"):].strip() if tex.startswith(r"\displaystyle") else tex
        targets.append((el, tex, True))
    for el in soup.find_all(["img", "script", "iframe", "link"]):
        url = el.get("src") or el.get("href") or ""
        if el.name != "link" and re.match(r"(https?:)?//", url):
            raise PluginError(f"{page.file.src_uri}: {el.name} from an outside server: {url}")
    for el in soup.select(".jp-RenderedMarkdown"):
        text = el.get_text()
        if HAND_MATH.search(text):
            raise PluginError(f"{page.file.src_uri}: math typed by hand in a notebook markdown cell: {text.strip()[:60]!r}")
    answers = _KATEX.render([(tex, display) for _, tex, display in targets])
    for (el, tex, display), answer in zip(targets, answers):
        if "error" in answer:
            raise PluginError(f"{page.file.src_uri}: KaTeX cannot render {tex[:60]!r}: {answer['error']}")
        el.clear()
        el.append(BeautifulSoup(answer["html"], "html.parser"))
        el["role"] = "math"
        el["aria-label"] = tex
        el["data-search-exclude"] = ""
        el["class"] = el.get("class", []) + ["mhasym-rendered"]
    return str(soup)


def on_shutdown():
    _KATEX.close()


ALTERNATE_LINK = re.compile(r'<link rel="alternate" href="[^"]*" hreflang="[^"]*">\s*')


KATEX_CSS = re.compile(r'<link rel="stylesheet" href="([^"]*)assets/katex/katex\.min\.css">')
# KaTeX CSS classes and the font files they use; the fonts a page needs are preloaded, so they
# download alongside the CSS instead of after layout.
FONT_CLASSES = {
    "KaTeX_Main-Regular": r'class="katex"',
    "KaTeX_Math-Italic": r"\bmathnormal\b",
    "KaTeX_Main-Italic": r"\bmathit\b",
    "KaTeX_Main-Bold": r"\b(mathbf|textbf)\b",
    "KaTeX_AMS-Regular": r"\b(amsrm|mathbb|textbb)\b",
    "KaTeX_Size1-Regular": r"\b(size1|delim-size1|small-op)\b",
    "KaTeX_Size2-Regular": r"\b(size2|large-op)\b",
    "KaTeX_Size3-Regular": r"\bsize3\b",
    "KaTeX_Size4-Regular": r"\b(size4|delim-size4)\b",
    "KaTeX_Caligraphic-Regular": r"\bmathcal\b",
}


def on_post_page(output, page, config):
    # Material fetches "sitemap.xml" next to every <link rel=alternate>; with per-page alternates
    # from mkdocs-static-i18n that is a 404 on every page. The visible language switch (the
    # <a hreflang> links in the header) stays.
    output = ALTERNATE_LINK.sub("", output)
    css = KATEX_CSS.search(output)
    if css and 'class="katex"' in output:
        base = css.group(1) + "assets/katex/fonts/"
        fonts = [name for name, pattern in FONT_CLASSES.items() if re.search(pattern, output)]
        links = "".join(f'<link rel="preload" href="{base}{name}.woff2" as="font" type="font/woff2" crossorigin>'
                        for name in fonts)
        output = output.replace(css.group(0), links + css.group(0), 1)
    return output
