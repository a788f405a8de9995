"""Figures for the site, drawn as SVG from the model's own sizes and numbers.

Each function returns SVG text; labels come in English or Chinese. Nothing is
fetched: the site draws its own figures instead of the notebook's external images.

>>> svg = concatenation("en")
>>> svg.startswith("<svg") and "z" in svg
True
"""

from __future__ import annotations

from html import escape

import numpy as np

from mhasym import numeric
from mhasym.model import paper
from mhasym.catalog.checks import SEED
from mhasym.publish.words import WORDS

HEAD_COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"]
FONT = "font-family='Noto Sans CJK SC, Noto Sans, DejaVu Sans, sans-serif'"



def _svg(width, height, body, title):
    return (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='{width}' "
            f"height='{height}' role='img' {FONT}><title>{escape(title)}</title>{''.join(body)}</svg>")


def _text(x, y, s, size=14, anchor="middle", colour="#222", weight="normal"):
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' fill='{colour}' "
            f"font-weight='{weight}' dominant-baseline='middle'>{s}</text>")


def _sub(base, sub, sup=None):
    """A symbol with a subscript (and superscript) as SVG tspans."""
    sub = escape(str(sub))
    out = f"{escape(base)}<tspan baseline-shift='sub' font-size='70%'>{sub}</tspan>"
    if sup:
        # stacked above the subscript: step back by the subscript's width
        out += (f"<tspan dx='-{0.42 * len(sub):.2f}em' baseline-shift='super' font-size='70%'>{escape(sup)}</tspan>"
                f"<tspan dx='{max(0.0, 0.42 * (len(sub) - len(sup))):.2f}em'></tspan>")
    return out


def _box(x, y, w, h, fill, stroke="#333", rx=6):
    return f"<rect x='{x:.1f}' y='{y:.1f}' width='{w:.1f}' height='{h:.1f}' rx='{rx}' fill='{fill}' stroke='{stroke}'/>"


def _arrow(x1, y1, x2, y2):
    return (f"<line x1='{x1:.1f}' y1='{y1:.1f}' x2='{x2:.1f}' y2='{y2:.1f}' stroke='#555' stroke-width='1.5' "
            f"marker-end='url(#arrow)'/>")


ARROW_DEF = ("<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' "
             "orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' fill='#555'/></marker></defs>")


def concatenation(lang: str = "en", heads: int = 2, rows: int = 2, cols: int = 3) -> str:
    """Z_1 .. Z_h as coloured blocks of named entries, then side by side: (rows, h*cols)."""
    from mhasym.model.heads import concat, head_outputs

    w = WORDS[lang]
    Z = head_outputs(heads, rows, cols)
    whole = concat(Z)
    cell, gap = 46, 24
    width = max(heads * (cols * cell + gap), whole.shape[1] * cell) + 60
    height = rows * cell * 2 + 120
    body = [ARROW_DEF]
    for k, block in enumerate(Z):
        x0 = 30 + k * (cols * cell + gap)
        body.append(_text(x0 + cols * cell / 2, 16, _sub("Z", k + 1) + f"  ({rows}, {cols})", 14))
        for r in range(rows):
            for c in range(cols):
                body.append(_box(x0 + c * cell, 30 + r * cell, cell, cell, HEAD_COLOURS[k % 8] + "55", rx=0))
                body.append(_text(x0 + (c + 0.5) * cell, 30 + (r + 0.5) * cell,
                                  _sub("z", f"{k + 1}{r * cols + c + 1}"), 13))
    y1 = 30 + rows * cell + 50
    body.append(_text(30 + whole.shape[1] * cell / 2, y1 - 16,
                      _sub("Z", "concatenated") + f"  ({whole.shape[0]}, {whole.shape[1]}) — {w['concat']}", 14))
    for r in range(rows):
        for c in range(whole.shape[1]):
            k = c // cols
            body.append(_box(30 + c * cell, y1 + r * cell, cell, cell, HEAD_COLOURS[k % 8] + "55", rx=0))
            body.append(_text(30 + (c + 0.5) * cell, y1 + (r + 0.5) * cell,
                              _sub("z", f"{k + 1}{r * cols + c % cols + 1}"), 13))
    return _svg(width, height, body, "concatenation of head outputs")


