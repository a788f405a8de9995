"""LaTeX for lecture notes: one snippet per catalog formula, a notation package, an article
with every section and formula, and Beamer slides of the multi-head attention part.

Everything is written to a temporary folder next to the target and moved into place at the
end, so a failure leaves nothing half-written.

Snippets are formula bodies: use them inside a display, ``\\[ \\input{formulas/ID.tex} \\]``, or
inside your own ``equation`` or ``align`` environment (give the ``.tex`` suffix: ids contain dots).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mhasym.catalog import registry as catalog
from mhasym.catalog.text import Text, pieces
from mhasym.model import notation
from mhasym.errors import MhasymError
from mhasym.publish.words import WORDS, badge, facts, kind_name, said

STY = "mhasym-notation"
TEX_INSTALL = ("apt-get install -y --no-install-recommends texlive-latex-base texlive-latex-recommended "
               "texlive-pictures latex-cjk-chinese latex-cjk-chinese-arphic-gbsn00lp")

# In the order that defines everything before it is used: where Q, K, V come from and one head, then many
# heads, masks, the parts of a layer (embedding, positional encoding, LayerNorm, FFN, residual), then the layers.
SLIDES = [
    "attention.projections", "attention.sdpa", "attention.weights", "attention.shapes",
    "mha.head", "seed.head_1", "seed.head_2", "seed.concat_2", "seed.head_i", "seed.concat_h", "seed.shape_h",
    "seed.shape_100", "mha.paper_heads", "mha.multihead", "mha.weights", "id.concat_wo",
    "masks.causal_top_left", "attention.masked",
    "tr.embedding", "tr.positional_encoding", "tr.layer_norm", "tr.ffn", "tr.residual_post",
    "tr.encoder_layer", "tr.decoder_layer", "masks.cross_attention", "tr.encoder_stack", "tr.decoder_stack",
]

# Figures of the notes and slides: the site's figures (drawn from the model's numbers), each placed after the
# formula it illustrates, with a numbered caption that the text refers to.
FIGURES = [
    ("attention_weights", "attention.weights", Text("Attention weights of two heads", "两个头的注意力权重"),
     Text("The attention weights [[A]] of two heads, computed by mhasym.numeric for 5 random queries and 7 random "
          "keys (fixed seed): every row is a softmax and sums to 1.",
          "两个头的注意力权重 [[A]]：由 mhasym.numeric 对 5 个随机查询和 7 个随机键（固定随机种子）计算得到；"
          "每一行是一个 softmax，和为 1。")),
    ("concatenation", "seed.concat_2", Text("Two heads side by side", "两个头左右拼接"),
     Text("The lecture notebook's example: two head outputs [[Z:1]] and [[Z:2]] of shape 2 × 3 side by side give "
          "a 2 × 6 matrix.",
          "课程笔记中的例子：两个形状为 2 × 3 的头输出 [[Z:1]] 和 [[Z:2]] 左右拼接，得到 2 × 6 的矩阵。")),
    ("multihead", "mha.multihead", Text("Multi-head attention", "多头注意力"),
     Text("Multi-head attention with h = 8 heads: every head has its own [[W_Q:i]], [[W_K:i]], [[W_V:i]]; the "
          "outputs are concatenated and multiplied by [[W_O]].",
          "h = 8 个头的多头注意力：每个头有自己的 [[W_Q:i]]、[[W_K:i]]、[[W_V:i]]；各头的输出拼接后乘以 [[W_O]]。")),
    ("architecture", "tr.residual_post", Text("The Transformer", "Transformer 的结构"),
     Text("The Transformer of the paper: N = 6 encoder layers (self-attention, feed-forward network) and N = 6 "
          "decoder layers (masked self-attention, attention over the encoder output, feed-forward network), "
          "each sublayer followed by Add & LayerNorm.",
          "论文中的 Transformer：N = 6 个编码器层（自注意力、前馈网络）和 N = 6 个解码器层（带掩码的自注意力、"
          "对编码器输出的交叉注意力、前馈网络），每个子层之后是残差连接与层标准化。")),
]
FIGURE_AFTER = {fid: name for name, fid, _, _ in FIGURES}
FIGURE_INSTALL = "apt-get install -y --no-install-recommends librsvg2-bin fonts-noto-cjk"


_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
            "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            # characters that the default OT1 text fonts lack: set them as math
            "<": r"\(<\)", ">": r"\(>\)", "≤": r"\(\le\)", "≥": r"\(\ge\)", "≠": r"\(\ne\)",
            "×": r"\(\times\)", "−": r"\(-\)", "²": r"\(^{2}\)", "δ": r"\(\delta\)", "ω": r"\(\omega\)",
            "∘": r"\(\circ\)", "⊙": r"\(\odot\)", "Σ": r"\(\Sigma\)", "√": r"\(\surd\)", "∞": r"\(\infty\)"}


def escape(text: str) -> str:
    """Plain text for LaTeX: special characters escaped."""
    return "".join(_SPECIAL.get(c, c) for c in text)


def prose(text: str) -> str:
    """Catalog prose for LaTeX: text escaped, ``[[symbol]]`` markers as inline math, `code` in typewriter type."""
    show = {"text": escape, "symbol": lambda p: rf"\({catalog.inline(p)}\)", "code": lambda p: rf"\texttt{{{escape(p)}}}"}
    return "".join(show[kind](p) for kind, p in pieces(text))


def sty() -> str:
    """The notation package: packages the snippets need and the macros a lecturer may restyle."""
    lines = [
        r"\NeedsTeXFormat{LaTeX2e}",
        rf"\ProvidesPackage{{{STY}}}[2026/11/27 mhasym notation]",
        r"\RequirePackage{amsmath,amssymb,graphicx}",
        r"\setcounter{MaxMatrixCols}{20}",
        "% Restyle here: the transpose sign and the delimiters of explicit matrices.",
    ]
    for name, (args, body) in notation.LATEX_MACROS.items():
        lines.append(rf"\newcommand{{\{name}}}" + (f"[{args}]" if args else "") + f"{{{body}}}")
    lines += [
        "% A display that shrinks to the line width when a formula is wider.",
        r"\newsavebox{\mhbox}",
        r"\newlength{\mhwidth}",
        r"\newcommand{\mhdisplay}[1]{\par\smallskip\noindent\sbox{\mhbox}{$\displaystyle #1$}%",
        r"  \setlength{\mhwidth}{\linewidth}\ifdim\textwidth<\mhwidth\setlength{\mhwidth}{\textwidth}\fi",
        r"  \centerline{\ifdim\wd\mhbox>\mhwidth\resizebox{\mhwidth}{!}{\usebox{\mhbox}}"
        r"\else\usebox{\mhbox}\fi}\par\smallskip}",
        r"\endinput",
    ]
    return "\n".join(lines) + "\n"


def snippet(f, lang: str) -> str:
    return (f"% mhasym formula {f.id}: {f.title.plain(lang)}\n"
            f"% Use inside a display or an equation/align environment: \\[ \\input{{formulas/{f.id}.tex}} \\]\n"
            f"% Needs \\usepackage{{{STY}}}.\n"
            f"{f.latex_with(notation_macros=True)}\n")


def derivation_snippet(d, lang: str) -> str:
    return (f"% mhasym derivation {d.id}: {d.title.plain(lang)}\n"
            f"% Use inside a display: \\[ \\input{{derivations/{d.id}.tex}} \\]  (needs \\usepackage{{{STY}}})\n"
            f"{d.aligned(notation_macros=True)}\n")


def _derivations(lang: str, proofs: dict) -> list:
    """The notes' section of derivations: setting, each step with why and how it was proven, result."""
    from mhasym.catalog.derivation import DERIVATIONS_TITLE, derivations

    w = WORDS[lang]
    body = [rf"\section{{{escape(DERIVATIONS_TITLE[0] if lang == 'en' else DERIVATIONS_TITLE[1])}}}"]
    for d in derivations():
        result = proofs[d.id]
        body += [rf"\subsection*{{{prose(d.title[lang])}}}", rf"\textbf{{{escape(w['setting'])}:}} {prose(d.setting[lang])}",
                 r"\begin{enumerate}"]
        for k, step in enumerate(d.steps, 1):
            proof = result.steps[k - 1]
            tex = d.shown(k, notation_macros=True)
            body += [rf"\item \mhdisplay{{{tex}}}", rf"\textit{{{escape(w['because'])}:}} {prose(step.why[lang])}\\",
                     rf"{{\footnotesize\textit{{{_cap(w['proven'])}}} --- {escape(said(proof.how, lang))}}}"]
        body.append(r"\end{enumerate}")
        for ok, what in result.numbers:
            body.append(rf"{{\footnotesize\textit{{{_cap(w['numbers'])}}} --- {escape(said(what, lang))}}}\par")
        body += [rf"\textbf{{{escape(w['result'])}:}} {prose(d.result[lang])}", ""]
    return body


