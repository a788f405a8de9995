"""LaTeX for lecture notes: snippets, notation package, notes and slides, compiled in both languages."""

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import mhasym
from mhasym.catalog import registry as catalog
from mhasym.publish import notes as export
from mhasym.publish.words import WORDS
from mhasym.model import notation
from conftest import tokens

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    return {lang: export.export_latex(base / lang, lang, pdf=True) for lang in ("en", "zh")}


def pdftext(path):
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pages(path):
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


@pytest.mark.site  # compiles PDFs with TeX Live
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_files_are_written(exported, lang):
    folder = exported[lang]
    assert sorted(p.name for p in (folder / "formulas").iterdir()) == sorted(f"{f.id}.tex" for f in mhasym.formulas())
    assert sorted(p.name for p in (folder / "derivations").iterdir()) == sorted(f"{d.id}.tex" for d in mhasym.derivations())
    for name in ("mhasym-notation.sty", "notes.tex", "slides.tex", "notes.pdf", "slides.pdf"):
        assert (folder / name).stat().st_size > 0
    assert not list(folder.parent.glob(".mhasym-export-*"))


@pytest.mark.site  # compiles PDFs with TeX Live
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_notes_have_every_section_and_the_seed_entries(exported, lang):
    text = pdftext(exported[lang] / "notes.pdf")
    from mhasym.catalog.derivation import DERIVATIONS_TITLE

    sections = [*list(catalog.SECTIONS.values())[:-1], DERIVATIONS_TITLE, list(catalog.SECTIONS.values())[-1]]
    names = [n[0] if lang == "en" else n[1] for n in sections] + [WORDS[lang]["notation"]]
    contents = text[: text.index("z11")]  # title page and table of contents
    toc = re.findall(r"^(\d+)\s+(\S.*?)\s{2,}\d+\s*$", contents, flags=re.M)
    assert [int(n) for n, _ in toc] == list(range(1, len(names) + 1))
    assert [re.sub(r"\s+", "", t) for _, t in toc] == [re.sub(r"\s+", "", n) for n in names]
    flat = re.sub(r"\s+", "", text)
    for name in names:
        assert re.sub(r"\s+", "", name) in flat, name
    for head in ("z11", "z12", "z13", "z21", "z22", "z23", "z14", "z26"):
        assert head in text
    assert ("max error" if lang == "en" else "最大误差") in text
    for d in mhasym.derivations():  # every derivation with every step's proof
        assert re.sub(r"\s+", "", d.title[lang].split("[[")[0])[:8] in flat, d.id
    assert flat.count(re.sub(r"\s+", "", WORDS[lang]["because"] + ":")) == sum(len(d.steps) for d in mhasym.derivations())


@pytest.mark.site  # compiles PDFs with TeX Live
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_slides_have_one_frame_per_formula_plus_title(exported, lang):
    assert pages(exported[lang] / "slides.pdf") == 1 + len(export.SLIDES) + len(export.FIGURES) + len(mhasym.derivations())
    text = pdftext(exported[lang] / "slides.pdf")
    assert mhasym.formula("seed.concat_2").title[lang].split()[0] in text


@pytest.mark.site  # compiles PDFs with TeX Live
def test_every_snippet_compiles_on_its_own(exported, tmp_path):
    folder = exported["en"]
    shutil.copy(folder / "mhasym-notation.sty", tmp_path)

    def compile_one(f):
        doc = tmp_path / f"{f.id.replace('.', '-')}.tex"
        doc.write_text("\\documentclass{article}\n\\usepackage{mhasym-notation}\n\\begin{document}\n"
                       f"\\[\n\\input{{{(folder / 'formulas' / (f.id + '.tex')).as_posix()}}}\n\\]\n\\end{{document}}\n")
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name], cwd=tmp_path,
                             capture_output=True, text=True, errors="replace")
        return f.id, run.returncode

    with ThreadPoolExecutor(max_workers=2) as pool:
        failed = [fid for fid, code in pool.map(compile_one, mhasym.formulas()) if code != 0]
    assert not failed


def _expand(tex):
    """The snippet with the notation macros replaced by their definitions."""
    for name, (args, body) in notation.LATEX_MACROS.items():
        if args == 0:
            tex = tex.replace("\\" + name, body)
        else:
            while "\\" + name + "{" in tex:
                start = tex.index("\\" + name + "{")
                depth, k = 0, start + len(name) + 1
                for k in range(start + len(name) + 1, len(tex)):
                    depth += {"{": 1, "}": -1}.get(tex[k], 0)
                    if depth == 0:
                        break
                inner = tex[start + len(name) + 2:k]
                tex = tex[:start] + body.replace("#1", inner) + tex[k + 1:]
    return tex


@pytest.mark.parametrize("fid", [f.id for f in mhasym.formulas()])
def test_snippet_is_the_site_formula_with_the_notation_macros(fid):
    f = mhasym.formula(fid)
    body = f.latex_with(notation_macros=True)
    assert tokens(_expand(body)) == tokens(f.latex)


@pytest.mark.site
def test_snippets_parse_in_the_sites_katex_with_the_same_macros():
    macros = {"\\" + name: body for name, (args, body) in notation.LATEX_MACROS.items()}
    from mhasym.publish.katex import KaTeX

    katex = KaTeX(ROOT / "node_modules")
    try:
        answers = katex.render([(f.latex_with(notation_macros=True), True) for f in mhasym.formulas()], macros)
    finally:
        katex.close()
    assert len(answers) == len(mhasym.formulas())
    assert [a["error"] for a in answers if "error" in a] == []