def multihead(lang: str = "en", heads: int = paper.BASE["h"]) -> str:
    """Input -> h heads (each with its own W^Q, W^K, W^V) -> Concat -> W^O."""
    w = WORDS[lang]
    shown = min(heads, 4)
    width, height = 720, 70 + shown * 70
    body = [ARROW_DEF, _box(20, height / 2 - 22, 110, 44, "#eeeeee"), _text(75, height / 2, w["input"])]
    for k in range(shown):
        label = k + 1 if k < shown - 1 or shown == heads else heads
        y = 40 + k * 70
        colour = HEAD_COLOURS[k % 8] + "44"
        body.append(_arrow(130, height / 2, 180, y + 25))
        body.append(_box(180, y, 300, 50, colour))
        body.append(_text(330, y + 16, f"{w['head']} {label}: " + ", ".join(
            _sub("W", label, s) for s in "QKV"), 13))
        body.append(_text(330, y + 36, "Attention(" + ", ".join(f"X{_sub('W', label, s)}" for s in "QKV")
                          + ") = " + _sub("Z", label), 12))
        body.append(_arrow(480, y + 25, 530, height / 2))
        if shown < heads and k == shown - 2:
            body.append(_text(330, y + 60, "⋮", 16))
    body.append(_box(530, height / 2 - 40, 80, 80, "#dddddd"))
    body.append(_text(570, height / 2 - 10, w["concat"], 12))
    body.append(_text(570, height / 2 + 12, "· " + "W<tspan baseline-shift='super' font-size='70%'>O</tspan>", 13))
    body.append(_arrow(610, height / 2, 650, height / 2))
    body.append(_text(685, height / 2, w["output"], 13))
    body.append(_text(width / 2, height - 14, f"h = {heads}", 13, colour="#555"))
    return _svg(width, height, body, "multi-head attention")


def architecture(lang: str = "en", layers: int = paper.BASE["N"]) -> str:
    """The encoder-decoder: N encoder layers (2 sublayers), N decoder layers (3 sublayers);
    the decoder's output goes through a linear layer and a softmax."""
    w = WORDS[lang]
    top = 90  # room for the output above the decoder
    body = [ARROW_DEF]

    def column(x, title, sublayers, bottom):
        body.append(_text(x + 130, top - 12, f"{title} (N = {layers})", 16, weight="bold"))
        body.append(_box(x, top, 260, 20 + 62 * len(sublayers), "#f7f7f7", rx=12))
        # data flows upwards, as in the paper's Figure 1: the first sublayer at the bottom, each one with
        # its Add & LayerNorm above it, LayerNorm(x + Sublayer(x))
        y, centres = top + 20, [0] * len(sublayers)
        for k, (text, colour) in reversed(list(enumerate(sublayers))):
            body.append(_box(x + 20, y, 220, 22, "#fff3c4"))
            body.append(_text(x + 130, y + 11, w["addnorm"], 11))
            body.append(_box(x + 20, y + 24, 220, 30, colour))
            body.append(_text(x + 130, y + 39, text, 11.5))
            centres[k] = y + 39
            y += 62
        base = top + 20 + 62 * len(sublayers)
        body.append(_box(x + 20, base + 40, 220, 30, "#e8e8ff"))
        body.append(_text(x + 130, base + 55, w["positional"] + " ⊕", 12))
        body.append(_box(x + 20, base + 90, 220, 30, "#e8e8ff"))
        body.append(_text(x + 130, base + 105, w["embedding"] + " × √" + _sub("d", "model"), 12))
        body.append(_text(x + 130, base + 140, bottom, 12, colour="#555"))
        body.append(_arrow(x + 130, base + 88, x + 130, base + 72))
        body.append(_arrow(x + 130, base + 38, x + 130, base + 2))
        return base, centres

    enc_base, enc = column(30, w["encoder"], [(w["self_attn"], "#d7e8f7"), (w["ffn"], "#dff1da")], w["inputs"])
    dec_base, dec = column(420, w["decoder"], [(w["masked_attn"], "#f8dede"), (w["cross_attn"], "#d7e8f7"),
                                               (w["ffn"], "#dff1da")], w["outputs"])
    # the encoder's output (the top of its stack) feeds the decoder's second sublayer
    body.append(_arrow(290, top + 31, 440, dec[1]))
    body.append(_box(440, 14, 220, 30, "#eeeeee"))
    body.append(_text(550, 29, w["linear"] + " → " + w["probabilities"], 11.5))
    body.append(_arrow(640, top, 640, 46))
    return _svg(720, dec_base + 160, body, "Transformer architecture")