def figure_reference(name: str, lang: str) -> str:
    """The sentence in the text that points at a figure: "See Figure 2." / "见图 2。"."""
    if lang == "en":
        return rf"See Figure~\ref{{fig:{name}}}."
    return rf"见图~\ref{{fig:{name}}}。"


def figure_float(name: str, caption: Text, lang: str, slide: bool = False) -> list:
    """A figure: the PDF drawn from the site's SVG (or, when it could not be drawn, a box saying how to draw it),
    with its numbered caption."""
    size = r"width=\textwidth,height=0.72\textheight,keepaspectratio" if slide else r"width=0.9\linewidth"
    missing = escape(f"figures/{name}.svg: convert it to PDF with rsvg-convert")
    return [r"\begin{figure}[htbp]" if not slide else r"\begin{figure}", r"\centering",
            rf"\IfFileExists{{figures/{name}.pdf}}{{\includegraphics[{size}]{{figures/{name}.pdf}}}}"
            rf"{{\fbox{{\footnotesize {missing}}}}}",
            rf"\caption{{{prose(caption[lang])}}}\label{{fig:{name}}}", r"\end{figure}"]


def write_figures(folder: Path, lang: str, need_pdf: bool) -> None:
    """figures/NAME.svg for every figure of the notes and slides, and NAME.pdf through rsvg-convert (librsvg)
    when it is installed; ``need_pdf`` makes its absence an error."""
    from mhasym.publish import figures

    drawn = figures.all_figures(lang)
    (folder / "figures").mkdir(exist_ok=True)
    exe = shutil.which("rsvg-convert")
    if exe is None and need_pdf:
        raise MhasymError(f"rsvg-convert not found; it draws the figures of the notes as PDF: {FIGURE_INSTALL}")
    for name, _, _, _ in FIGURES:
        svg = folder / "figures" / f"{name}.svg"
        svg.write_text(drawn[name], encoding="utf-8")
        if exe is not None:
            run = subprocess.run([exe, "-f", "pdf", "-o", str(svg.with_suffix(".pdf")), str(svg)],
                                 capture_output=True, text=True, timeout=120)
            if run.returncode != 0:
                raise MhasymError(f"rsvg-convert failed on {svg.name}: {(run.stderr or 'no message').splitlines()[0]}")


