"""HTML of the site's blocks: a formula with its check mark, catalog prose, the notation and checks tables.

Math is written as ``<div class="mhasym-math">TeX</div>`` (``<span>`` inline); the plugin's KaTeX pass
turns it into HTML at build time.

>>> from mhasym.catalog.checks import CheckResult
>>> check_html(CheckResult("x", "numeric", "a vs b", True), "en")[:39]
'<details class="mhasym-check"><summary>'

"""

from __future__ import annotations

import html

from mhasym.catalog import registry as catalog
from mhasym.catalog.text import pieces
from mhasym.model import notation
from mhasym.publish.words import WORDS, badge, facts, kind_name, mistake_kind, mutant_words, said


def math(tex: str, display: bool, speech: str) -> str:
    """Math for the KaTeX pass: its TeX, and the words a screen reader says for it (the plugin makes them
    the ``aria-label``)."""
    kind = "div" if display else "span"
    return (f'<{kind} class="mhasym-math" data-display="{int(display)}" data-speech="{html.escape(speech, quote=True)}">'
            f'{html.escape(tex)}</{kind}>')


def check_html(result, lang: str, wrong: bool = False, convention: bool = False) -> str:
    """A check result as the folded mark under its formula: the kill count on the mark, the facts inside. A wrong
    version is marked ✗, another convention ≠ (the check tells it apart from the paper's formula)."""
    words = WORDS[lang]
    parts = [f"<b>{kind_name(result, lang)}</b>{words['colon']}{html.escape(said(result.compared, lang))}"]
    parts += [html.escape(p) for p in facts(result, lang, mutants=wrong)]
    mark = (f"≠ {words['told_apart']}" if convention else f"✗ {words['rejected']}") if wrong else f"✓ {words['checked']}"
    if result.mutants is not None and not wrong:
        mark += f" · {html.escape(mutant_words(lang, *result.mutants))}"
    return f'<details class="mhasym-check"><summary>{mark}</summary><p>{words["semicolon"].join(parts)}</p></details>'


def text_html(text: str, lang: str) -> str:
    """Prose from the catalog, its ``[[symbol]]`` markers as inline math and its `code` as code."""
    show = {"text": html.escape, "symbol": lambda p: inline_math(p, lang),
            "code": lambda p: f"<code>{html.escape(p)}</code>"}
    return "".join(show[kind](p) for kind, p in pieces(text))


def inline_math(name: str, lang: str) -> str:
    """An inline mention of a formula id or a symbol (a ``[[name]]`` marker), with its words in ``lang``."""
    return math(catalog.inline(name), False, catalog.inline_speech(name, lang))


def formula_html(f, result, lang: str) -> str:
    """One formula: caption with its id, the display, its check mark, a copy button and its description."""
    words = WORDS[lang]
    wrong = f.right is not None
    label = badge(f, lang)
    convention = mistake_kind(f) == "convention"  # another convention is not an error: a neutral mark, no ✗
    mark = check_html(result, lang, wrong, convention) if result is not None else ""
    badge_html = (f'<span class="mhasym-wrong-badge">{"≠" if convention else "✗"} {label}</span> ' if label else "")
    return (
        f'<div class="mhasym-formula{" mhasym-wrong" if wrong else ""}{" mhasym-convention" if convention else ""}" '
        f'id="formula-{f.id}" data-formula-id="{f.id}">'
        f'<div class="mhasym-caption">{badge_html}{text_html(f.title[lang], lang)} <code class="mhasym-id">{f.id}</code></div>'
        f'<div class="mhasym-display" tabindex="0" data-search-exclude>{math(f.latex, True, f.speech(lang))}</div>'
        f'<div class="mhasym-meta">{mark}'
        f'<button class="mhasym-copy md-button" type="button" data-tex="{html.escape(f.latex, quote=True)}" '
        f'data-copied="{words["copied"]}">{words["copy"]}</button></div>'
        f'<p class="mhasym-description">{text_html(f.description[lang], lang)}</p>'
        f"</div>"
    )


def derivation_html(d, result, scores, lang: str, figure: str = "") -> str:
    """A derivation: its setting, each step (display, why, proof mark with the wrong versions its proof
    rejects), comparisons with numbers, its result and a copy button with the whole chain in TeX.
    ``result`` and ``scores`` may be None (a preview without checks)."""
    words = WORDS[lang]
    rows = []
    for k, step in enumerate(d.steps, 1):
        tex = d.shown(k)
        mark = ""
        if result is not None:
            proof = result.steps[k - 1]
            symbol = "✓ " + words["proven"] if proof.passed else "✗ " + words["not_proven"]
            if scores is not None:
                s = scores[k - 1]
                symbol += " · " + html.escape(mutant_words(lang, s.killed, s.built, len(s.equivalent)))
            mark = (f'<details class="mhasym-check"><summary>{symbol}</summary>'
                    f'<p>{html.escape(said(proof.how or proof.error, lang))}</p></details>')
        rows.append(f'<li class="mhasym-step" value="{k}"><div class="mhasym-display" tabindex="0" data-search-exclude>'
                    f'{math(tex, True, d.spoken(k, lang))}</div><p class="mhasym-why"><b>{words["because"]}{words["colon"]}</b>'
                    f'{text_html(step.why[lang], lang)}</p>{mark}</li>')
    numbers = ""
    if result is not None and result.numbers:
        numbers = "".join(f'<p class="mhasym-numbers">{"✓" if ok else "✗"} {words["numbers"]}{words["colon"]}{html.escape(said(what, lang))}</p>'
                          for ok, what in result.numbers)
    whole = d.aligned()
    return (
        f'<div class="mhasym-derivation" id="{d.id}" data-derivation-id="{d.id}">'
        f'<p class="mhasym-setting"><b>{words["setting"]}{words["colon"]}</b>{text_html(d.setting[lang], lang)}</p>'
        f'<ol class="mhasym-steps">{"".join(rows)}</ol>{numbers}'
        f'<p class="mhasym-result"><b>{words["result"]}{words["colon"]}</b>{text_html(d.result[lang], lang)}</p>{figure}'
        f'<div class="mhasym-meta"><code class="mhasym-id">{d.id}</code> '
        f'<button class="mhasym-copy md-button" type="button" data-tex="{html.escape(whole, quote=True)}" '
        f'data-copied="{words["copied"]}">{words["copy"]}</button></div></div>'
    )