@pytest.mark.site  # compiles PDFs with TeX Live
def test_sty_is_generated_from_the_notation_macros(exported):
    sty = (exported["en"] / "mhasym-notation.sty").read_text()
    for name, (args, body) in notation.LATEX_MACROS.items():
        assert f"\\newcommand{{\\{name}}}" in sty and body in sty


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "mhasym", *args], capture_output=True, text=True, timeout=120,
                          env=env)


@pytest.mark.parametrize("make,args,message", [
    (lambda t: (t / "file").write_text("x"), ["--out", "{t}/file"], "--out {t}/file exists and is not a folder"),
    (lambda t: (t / "file").write_text("x"), ["--out", "{t}/file/sub"], "cannot write to {t}/file/sub: {t}/file is not a folder"),
    (lambda t: None, ["--out", "{t}/x", "--lang", "fr"], "argument --lang: invalid choice: 'fr' (choose from 'en', 'zh')"),
    (lambda t: None, ["--lang", "en"], "the following arguments are required: --out"),
])
def test_bad_arguments_give_one_line_and_exit_2(tmp_path, make, args, message):
    make(tmp_path)
    r = _cli("export", "latex", *[a.format(t=tmp_path) for a in args])
    assert r.returncode == 2 and r.stdout == ""
    assert [ln.replace("'", "") for ln in r.stderr.splitlines()] == \
        [f"mhasym: error: {message.format(t=tmp_path)}".replace("'", "")]
    assert not list(tmp_path.glob(".mhasym-export-*"))


@pytest.mark.site  # compiles PDFs with TeX Live and draws the figures with rsvg-convert
@pytest.mark.parametrize("lang,figure", [("en", "Figure"), ("zh", "图")])
@pytest.mark.parametrize("doc", ["notes", "slides"])
def test_notes_and_slides_hold_the_formula_and_numbered_figures(exported, lang, figure, doc):
    """Both have the scaled dot-product formula and at least four figures (the site's, drawn as PDF), each with a
    numbered caption that the text refers to."""
    folder = exported[lang]
    tex = (folder / f"{doc}.tex").read_text(encoding="utf-8")
    assert r"\input{formulas/attention.sdpa.tex}" in tex
    names = re.findall(r"\\includegraphics\[[^]]*\]\{figures/(\w+)\.pdf\}", tex)
    assert len(names) >= 4 and {"multihead", "concatenation", "architecture", "attention_weights"} <= set(names)
    for name in names:
        assert (folder / "figures" / f"{name}.pdf").stat().st_size > 1000
        assert tex.count(rf"\label{{fig:{name}}}") == 1 and rf"\ref{{fig:{name}}}" in tex
    text = pdftext(folder / f"{doc}.pdf")
    for k in range(1, len(names) + 1):
        assert re.search(rf"{figure}\s*{k}\s*[:：]", text), f"{figure} {k}"
        assert re.search(rf"{figure}\s*{k}(?!\s*[:：])", text.replace(f"{figure} {k}:", "")), f"reference to {figure} {k}"
    if lang == "zh":  # the captions are Chinese
        assert "Figure" not in text and "The attention weights" not in text


def test_slides_define_before_use():
    order = export.SLIDES
    for before, after in [("attention.sdpa", "mha.head"), ("masks.causal_top_left", "tr.decoder_layer"),
                          ("tr.positional_encoding", "tr.encoder_layer"), ("tr.layer_norm", "tr.encoder_layer"),
                          ("tr.ffn", "tr.encoder_layer"), ("tr.decoder_layer", "masks.cross_attention")]:
        assert order.index(before) < order.index(after), (before, after)


def test_missing_rsvg_convert_is_explained(tmp_path, monkeypatch):
    # pdflatex seen as installed (it is asked for first), rsvg-convert as missing
    found = {"pdflatex": "/usr/bin/pdflatex", "rsvg-convert": None}
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: found.get(name, name))
    with pytest.raises(mhasym.MhasymError, match="^rsvg-convert not found; it draws the figures of the notes as PDF: "
                                                 "apt-get install"):
        export.export_latex(tmp_path / "x", "en", pdf=True)
    assert not (tmp_path / "x").exists()


def test_missing_pdflatex_is_explained(tmp_path):
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))
    r = _cli("export", "latex", "--out", str(tmp_path / "x"), "--pdf", env=env)
    assert r.returncode == 2
    assert r.stderr.startswith("mhasym: error: pdflatex not found; install TeX Live: apt-get install")
    assert not (tmp_path / "x").exists()


def test_a_failing_compile_leaves_nothing_half_written(tmp_path, monkeypatch):
    target = tmp_path / "notes"

    def broken(folder, name):
        raise mhasym.MhasymError(f"pdflatex failed on {name}.tex: ! forced")

    monkeypatch.setattr(export, "compile_pdf", broken)
    with pytest.raises(mhasym.MhasymError, match="forced"):
        export.export_latex(target, "en", pdf=True)
    assert not target.exists() and not list(tmp_path.iterdir())


def test_export_into_an_existing_folder_replaces_files(tmp_path):
    target = tmp_path / "notes"
    target.mkdir()
    (target / "notes.tex").write_text("old")
    (target / "mine.txt").write_text("kept")
    export.export_latex(target, "en")
    assert (target / "notes.tex").read_text() != "old" and (target / "mine.txt").read_text() == "kept"