def check_line(result, lang: str) -> str:
    """A check result in LaTeX, under its formula in the notes."""
    w = WORDS[lang]
    parts = [f"{kind_name(result, lang)}{w['colon']}{escape(said(result.compared, lang))}"] + [escape(p) for p in facts(result, lang)]
    return rf"{{\footnotesize\textit{{{_cap(w['checked'])}}} --- " + w["semicolon"].join(parts) + "}"


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def _preamble(cls: str, lang: str, options: str = "") -> list:
    lines = [rf"\documentclass{options}{{{cls}}}"]
    if cls == "article":
        lines += [r"\usepackage[margin=2.2cm]{geometry}", r"\usepackage{longtable,array}"]
    else:
        lines.append(r"\usefonttheme[onlymath]{serif}")  # upright names in formulas match the math
    lines += [rf"\usepackage{{{STY}}}"]
    if cls == "beamer":
        lines.append(r"\setbeamertemplate{caption}[numbered]")
    if lang == "zh":
        lines.append(r"\usepackage{CJKutf8}")
    return lines


def _body(lang: str, lines: list) -> list:
    if lang == "zh":
        return [r"\begin{CJK}{UTF8}{gbsn}", r"\renewcommand{\contentsname}{目录}", r"\renewcommand{\figurename}{图}",
                *lines, r"\end{CJK}"]
    return lines