def exercise_html(ex, number: int, result, lang: str) -> str:
    """An exercise: its number and question, and the answer folded under it with the check of that answer."""
    from mhasym.printing.latex import latex
    from mhasym.printing.speech import speech

    words = WORDS[lang]
    answer = ex.answer(ex.value)
    shown = math(latex(answer.math), True, speech(answer.math, lang)) if answer.math is not None else ""
    mark = ""
    if result is not None:
        symbol = "✓ " + words["checked"] if result.passed else "✗ " + words["rejected"]
        mark = f'<p class="mhasym-answer-check">{symbol}{words["colon"]}{html.escape(said(result.compared, lang))}</p>'
    return (f'<div class="mhasym-exercise" id="{ex.id}" data-exercise-id="{ex.id}">'
            f'<p><b>{words["exercise"]} {number}.</b> {text_html(ex.question[lang], lang)}</p>'
            f'<details class="mhasym-answer"><summary>{words["answer"]}</summary>'
            f'<p>{text_html(answer.text[lang], lang)}</p>{shown}{mark}</details></div>')


def glossary_table(lang: str) -> str:
    """The bilingual glossary (:data:`mhasym.catalog.terms.TERMS`): term, Chinese, symbol, the page met first."""
    from mhasym.catalog.derivation import DERIVATIONS_TITLE
    from mhasym.catalog.terms import TERMS

    words = WORDS[lang]
    titles = {**{k: v for k, v in catalog.SECTIONS.items()}, "derivations": DERIVATIONS_TITLE}
    rows = []
    for t in TERMS:
        symbol = inline_math(t.symbol, lang) if t.symbol else "—"
        title = titles[t.page][0 if lang == "en" else 1]
        rows.append(f"<tr><td><p>{html.escape(t.en)}</p></td><td><p>{html.escape(t.zh)}</p></td>"
                    f"<td data-search-exclude>{symbol}</td>"
                    f'<td><p><a href="../{t.page}/">{html.escape(title)}</a></p></td></tr>')
    return _scroll(f'<table class="mhasym-glossary"><thead><tr><th>{words["term_en"]}</th><th>{words["term_zh"]}</th>'
                   f'<th>{words["symbol"]}</th><th>{words["first_page"]}</th></tr></thead><tbody>{"".join(rows)}</tbody>'
                   f'</table>', words["glossary"])


def notation_table(lang: str) -> str:
    words = WORDS[lang]
    rows = []
    for key, shape, en, zh in notation.GLOSSARY:
        shape_tex = "" if shape is None else catalog.shape_tex(shape)
        shape_math = math(shape_tex, False, catalog.shape_speech(shape, lang)) if shape_tex else "—"
        rows.append(f"<tr><td data-search-exclude>{inline_math(key, lang)}</td>"
                    f"<td data-search-exclude>{shape_math}</td>"
                    f"<td><p>{text_html(en if lang == 'en' else zh, lang)}</p></td></tr>")
    return _scroll(f'<table class="mhasym-notation"><thead><tr><th>{words["symbol"]}</th><th>{words["shape"]}</th>'
                   f'<th>{words["meaning"]}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>', words["notation"])


def _scroll(table: str, label: str) -> str:
    """A wide table in a region that scrolls sideways on a narrow screen (focusable, so a keyboard scrolls it too)."""
    return f'<div class="mhasym-scroll" role="region" tabindex="0" aria-label="{html.escape(label)}">{table}</div>'



def checks_table(results: dict, lang: str) -> str:
    """Per section: how many formulas, checked how (``results`` maps ids to check results)."""
    words = WORDS[lang]
    rows = []
    for section, names in catalog.SECTIONS.items():
        entries = catalog.formulas(section)
        kinds = {}
        for f in entries:
            name = kind_name(results[f.id], lang)
            kinds[name] = kinds.get(name, 0) + 1
        kind_text = words["comma"].join(f"{k} {v}" for k, v in kinds.items())
        counts = [results[f.id].mutants for f in entries if results[f.id].mutants and results[f.id].kind != "caught"]
        if counts:
            kind_text += words["semicolon"] + mutant_words(lang, *(sum(c[k] for c in counts) for k in range(3)))
        rows.append(f"<tr><td>{html.escape(names[0] if lang == 'en' else names[1])}</td><td>{len(entries)}</td>"
                    f"<td>{html.escape(kind_text)}</td></tr>")
    return _scroll(f'<table class="mhasym-checks"><thead><tr><th>{words["section"]}</th><th>{words["formulas"]}</th>'
                   f'<th>{words["kinds"]}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>', words["kinds"])


__all__ = ["check_html", "checks_table", "derivation_html", "formula_html", "math", "notation_table", "text_html"]