def _grid(x0, y0, values, cell, colour_of, labels=None):
    body = []
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            body.append(f"<rect x='{x0 + c * cell:.1f}' y='{y0 + r * cell:.1f}' width='{cell}' height='{cell}' "
                        f"fill='{colour_of(values[r, c])}' stroke='#fff' stroke-width='{0.5 if cell < 20 else 1}'/>")
    return body


def masks(lang: str = "en", n: int = 4, m: int = 7) -> str:
    """Causal masks for n queries and m keys in both alignments, side by side."""
    w = WORDS[lang]
    cell = 30
    width, height = 2 * (m * cell + 60) + 40, n * cell + 110
    body = []
    for k, align in enumerate(("top-left", "bottom-right")):
        x0 = 40 + k * (m * cell + 80)
        mask = numeric.causal_mask(n, m, align)
        body.append(_text(x0 + m * cell / 2, 18, w["top_left" if k == 0 else "bottom_right"] + f" (n = {n}, m = {m})",
                          13, weight="bold"))
        body += _grid(x0, 40, mask.astype(float), cell, lambda v: "#4e79a7" if v else "#eeeeee")
        body.append(_text(x0 + m * cell / 2, 40 + n * cell + 16, w["key"], 12))
        body.append(_text(x0 - 14, 40 + n * cell / 2, "i", 12))
    body.append(_box(40, height - 30, 14, 14, "#4e79a7", rx=0))
    body.append(_text(60, height - 23, w["allowed"], 12, anchor="start"))
    body.append(_box(200, height - 30, 14, 14, "#eeeeee", rx=0))
    body.append(_text(220, height - 23, w["blocked"], 12, anchor="start"))
    return _svg(width, height, body, "causal masks")


def _diverging(v, lo=-1.0, hi=1.0):
    t = (float(v) - lo) / (hi - lo)
    t = min(max(t, 0.0), 1.0)
    r = int(255 * min(1, 2 * t))
    b = int(255 * min(1, 2 * (1 - t)))
    g = int(255 * (1 - abs(2 * t - 1)) * 0.9 + 20)
    return f"rgb({r},{g},{b})"


def positional_encoding(lang: str = "en", positions: int = 40, d_model: int = 32) -> str:
    """Heatmap of the sinusoidal encoding: rows are positions, columns alternate sin and cos."""
    w = WORDS[lang]
    pe = numeric.positional_encoding(positions, d_model)
    cell = 10
    x0 = 70
    width, height = d_model * cell + x0 + 30, positions * cell + 70
    body = [_text(x0 + d_model * cell / 2, 14, f"PE ({positions} × {d_model})", 13, weight="bold")]
    body += _grid(x0, 30, pe, cell, _diverging)
    body.append(_text(x0 + d_model * cell / 2, 40 + positions * cell + 12, w["dimension"], 12))
    body.append(_text(x0 - 8, 30 + positions * cell / 2, w["position"], 12, anchor="end"))
    return _svg(width, height, body, "positional encoding heatmap")