def notes(lang: str, results: dict, proofs: dict | None = None) -> str:
    """An article: the site's sections in order, every formula followed by what its check compared; the
    derivations (``proofs``: {id: DerivationResult}) before the common mistakes."""
    w = WORDS[lang]
    body = [rf"\title{{{escape(w['title'])}}}", rf"\author{{{escape(w['subtitle'])}}}", r"\date{}", r"\maketitle",
            r"\tableofcontents"]
    for section, names in catalog.SECTIONS.items():
        if section == "mistakes" and proofs is not None:
            body += _derivations(lang, proofs)
        body.append(rf"\section{{{escape(names[0] if lang == 'en' else names[1])}}}")
        for f in catalog.formulas(section):
            title = prose(f.title[lang])
            if badge(f, lang):
                title = rf"{escape(_cap(badge(f, lang)))}: {title}"
            body += [rf"\subsection*{{{title}}}", prose(f.description[lang]),
                     rf"\mhdisplay{{\input{{formulas/{f.id}.tex}}}}", check_line(results[f.id], lang), ""]
            if f.id in FIGURE_AFTER:
                name = FIGURE_AFTER[f.id]
                caption = next(c for n, _, _, c in FIGURES if n == name)
                body += [figure_reference(name, lang), *figure_float(name, caption, lang), ""]
    # a table over pages, its meanings wrapped in a column of the line's width
    body += [rf"\section{{{escape(w['notation'])}}}", r"\begin{longtable}{l l >{\raggedright\arraybackslash}p{0.55\linewidth}}",
             rf"\textbf{{{_cap(w['symbol'])}}} & \textbf{{{_cap(w['shape'])}}} & \textbf{{{_cap(w['meaning'])}}} \\ \hline \endhead"]
    for key, shape, en, zh in notation.GLOSSARY:
        size = "" if shape is None else rf"\({catalog.shape_tex(shape)}\)"
        body.append(rf"\({catalog.inline(key)}\) & {size} & {prose(en if lang == 'en' else zh)} \\")
    body.append(r"\end{longtable}")
    return "\n".join(_preamble("article", lang, "[11pt,a4paper]") + [r"\begin{document}"] + _body(lang, body)
                     + [r"\end{document}", ""])


def _slide_display(f) -> list:
    """A formula on a slide at a readable size: several relations (a group) one per line rather than shrunk
    into one, a single formula from its snippet."""
    from mhasym.model.expressions import Group

    if isinstance(f.expr, Group) and len(f.expr.args) > 1:
        from mhasym.printing.latex import latex

        rows = [latex(item, notation_macros=True) for item in f.expr.args]
        return [r"{\large", *(rf"\mhdisplay{{{row}}}" for row in rows), "}"]
    return [rf"{{\large\mhdisplay{{\input{{formulas/{f.id}.tex}}}}}}"]


def slides(lang: str) -> str:
    """Beamer slides of the multi-head attention part: heads, Z_i, concatenation, W^O, encoder and decoder."""
    w = WORDS[lang]
    body = [rf"\title{{{escape(w['slides'])}}}", rf"\subtitle{{{escape(w['subtitle'])}}}", r"\date{}",
            r"\begin{frame}\titlepage\end{frame}"]
    for fid in SLIDES:
        f = catalog.formula(fid)
        # [shrink]: a frame whose text would run off the slide is scaled to fit it, only then
        body += [rf"\begin{{frame}}[shrink=2]{{{prose(f.title[lang])}}}", *_slide_display(f), r"\medskip",
                 rf"{{\small {prose(f.description[lang])}}}"]
        name = FIGURE_AFTER.get(fid)
        if name is not None:
            body.append(rf"{{\small {figure_reference(name, lang)}}}")
        body.append(r"\end{frame}")
        if name is not None:
            title, caption = next((t, c) for n, _, t, c in FIGURES if n == name)
            body += [rf"\begin{{frame}}{{{prose(title[lang])}}}", *figure_float(name, caption, lang, slide=True),
                     r"\end{frame}"]
    from mhasym.catalog.derivation import derivations

    for d in derivations():
        body += [rf"\begin{{frame}}[shrink=2]{{{prose(d.title[lang])}}}",
                 rf"\mhdisplay{{\input{{derivations/{d.id}.tex}}}}\medskip",
                 rf"{{\footnotesize {prose(d.result[lang])}}}", r"\end{frame}"]
    return "\n".join(_preamble("beamer", lang) + [r"\begin{document}"] + _body(lang, body) + [r"\end{document}", ""])


