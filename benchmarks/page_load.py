"""Time until a page's math is rendered, in headless Chromium, three ways in one run:

- the site as built (KaTeX rendered at build time: ready at load + fonts);
- the same page typeset in the browser by MathJax 3 (from the npm package, for this comparison only);
- the same page with its math removed.

Each variant is loaded cold (a new browser context, no cache) ``repeats`` times, interleaved.
"""

from __future__ import annotations

import re
import shutil
import statistics
import tempfile
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
MATHJAX = ROOT / "node_modules" / "mathjax" / "es5"

READY_BUILT = """() => document.fonts.ready.then(() => performance.now())"""
READY_MATHJAX = """() => window.__mathDone"""

MATHJAX_CONFIG = """<script>
window.MathJax = {
  tex: {inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']], packages: {'[-]': ['noerrors', 'noundefined']}},
  options: {ignoreHtmlClass: '.+', processHtmlClass: 'mhasym-math'},
  startup: {pageReady: () => MathJax.startup.defaultPageReady().then(() => document.fonts.ready)
            .then(() => { window.__mathDone = performance.now(); })}
};
</script>
<script src="/assets/mathjax/tex-chtml-full.js"></script>"""


def variants(site: Path, page: str) -> dict:
    """Write the MathJax and math-free copies of ``page`` next to it; returns their URLs (relative)."""
    html = (site / page / "index.html").read_text(encoding="utf-8")
    if "data-tex=" not in html.replace('class="mhasym-copy', ""):
        raise SystemExit(f"{page}: build the site with MHASYM_KEEP_TEX=1 so its formulas keep their TeX")
    for kind in ("mathjax", "nomath", "built"):
        doc = BeautifulSoup(html, "html.parser")
        for el in doc.select(".mhasym-math, .jp-RenderedLatex"):
            tex = el.attrs.pop("data-tex", "")
            if kind == "built":  # the page as shipped: without the TeX kept for this benchmark
                continue
            display = el.get("data-display") == "1" or "jp-RenderedLatex" in el.get("class", [])
            el.clear()
            if kind == "mathjax":
                el.string = (r"\[" + tex + r"\]") if display else (r"\(" + tex + r"\)")
                el["class"] = el.get("class", []) + ["mhasym-math"]
        if kind == "built":
            (site / page / "index.html").write_text(str(doc), encoding="utf-8")
            continue
        for link in doc.find_all("link", href=re.compile("katex")):
            link.decompose()
        for style in doc.find_all("style", id="mhasym-katex-css"):  # the KaTeX rules the built page carries
            style.decompose()
        if kind == "mathjax":
            doc.head.append(BeautifulSoup(MATHJAX_CONFIG, "html.parser"))
        (site / page / f"index.{kind}.html").write_text(str(doc), encoding="utf-8")
    target = site / "assets" / "mathjax"
    if not target.exists():
        shutil.copytree(MATHJAX, target)
    return {"built": f"{page}", "mathjax": f"{page}index.mathjax.html", "nomath": f"{page}index.nomath.html"}


def measure(site: Path, pages=("multihead/", "mistakes/"), repeats: int = 5) -> dict:
    """Median milliseconds until math is ready, per page and variant."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from playwright.sync_api import sync_playwright

    from site_support import Server

    work = Path(tempfile.mkdtemp(prefix="mhasym-bench-")) / "site"
    shutil.copytree(site, work)
    results = {}
    with Server(work) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for page in pages:
            urls = variants(work, page)
            times = {k: [] for k in urls}
            for _ in range(repeats):
                for kind, rel in urls.items():
                    context = browser.new_context()
                    tab = context.new_page()
                    tab.goto(server.url + rel, wait_until="load")
                    if kind == "mathjax":
                        tab.wait_for_function("() => window.__mathDone !== undefined", timeout=60000)
                        ready = tab.evaluate(READY_MATHJAX)
                        assert tab.locator("mjx-container").count() > 0, "MathJax rendered nothing"
                    else:
                        ready = tab.evaluate(READY_BUILT)
                    times[kind].append(ready)
                    context.close()
            results[page] = {k: statistics.median(v) for k, v in times.items()}
        browser.close()
    shutil.rmtree(work.parent, ignore_errors=True)
    return results
