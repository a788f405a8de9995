"""Every page of both languages, opened in headless Chromium as a reader sees it."""

import re
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from site_support import Server, pages

pytestmark = [pytest.mark.site, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
RAW_TEX = re.compile(r"\\\[|\\\(|\$\$|\\begin\{|\\frac\{")

# What the page looks like to a reader: problems found in the browser, as one list.
INSPECT = """() => {
  const problems = [];
  for (const el of document.querySelectorAll('.katex')) {
    const box = el.getBoundingClientRect();
    if (box.width <= 0 || box.height <= 0) problems.push('math with no size: ' + el.textContent.slice(0, 40));
  }
  if (document.querySelector('.katex-error')) problems.push('KaTeX error element');
  for (const img of document.images) {
    if (!img.complete || img.naturalWidth === 0) problems.push('image not loaded: ' + img.src);
  }
  const article = document.querySelector('article') || document.body;
  const clone = article.cloneNode(true);
  clone.querySelectorAll('code, pre, script, style, .katex-mathml, annotation').forEach(e => e.remove());
  return {problems, text: clone.innerText,
          links: [...document.querySelectorAll('a[href]')].map(a => a.href),
          alternates: [...document.querySelectorAll('a[hreflang]')].map(a => [a.hreflang, a.href])};
}"""


# what scrolling through the whole page does: every section laid out, every formula drawn
DRAW_ALL = """() => { if (window.mhasymDrawAll) mhasymDrawAll();
                      document.documentElement.classList.add('mhasym-laid-out'); }"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                              "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(built_site):
    with Server(built_site) as s:
        yield s


def _open(browser, url, width=1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors, outside = [], []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="load")
    return context, page, errors, outside


def test_every_page_as_a_reader_sees_it(browser, server, built_site):
    checked_links, failures = {}, []
    for rel in pages(built_site):
        context, page, errors, outside = _open(browser, server.url + rel)
        # figures load lazily and later sections' math is drawn when a reader scrolls near them: load and draw
        # everything now, as scrolling would
        page.evaluate(DRAW_ALL)
        page.evaluate("""() => Promise.all([...document.images].map(img => {
            img.loading = "eager";
            return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
        }))""")
        info = page.evaluate(INSPECT)
        context.close()
        where = "/" + rel
        failures += [f"{where}: {p}" for p in info["problems"] + errors]
        failures += [f"{where}: request outside 127.0.0.1: {u}" for u in outside]
        raw = RAW_TEX.search(info["text"])
        if raw:
            failures.append(f"{where}: raw TeX in visible text: {raw.group(0)}")
        for link in info["links"]:
            target = urljoin(link, urlparse(link).path)
            if urlparse(target).hostname == "127.0.0.1" and target not in checked_links:
                try:
                    checked_links[target] = urllib.request.urlopen(target, timeout=10).status
                except Exception as exc:  # noqa: BLE001
                    checked_links[target] = str(exc)
                if checked_links[target] != 200:
                    failures.append(f"{where}: broken link {target}: {checked_links[target]}")
        # the language switch leads to the same page in the other language
        other = dict(info["alternates"])
        want = server.url + (rel[3:] if rel.startswith("zh/") else "zh/" + rel)
        lang = "en" if rel.startswith("zh/") else "zh"
        if other.get(lang) != want:
            failures.append(f"{where}: language switch to {lang} goes to {other.get(lang)}, not {want}")
    assert not failures, "\n".join(failures[:30])
    assert len(checked_links) > 20


AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                                    resultTypes: ['violations']})"""


def test_axe_finds_no_serious_violation_on_any_page(browser, server, built_site):
    """axe-core (WCAG 2.1 A and AA, from node_modules: nothing is fetched from outside) on every page of both
    languages, in the light and then the dark colour scheme (the palette follows the system's)."""
    assert AXE.is_file(), f"axe-core is not installed: {AXE} is missing (run `npm ci`)"
    script = AXE.read_text(encoding="utf-8")
    context = browser.new_context(color_scheme="light", viewport={"width": 1280, "height": 900})
    found, checked = [], 0
    for rel in pages(built_site):
        page = context.new_page()
        page.goto(server.url + rel, wait_until="load")
        page.add_script_tag(content=script)
        # every formula block laid out (as before a jump to a section): Chromium keeps the styles of blocks
        # still off screen from before a scheme switch, which is not what a reader scrolling to them sees
        page.evaluate("() => document.documentElement.classList.add('mhasym-laid-out')")
        for scheme, material in (("light", "default"), ("dark", "slate")):
            page.emulate_media(color_scheme=scheme)
            page.wait_for_function(f"() => document.body.getAttribute('data-md-color-scheme') === '{material}'")
            page.wait_for_timeout(400)  # Material's colour transitions (125 ms) end before axe reads colours
            for v in page.evaluate(AXE_RUN)["violations"]:
                if v["impact"] in ("serious", "critical"):
                    found += [f"/{rel} ({scheme}) {v['id']}: {n['target']} {n.get('failureSummary', '')[:160]!r}"
                              for n in v["nodes"]]
            checked += 1
        page.close()
    context.close()
    assert checked >= 2 * 28
    assert not found, f"{len(found)} serious or critical violations:\n" + "\n".join(found[:20])


@pytest.mark.parametrize("rel", ["", "multihead/", "mistakes/", "transformer/", "notation/", "zh/multihead/",
                                 "zh/mistakes/", "notebooks/attention_numbers/"])
def test_phone_width_has_no_horizontal_overflow(browser, server, rel):
    context, page, errors, _ = _open(browser, server.url + rel, width=375)
    page.evaluate(DRAW_ALL)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    context.close()
    assert overflow <= 1, f"/{rel} is {overflow}px wider than a 375px screen"


@pytest.mark.parametrize("rel", ["mistakes/", "zh/multihead/"])
def test_later_math_is_drawn_when_a_reader_scrolls_to_it(browser, server, rel):
    """Math on the first screen is drawn on load; later sections' math waits (its words are there) and is put
    in place as the reader scrolls; at the bottom every formula is drawn and has a size."""
    context, page, errors, _ = _open(browser, server.url + rel)
    waiting = "noscript.mhasym-held"
    first_screen = page.evaluate("""() => [...document.querySelectorAll('.mhasym-rendered')]
        .filter(m => { const r = m.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; })
        .map(m => [m.querySelector('.katex-html') !== null, m.getBoundingClientRect().width])""")
    assert first_screen and all(drawn and width > 0 for drawn, width in first_screen)
    assert page.locator(waiting).count() > 0
    for _ in range(200):
        if page.locator(waiting).count() == 0:
            break
        page.mouse.wheel(0, 800)
        page.wait_for_timeout(50)
    assert page.locator(waiting).count() == 0
    sizes = page.evaluate("() => [...document.querySelectorAll('.katex')].map(k => k.getBoundingClientRect().width)")
    context.close()
    assert sizes and min(sizes) > 0 and not errors


def test_without_javascript_every_formula_is_drawn(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url + "mistakes/", wait_until="load")
    sizes = page.evaluate("""() => [...document.querySelectorAll('.mhasym-rendered')]
        .map(m => [m.classList.contains('mhasym-deferred'), m.querySelector('.katex-html')?.getBoundingClientRect().width || 0])""")
    context.close()
    assert sum(deferred for deferred, _ in sizes) > 20 and min(width for _, width in sizes) > 0


def test_copy_button_copies_the_catalog_tex(browser, server):
    import mhasym

    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(server.url + "multihead/")
    page.click('[data-formula-id="seed.concat_2"] .mhasym-copy')
    copied = page.evaluate("() => navigator.clipboard.readText()")
    label = page.text_content('[data-formula-id="seed.concat_2"] .mhasym-copy')
    context.close()
    assert copied == mhasym.formula("seed.concat_2").latex
    assert label == "copied"


def test_check_mark_opens_what_was_compared(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "zh/attention/")
    details = page.locator('[data-formula-id="attention.sdpa"] details.mhasym-check')
    assert not details.locator("p").is_visible()
    details.locator("summary").click()
    text = details.locator("p").inner_text()
    context.close()
    assert "reference.scaled_dot_product_attention" in text and "最大误差" in text


@pytest.mark.parametrize("query,page", [("多头注意力", "zh/"), ("缩放点积", "zh/"), ("参数", "zh/"), ("层标准化", "zh/"),
                                        ("concatenation", ""), ("subspace", "")])
def test_search_finds_chinese_and_english_terms_offline(browser, server, query, page):
    context, tab, errors, outside = _open(browser, server.url + page)
    tab.click("label.md-search__icon, .md-search__input")
    tab.fill("input.md-search__input", query)
    tab.keyboard.press("End")  # a key press after typing, as a reader would; Chinese input needs it
    tab.wait_for_selector(".md-search-result__item", timeout=15000)
    results = tab.locator(".md-search-result__item").count()
    snippet_text = tab.locator(".md-search-result").inner_text()
    context.close()
    assert results > 0
    assert not RAW_TEX.search(snippet_text)
    assert not outside and not errors


@pytest.mark.parametrize("rel,width", [("mistakes/#tests-that-only-compare-shapes", 375),
                                       ("mistakes/#conventions-that-differ-from-the-paper-or-its-sources", 1280),
                                       ("zh/transformer/#_4", 375)])
def test_a_link_to_a_section_lands_on_it(browser, server, rel, width):
    context, page, errors, _ = _open(browser, server.url + rel, width=width)
    page.wait_for_timeout(300)
    anchor = rel.split("#")[1]
    top = page.evaluate(f"() => document.getElementById({anchor!r}).getBoundingClientRect().top")
    context.close()
    assert 0 <= top <= 200, f"/{rel} at {width}px: the section's heading is {top:.0f}px from the top"
    assert not errors