def attention_weights(lang: str = "en", weights=None, n: int = 5, m: int = 7, heads: int = 2, d_k: int = 4,
                      masked: bool = False) -> str:
    """Attention weights of each head as heatmaps with their values; masked keys are grey.

    ``weights`` is a list of (n, m) matrices, one per head; without it, random queries and keys
    (fixed seed), under a bottom-right causal mask when ``masked``.
    """
    w = WORDS[lang]
    if weights is None:
        g = np.random.default_rng(SEED)
        q, k = g.normal(size=(heads, n, d_k)), g.normal(size=(heads, m, d_k))
        mask = numeric.causal_mask(n, m, "bottom-right") if masked else None
        weights = [numeric.scaled_dot_product_attention(q[hd], k[hd], np.eye(m), mask) for hd in range(heads)]
    n, m = weights[0].shape
    cell = 34
    width, height = len(weights) * (m * cell + 70) + 40, n * cell + 80
    body = []
    for hd, a in enumerate(weights):
        x0 = 60 + hd * (m * cell + 70)
        body.append(_text(x0 + m * cell / 2, 16, f"{w['weights']} {hd + 1}", 13, weight="bold"))
        body += _grid(x0, 32, a, cell, lambda v: "#e6e6e6" if v == 0 else
                      f"rgb({int(255 - 200 * v)},{int(255 - 150 * v)},255)")
        for r in range(n):
            for c in range(m):
                label = f"{a[r, c]:.2f}" if a[r, c] > 0 else "0"
                body.append(_text(x0 + (c + 0.5) * cell, 32 + (r + 0.5) * cell, label, 10,
                                  colour="#999" if a[r, c] == 0 else "#222"))
        body.append(_text(x0 + m * cell / 2, 32 + n * cell + 14, w["key"], 12))
        body.append(_text(x0 - 8, 32 + n * cell / 2, w["query"], 12, anchor="end"))
    return _svg(width, height, body, "attention weights")


def learning_rate(lang: str = "en", last_step: int = 40000) -> str:
    """The learning-rate schedule drawn from the catalog's formula (tr.learning_rate) at d_model = 512."""
    import sympy as sp

    from mhasym.catalog.registry import formula
    from mhasym.model import notation
    from mhasym.model.expressions import value_of

    definition, warm = formula("tr.learning_rate").expr.args
    rule = sp.lambdify([notation.scalar("step")], value_of(definition.rhs).xreplace(
        {notation.dim("d_model"): paper.BASE["d_model"], notation.scalar("warmup"): warm.rhs}), "numpy")
    steps = np.linspace(1, last_step, 400)
    rates = np.asarray(rule(steps), dtype=float)
    width, height, left, bottom, top, right = 640, 300, 70, 250, 20, 620
    top_rate = float(rates.max())

    def x(s):
        return left + (right - left) * s / last_step

    def y(r):
        return bottom - (bottom - top) * r / (top_rate * 1.1)

    w = WORDS[lang]
    points = " ".join(f"{x(s):.1f},{y(r):.1f}" for s, r in zip(steps, rates))
    body = [f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#555'/>",
            f"<line x1='{left}' y1='{bottom}' x2='{left}' y2='{top}' stroke='#555'/>",
            f"<polyline points='{points}' fill='none' stroke='#3f51b5' stroke-width='2'/>"]
    warmup = int(warm.rhs)
    body.append(f"<line x1='{x(warmup):.1f}' y1='{bottom}' x2='{x(warmup):.1f}' y2='{y(top_rate):.1f}' "
                f"stroke='#999' stroke-dasharray='4 3'/>")
    body.append(_text(x(warmup) + 6, y(top_rate) - 8, f"{w['warmup_end']} ({warmup}) · {top_rate:.1e}", 12, "start"))
    for s in range(0, last_step + 1, 10000):
        body.append(_text(x(s), bottom + 16, str(s), 11))
    for r in (0.0, top_rate / 2, top_rate):
        body.append(_text(left - 6, y(r), f"{r:.1e}", 11, "end"))
    body.append(_text((left + right) / 2, bottom + 38, w["training_step"], 13))
    return _svg(width, height + 20, body, w["learning_rate"])