def _target(out) -> Path:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise MhasymError(f"--out {out} exists and is not a folder")
    parent = out.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise MhasymError(f"cannot write to {out}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise MhasymError(f"cannot write to {parent}")
    if out.exists() and not os.access(out, os.W_OK | os.X_OK):
        raise MhasymError(f"cannot write to {out}")
    return out


def compile_pdf(folder: Path, name: str) -> Path:
    """Run pdflatex twice (contents, then page numbers) with -halt-on-error; returns the PDF."""
    exe = shutil.which("pdflatex")
    if exe is None:
        raise MhasymError(f"pdflatex not found; install TeX Live: {TEX_INSTALL}")
    for _ in range(2):
        run = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"], cwd=folder,
                             capture_output=True, text=True, errors="replace", timeout=300)
        if run.returncode != 0:
            error = next((ln for ln in run.stdout.splitlines() if ln.startswith("!")), "see the .log file")
            raise MhasymError(f"pdflatex failed on {name}.tex: {error}")
    return folder / f"{name}.pdf"


def export_latex(out, lang: str = "en", pdf: bool = False, results: dict | None = None) -> Path:
    """Write formulas/<id>.tex, mhasym-notation.sty, notes.tex and slides.tex into ``out``
    (and their PDFs with ``pdf=True``). Returns the folder.

    ``results`` ({id: CheckResult or DerivationResult}) are checks and proofs already run, e.g. by the site
    build; the others run now.
    """
    if lang not in WORDS:
        raise MhasymError(f"unknown language {lang!r}; use 'en' or 'zh'")
    out = _target(out)
    if pdf and shutil.which("pdflatex") is None:
        raise MhasymError(f"pdflatex not found; install TeX Live: {TEX_INSTALL}")
    if pdf and shutil.which("rsvg-convert") is None:
        raise MhasymError(f"rsvg-convert not found; it draws the figures of the notes as PDF: {FIGURE_INSTALL}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".mhasym-export-", dir=out.parent))
    except OSError as exc:
        raise MhasymError(f"cannot write to {out}: {exc.strerror}") from None
    try:
        from mhasym.catalog.mutants import checked

        from mhasym.catalog.derivation import cached_check, derivations

        given = results or {}
        results = {f.id: given.get(f.id) or checked(f) for f in catalog.formulas()}
        proofs = {d.id: given.get(d.id) or cached_check(d) for d in derivations()}
        failed = [r.summary() for r in [*results.values(), *proofs.values()] if not r.passed]
        if failed:
            raise MhasymError(f"a check failed, nothing exported: {failed[0]}")
        (work / "formulas").mkdir()
        for f in catalog.formulas():
            (work / "formulas" / f"{f.id}.tex").write_text(snippet(f, lang), encoding="utf-8")
        (work / "derivations").mkdir()
        for d in derivations():
            (work / "derivations" / f"{d.id}.tex").write_text(derivation_snippet(d, lang), encoding="utf-8")
        (work / f"{STY}.sty").write_text(sty(), encoding="utf-8")
        write_figures(work, lang, need_pdf=pdf)
        (work / "notes.tex").write_text(notes(lang, results, proofs), encoding="utf-8")
        (work / "slides.tex").write_text(slides(lang), encoding="utf-8")
        if pdf:
            for name in ("notes", "slides"):
                compile_pdf(work, name)
                for extra in ("aux", "log", "nav", "out", "snm", "toc"):
                    (work / f"{name}.{extra}").unlink(missing_ok=True)
        if not out.exists():
            work.rename(out)
        else:
            for item in work.iterdir():
                target = out / item.name
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
                item.rename(target)
            work.rmdir()
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise MhasymError(f"cannot write to {out}: {exc.strerror}") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out