def entropy(lang: str = "en", keys: int = 16, queries: int = 256, seed: int = 20261202) -> str:
    """The mean entropy of softmax rows of random scores, with and without the division by sqrt(d_k), as d_k
    grows (deriv.scaling): q and k with independent N(0, 1) entries, weights from the reference."""
    from mhasym import reference

    g = np.random.default_rng(seed)
    sizes = [2 ** p for p in range(0, 10)]
    lines = {"scaled": [], "unscaled": []}
    for d_k in sizes:
        q, k = g.normal(size=(queries, d_k)), g.normal(size=(keys, d_k))
        for name, factor in (("scaled", 1.0), ("unscaled", np.sqrt(d_k))):
            a = reference.attention_weights(q * factor, k)  # softmax(q k^T / sqrt(d_k)), times the factor
            lines[name].append(float(np.mean(-np.sum(np.where(a > 0, a * np.log(np.where(a > 0, a, 1.0)), 0.0), axis=1))))
    width, height, left, bottom, top, right = 640, 320, 70, 260, 30, 600
    top_value = np.log(keys) * 1.1

    def x(p):
        return left + (right - left) * p / (len(sizes) - 1)

    def y(v):
        return bottom - (bottom - top) * v / top_value

    w = WORDS[lang]
    body = [f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#555'/>",
            f"<line x1='{left}' y1='{bottom}' x2='{left}' y2='{top}' stroke='#555'/>",
            f"<line x1='{left}' y1='{y(np.log(keys)):.1f}' x2='{right}' y2='{y(np.log(keys)):.1f}' stroke='#999' "
            "stroke-dasharray='4 3'/>",
            _text(right, y(np.log(keys)) - 6, f"{w['uniform']} = {np.log(keys):.2f} (m = {keys})", 12, "end")]
    for name, colour, dash in (("scaled", "#3f51b5", ""), ("unscaled", "#e15759", " stroke-dasharray='7 4'")):
        points = " ".join(f"{x(p):.1f},{y(v):.1f}" for p, v in enumerate(lines[name]))
        body.append(f"<polyline points='{points}' fill='none' stroke='{colour}' stroke-width='2.5'{dash}/>")
        for p, v in enumerate(lines[name]):
            body.append(f"<circle cx='{x(p):.1f}' cy='{y(v):.1f}' r='3' fill='{colour}'/>")
        last = lines[name][-1]
        body.append(_text(x(len(sizes) - 1) - 6, y(last) - 12, w[name], 12, "end", colour))
    for p, d_k in enumerate(sizes):
        body.append(_text(x(p), bottom + 16, str(d_k), 11))
    for v in np.arange(0.0, np.log(keys) + 0.01, 0.5):
        body.append(_text(left - 6, y(v) + 4, f"{v:.1f}", 11, "end"))
    body.append(_text((left + right) / 2, bottom + 40, "d_k", 13))
    body.append(_text(left - 50, (top + bottom) / 2, w["entropy_y"], 12, "middle")
                .replace("<text ", f"<text transform='rotate(-90 {left - 50} {(top + bottom) / 2})' ", 1))
    return _svg(width, height + 20, body, w["entropy_title"])


FIGURES = {
    "multihead": multihead,
    "concatenation": concatenation,
    "architecture": architecture,
    "masks": masks,
    "positional_encoding": positional_encoding,
    "attention_weights": attention_weights,
    "attention_weights_masked": lambda lang: attention_weights(lang, masked=True),
    "learning_rate": learning_rate,
    "entropy": entropy,
}


def all_figures(lang: str) -> dict:
    """``{name: svg}`` for every figure, in one language: these and :mod:`mhasym.publish.teaching_figures`."""
    from mhasym.publish import teaching_figures

    return {name: draw(lang) for name, draw in {**FIGURES, **teaching_figures.FIGURES}.items()}
