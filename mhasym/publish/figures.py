"""Figures for the site, drawn as SVG from the model's own sizes and numbers.

Each function returns SVG text; labels come in English or Chinese. Nothing is
fetched: the site draws its own figures instead of the notebook's external images.

>>> svg = concatenation("en")
>>> svg.startswith("<svg") and "z" in svg
True
"""

from __future__ import annotations

import math
import re
from html import escape

import numpy as np

from mhasym import numeric
from mhasym.model import paper
from mhasym.catalog.checks import SEED
from mhasym.publish.words import WORDS

HEAD_COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"]
FONT = "font-family='Noto Sans CJK SC, Noto Sans, DejaVu Sans, sans-serif'"
RESIDUAL = "#c0392b"  # the colour of residual (skip) connections

# Words of these figures that the shared table (mhasym.publish.words) does not have, or has in a form a
# figure cannot use (a Chinese figure shows Chinese only: "词嵌入", not "词嵌入 Embedding").
FIGURE_WORDS = {
    "en": {
        "title_concatenation": "concatenation of head outputs", "title_multihead": "multi-head attention",
        "title_architecture": "Transformer architecture", "title_masks": "causal masks",
        "title_positional_encoding": "positional encoding heatmap", "title_attention_weights": "attention weights",
        "title_attention_weights_masked": "attention weights under a causal mask",
        "concat": "Concat", "attention": "Attention", "embedding": "Embedding",
        "layers": "{name} (N = {N})", "repeat": "× N", "residual": "residual connection",
        "weights_of": "attention weights of head {k}", "learning_rate_y": "learning rate",
        "entropy_y": "mean entropy of a row (nats)", "colour_scale": "value",
        "pe_caption": "PE: {p} positions × {d} columns", "sizes": " (n = {n}, m = {m})",
    },
    "zh": {
        "title_concatenation": "各头输出的拼接", "title_multihead": "多头注意力",
        "title_architecture": "Transformer 的结构", "title_masks": "因果掩码",
        "title_positional_encoding": "位置编码热图", "title_attention_weights": "注意力权重",
        "title_attention_weights_masked": "因果掩码下的注意力权重",
        "concat": "拼接", "attention": "注意力", "embedding": "词嵌入",
        "layers": "{name}（N = {N}）", "repeat": "× N", "residual": "残差连接",
        "weights_of": "头 {k} 的注意力权重", "learning_rate_y": "学习率",
        "entropy_y": "每行的平均熵（单位：奈特）", "colour_scale": "取值",
        "pe_caption": "PE：{p} 个位置 × {d} 列", "sizes": "（n = {n}，m = {m}）",
    },
}


def _words(lang: str) -> dict:
    """The shared words of the site in one language, with those of the figures over them."""
    return {**WORDS[lang], **FIGURE_WORDS[lang]}


def _minus(s: str) -> str:
    """A number's text with the minus sign (U+2212) instead of a hyphen: "−2.35", "10⁻⁴"."""
    return re.sub(r"-(?=[\d.])", "−", s)


def _num(v: float, spec: str = ".2f") -> str:
    """A number formatted with ``spec``, its minus sign U+2212, and no sign on a zero ("0.00", not "−0.00")."""
    out = format(float(v), spec)
    if out.startswith("-") and float(out) == 0:
        out = out[1:]
    return _minus(out)


def _sci(v: float, digits: int = 1) -> str:
    """A number in powers of ten as SVG text: 7.0 × 10<sup>−4</sup> (the exponent as a raised tspan); 0 as "0"."""
    v = float(v)
    if v == 0:
        return "0"
    exponent = math.floor(math.log10(abs(v)))
    mantissa = round(v / 10 ** exponent, digits)
    if abs(mantissa) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    head = "" if mantissa == 1 else f"{_num(mantissa, f'.{digits}f')} × "
    return f"{head}10<tspan baseline-shift='super' font-size='70%'>{_minus(str(exponent))}</tspan>"


def _rotated(element: str, x: float, y: float) -> str:
    """A ``<text>`` element turned to read upwards about (x, y), for a vertical axis title."""
    return element.replace("<text ", f"<text transform='rotate(-90 {x:.1f} {y:.1f})' ", 1)


def _colour_bar(x: float, y: float, height: float, colour_of, lo: float = -1.0, hi: float = 1.0,
                ticks=(1.0, 0.5, 0.0, -0.5, -1.0), steps: int = 64, title: str = "") -> list:
    """A vertical colour scale from ``hi`` (top) to ``lo`` (bottom), 18 wide, with tick marks and values."""
    body = []
    for k in range(steps):
        v = hi - (hi - lo) * (k + 0.5) / steps
        body.append(f"<rect x='{x}' y='{y + k * height / steps:.1f}' width='18' "
                    f"height='{height / steps + 0.4:.1f}' fill='{colour_of(v)}'/>")
    body.append(_box(x, y, 18, height, "none", rx=0))
    for v in ticks:
        ty = y + (hi - v) / (hi - lo) * height
        body.append(f"<line x1='{x + 18}' y1='{ty}' x2='{x + 23}' y2='{ty}' stroke='#333'/>")
        body.append(_text(x + 27, ty, _minus(f"{v:g}"), 11, anchor="start"))
    if title:
        body.append(_text(x + 9, y - 16, title, 12))
    return body



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

    w = _words(lang)
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
    parts = ", ".join(_sub("Z", k + 1) for k in range(heads))
    body.append(_text(30 + whole.shape[1] * cell / 2, y1 - 16,
                      f"{w['concat']}({parts})  ({whole.shape[0]}, {whole.shape[1]})", 14))
    for r in range(rows):
        for c in range(whole.shape[1]):
            k = c // cols
            body.append(_box(30 + c * cell, y1 + r * cell, cell, cell, HEAD_COLOURS[k % 8] + "55", rx=0))
            body.append(_text(30 + (c + 0.5) * cell, y1 + (r + 0.5) * cell,
                              _sub("z", f"{k + 1}{r * cols + c % cols + 1}"), 13))
    return _svg(width, height, body, w["title_concatenation"])


def multihead(lang: str = "en", heads: int = paper.BASE["h"]) -> str:
    """Input -> h heads (each with its own W^Q, W^K, W^V) -> Concat -> W^O."""
    w = _words(lang)
    shown = min(heads, 4)
    width, height = 720, 70 + shown * 70
    body = [ARROW_DEF, _box(20, height / 2 - 22, 110, 44, "#eeeeee"), _text(75, height / 2, w["input"])]
    for k in range(shown):
        label = k + 1 if k < shown - 1 or shown == heads else heads
        y = 40 + k * 70
        colour = HEAD_COLOURS[k % 8] + "44"
        body.append(_arrow(130, height / 2, 180, y + 25))
        body.append(_box(180, y, 300, 50, colour))
        body.append(_text(330, y + 16, f"{w['head']} {label}{w['colon']}" + ", ".join(
            _sub("W", label, s) for s in "QKV"), 13))
        body.append(_text(330, y + 36, f"{w['attention']}(" + ", ".join(f"X {_sub('W', label, s)}" for s in "QKV")
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
    return _svg(width, height, body, w["title_multihead"])


ARCHITECTURE = {"sub_h": 32, "norm_h": 24, "inner": 14, "outer": 20, "top_pad": 12, "box_w": 210, "column_w": 250,
                "side": 28, "near": 12}


def architecture(lang: str = "en", layers: int = paper.BASE["N"]) -> str:
    """The encoder-decoder of the paper's Figure 1: N encoder layers (2 sublayers) and N decoder layers
    (3 sublayers), data flowing upwards; each sublayer with its residual connection around it into its
    Add & LayerNorm, LayerNorm(x + Sublayer(x)); a "× N" bracket beside each stack; the encoder's output into
    the decoder's second sublayer, and the decoder's output through a linear layer and a softmax."""
    w = _words(lang)
    a = ARCHITECTURE
    block = a["outer"] + a["sub_h"] + a["inner"] + a["norm_h"]  # one sublayer, its Add & LayerNorm, the gap below
    res_def = ("<defs><marker id='arrow-res' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='6' markerHeight='6' "
               f"orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' fill='{RESIDUAL}'/></marker></defs>")
    body = [ARROW_DEF, res_def]
    enc_x, dec_x = 56, 366  # the left edges of the two stacks
    width = dec_x + a["column_w"] + 64
    dec_top = 84
    bottom = dec_top + 3 * block + a["top_pad"]  # both stacks end here, the inputs below them

    def column(x, sublayers, residual_side, tokens):
        """One stack; returns the y of its top, the x of its main path and of its boxes' left edge, and, per
        sublayer from the bottom, (the centre y of its box, the centre y of its Add & LayerNorm)."""
        top = bottom - len(sublayers) * block - a["top_pad"]
        if residual_side == "left":
            bx, rx, into = x + a["side"], x + 12, x + a["side"]
        else:
            bx, rx, into = x + a["near"], x + a["column_w"] - 12, x + a["near"] + a["box_w"]
        cx = bx + a["box_w"] / 2
        body.append(_box(x, top, a["column_w"], bottom - top, "#f7f7f7", rx=12))
        centres = []
        for k, (text, colour) in enumerate(sublayers):
            below = bottom - k * block  # the lower edge of this sublayer's block
            sub_y = below - a["outer"] - a["sub_h"]
            norm_y = sub_y - a["inner"] - a["norm_h"]
            fork = below - a["outer"] / 2
            body.append(_box(bx, sub_y, a["box_w"], a["sub_h"], colour))
            body.append(_text(cx, sub_y + a["sub_h"] / 2, text, 12.5))
            body.append(_box(bx, norm_y, a["box_w"], a["norm_h"], "#fff3c4"))
            body.append(_text(cx, norm_y + a["norm_h"] / 2, w["addnorm"], 12))
            body.append(_arrow(cx, sub_y, cx, norm_y + a["norm_h"] + 1))
            # the residual path: from the sublayer's input, round the side, into its Add & LayerNorm
            body.append(f"<circle cx='{cx:.1f}' cy='{fork:.1f}' r='3' fill='{RESIDUAL}'/>")
            body.append(f"<polyline class='residual' points='{cx:.1f},{fork:.1f} {rx:.1f},{fork:.1f} "
                        f"{rx:.1f},{norm_y + a['norm_h'] / 2:.1f} {into + (-1 if residual_side == 'left' else 1):.1f},"
                        f"{norm_y + a['norm_h'] / 2:.1f}' fill='none' stroke='{RESIDUAL}' stroke-width='1.5' "
                        "marker-end='url(#arrow-res)'/>")
            if k + 1 < len(sublayers):
                body.append(_arrow(cx, norm_y, cx, norm_y - a["outer"] + 1))
            centres.append((sub_y + a["sub_h"] / 2, norm_y + a["norm_h"] / 2))
        # the bracket: this layer is repeated N times
        if residual_side == "left":
            bar, tick, tx, anchor = x - 10, x - 4, x - 16, "end"
        else:
            bar, tick, tx, anchor = x + a["column_w"] + 10, x + a["column_w"] + 4, x + a["column_w"] + 16, "start"
        body.append(f"<polyline class='repeat' points='{tick},{top + 4} {bar},{top + 4} {bar},{bottom - 4} "
                    f"{tick},{bottom - 4}' fill='none' stroke='#333' stroke-width='1.5'/>")
        body.append(_text(tx, (top + bottom) / 2, w["repeat"], 15, anchor=anchor, weight="bold"))
        # the inputs: embedding times sqrt(d_model), plus the positional encoding, into the first sublayer
        body.append(_box(bx, bottom + 30, a["box_w"], 30, "#e8e8ff"))
        body.append(_text(cx, bottom + 45, w["positional"] + " ⊕", 12.5))
        body.append(_box(bx, bottom + 80, a["box_w"], 30, "#e8e8ff"))
        body.append(_text(cx, bottom + 95, w["embedding"] + " × √" + _sub("d", "model"), 12.5))
        body.append(_text(cx, bottom + 128, tokens, 12.5, colour="#555"))
        body.append(_arrow(cx, bottom + 80, cx, bottom + 62))
        body.append(_arrow(cx, bottom + 30, cx, bottom - a["outer"] + 1))
        return top, cx, bx, centres

    enc_top, enc_cx, enc_bx, enc = column(enc_x, [(w["self_attn"], "#d7e8f7"), (w["ffn"], "#dff1da")], "left",
                                          w["inputs"])
    _, dec_cx, dec_bx, dec = column(dec_x, [(w["masked_attn"], "#f8dede"), (w["cross_attn"], "#d7e8f7"),
                                            (w["ffn"], "#dff1da")], "right", w["outputs"])
    # titles above the stacks
    body.append(_text(enc_cx, enc_top - 16, w["layers"].format(name=w["encoder"], N=layers), 15, weight="bold"))
    body.append(_text(dec_cx, dec_top - 16, w["layers"].format(name=w["decoder"], N=layers), 15, weight="bold"))
    # the encoder's output (the top of its stack) goes up, across, and into the decoder's second sublayer
    out_x = enc_bx + a["box_w"] - 24
    over = enc_top - 12
    enc_norm_top = enc[-1][1] - a["norm_h"] / 2
    between = (enc_x + a["column_w"] + dec_x) / 2
    body.append(f"<polyline points='{out_x:.1f},{enc_norm_top:.1f} {out_x:.1f},{over:.1f} {between:.1f},{over:.1f} "
                f"{between:.1f},{dec[1][0]:.1f} {dec_bx - 1:.1f},{dec[1][0]:.1f}' "
                "fill='none' stroke='#555' stroke-width='1.5' marker-end='url(#arrow)'/>")
    # the decoder's output: a linear layer and a softmax give the output probabilities
    body.append(_box(dec_cx - 125, 14, 250, 30, "#eeeeee"))
    body.append(_text(dec_cx, 29, w["linear"] + " → " + w["probabilities"], 12.5))
    up_x = dec_bx + a["box_w"] - 30
    body.append(_arrow(up_x, dec[-1][1] - a["norm_h"] / 2, up_x, 46))
    # what the red paths are
    body.append(f"<line x1='12' y1='24' x2='40' y2='24' stroke='{RESIDUAL}' stroke-width='1.5' "
                "marker-end='url(#arrow-res)'/>")
    body.append(_text(46, 24, w["residual"], 12.5, anchor="start", colour=RESIDUAL))
    return _svg(width, bottom + 146, body, w["title_architecture"])


def _grid(x0, y0, values, cell, colour_of, labels=None):
    body = []
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            body.append(f"<rect x='{x0 + c * cell:.1f}' y='{y0 + r * cell:.1f}' width='{cell}' height='{cell}' "
                        f"fill='{colour_of(values[r, c])}' stroke='#fff' stroke-width='{0.5 if cell < 20 else 1}'/>")
    return body


def _axes(x0, y0, rows, cols, cell, w, gap=8):
    """Axis titles and ticks of a matrix drawn at (x0, y0): rows numbered 1..rows ("query i" at the left),
    columns 1..cols ("key j" below), as the site counts from 1."""
    body = []
    for r in range(rows):
        body.append(_text(x0 - gap, y0 + (r + 0.5) * cell, str(r + 1), 11, anchor="end", colour="#555")
                    .replace("<text ", "<text class='row-tick' ", 1))
    for c in range(cols):
        body.append(_text(x0 + (c + 0.5) * cell, y0 + rows * cell + 11, str(c + 1), 11, colour="#555")
                    .replace("<text ", "<text class='col-tick' ", 1))
    body.append(_text(x0 + cols * cell / 2, y0 + rows * cell + 30, w["key"], 12))
    body.append(_text(x0 - gap - 26, y0 + rows * cell / 2, w["query"], 12, anchor="end"))
    return body


def masks(lang: str = "en", n: int = 4, m: int = 7) -> str:
    """Causal masks for n queries and m keys in both alignments, side by side."""
    w = _words(lang)
    cell, left, gap = 30, 92, 110
    width, height = left + 2 * m * cell + gap + 40, n * cell + 136
    body = []
    for k, align in enumerate(("top-left", "bottom-right")):
        x0 = left + k * (m * cell + gap)
        mask = numeric.causal_mask(n, m, align)
        name = w["top_left" if k == 0 else "bottom_right"] + w["sizes"].format(n=n, m=m)
        body.append(_text(x0 + m * cell / 2, 18, name, 13, weight="bold"))
        body += _grid(x0, 40, mask.astype(float), cell, lambda v: "#4e79a7" if v else "#eeeeee")
        body += _axes(x0, 40, n, m, cell, w)
    body.append(_box(40, height - 30, 14, 14, "#4e79a7", rx=0))
    body.append(_text(60, height - 23, w["allowed"], 12, anchor="start"))
    body.append(_box(200, height - 30, 14, 14, "#eeeeee", rx=0))
    body.append(_text(220, height - 23, w["blocked"], 12, anchor="start"))
    return _svg(width, height, body, w["title_masks"])


def _diverging(v, lo=-1.0, hi=1.0):
    t = (float(v) - lo) / (hi - lo)
    t = min(max(t, 0.0), 1.0)
    r = int(255 * min(1, 2 * t))
    b = int(255 * min(1, 2 * (1 - t)))
    g = int(255 * (1 - abs(2 * t - 1)) * 0.9 + 20)
    return f"rgb({r},{g},{b})"


def pe_ticks(x0, y0, cell, size, labels, gaps) -> list:
    """Ticks and labels of a positional-encoding heat map at (x0, y0): a tick every 8 columns and every 10
    positions; ``cell`` is (width, height), ``size`` (positions, columns), ``labels`` (columns, positions) and
    ``gaps`` how far the two labels stand from the map."""
    (cw, ch), (positions, d_model), (column_label, position_label) = cell, size, labels
    body = []
    for c in range(0, d_model, 8):
        cx = x0 + (c + 0.5) * cw
        body.append(f"<line x1='{cx}' y1='{y0 - 4}' x2='{cx}' y2='{y0}' stroke='#333'/>")
        body.append(_text(cx, y0 - 11, str(c), 11))
    body.append(_text(x0 + d_model * cw / 2, y0 - gaps[0], column_label, 12))
    for r in range(0, positions, 10):
        cy = y0 + (r + 0.5) * ch
        body.append(f"<line x1='{x0 - 4}' y1='{cy}' x2='{x0}' y2='{cy}' stroke='#333'/>")
        body.append(_text(x0 - 8, cy, str(r), 11, anchor="end"))
    body.append(_text(x0 - gaps[1], y0 + positions * ch / 2, position_label, 12, anchor="end"))
    return body


def positional_encoding(lang: str = "en", positions: int = 40, d_model: int = 32) -> str:
    """Heatmap of the sinusoidal encoding: rows are positions, columns alternate sin and cos; ticks every 10
    positions and every 8 columns, and a colour scale from −1 to 1 with its values."""
    w = _words(lang)
    pe = numeric.positional_encoding(positions, d_model)
    cell = 10
    x0, y0 = 110, 72
    bar_x = x0 + d_model * cell + 40
    width, height = bar_x + 70, y0 + positions * cell + 20
    body = [_text(x0 + d_model * cell / 2, 14, w["pe_caption"].format(p=positions, d=d_model), 13, weight="bold")]
    body += _grid(x0, y0, pe, cell, _diverging)
    body.append(_box(x0, y0, d_model * cell, positions * cell, "none", rx=0))
    body += pe_ticks(x0, y0, (cell, cell), (positions, d_model), (w["dimension"], w["position"]), (30, 32))
    body += _colour_bar(bar_x, y0 + 40, positions * cell - 80, _diverging, title=w["colour_scale"])
    return _svg(width, height, body, w["title_positional_encoding"])


def attention_weights(lang: str = "en", weights=None, n: int = 5, m: int = 7, heads: int = 2, d_k: int = 4,
                      masked: bool = False) -> str:
    """Attention weights of each head as heatmaps with their values; masked keys are grey.

    ``weights`` is a list of (n, m) matrices, one per head; without it, random queries and keys
    (fixed seed), under a bottom-right causal mask when ``masked``.
    """
    w = _words(lang)
    if weights is None:
        g = np.random.default_rng(SEED)
        q, k = g.normal(size=(heads, n, d_k)), g.normal(size=(heads, m, d_k))
        mask = numeric.causal_mask(n, m, "bottom-right") if masked else None
        weights = [numeric.scaled_dot_product_attention(q[hd], k[hd], np.eye(m), mask) for hd in range(heads)]
    n, m = weights[0].shape
    cell, left, gap = 34, 92, 100
    width, height = left + len(weights) * m * cell + (len(weights) - 1) * gap + 20, n * cell + 76
    body = []
    for hd, a in enumerate(weights):
        x0 = left + hd * (m * cell + gap)
        body.append(_text(x0 + m * cell / 2, 16, w["weights_of"].format(k=hd + 1), 13, weight="bold"))
        body += _grid(x0, 32, a, cell, lambda v: "#e6e6e6" if v == 0 else
                      f"rgb({int(255 - 200 * v)},{int(255 - 150 * v)},255)")
        for r in range(n):
            for c in range(m):
                label = f"{a[r, c]:.2f}" if a[r, c] > 0 else "0"
                body.append(_text(x0 + (c + 0.5) * cell, 32 + (r + 0.5) * cell, label, 10,
                                  colour="#999" if a[r, c] == 0 else "#222"))
        body += _axes(x0, 32, n, m, cell, w)
    return _svg(width, height, body, w["title_attention_weights_masked" if masked else "title_attention_weights"])


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
    width, height, left, bottom, top, right = 640, 300, 100, 250, 20, 620
    top_rate = float(rates.max())

    def x(s):
        return left + (right - left) * s / last_step

    def y(r):
        return bottom - (bottom - top) * r / (top_rate * 1.1)

    w = _words(lang)
    points = " ".join(f"{x(s):.1f},{y(r):.1f}" for s, r in zip(steps, rates))
    body = [f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#555'/>",
            f"<line x1='{left}' y1='{bottom}' x2='{left}' y2='{top}' stroke='#555'/>",
            f"<polyline points='{points}' fill='none' stroke='#3f51b5' stroke-width='2'/>"]
    warmup = int(warm.rhs)
    body.append(f"<line x1='{x(warmup):.1f}' y1='{bottom}' x2='{x(warmup):.1f}' y2='{y(top_rate):.1f}' "
                f"stroke='#999' stroke-dasharray='4 3'/>")
    body.append(_text(x(warmup) + 6, y(top_rate) - 8, f"{w['warmup_end']} ({warmup}) · {_sci(top_rate)}", 12, "start"))
    for s in range(0, last_step + 1, 10000):
        body.append(f"<line x1='{x(s):.1f}' y1='{bottom}' x2='{x(s):.1f}' y2='{bottom + 4}' stroke='#555'/>")
        body.append(_text(x(s), bottom + 16, str(s), 11))
    # ticks at round values: 0, 1, 2, ... times the power of ten below the peak
    unit = 10.0 ** math.floor(math.log10(top_rate))
    tick_step = unit * (2 if top_rate / unit > 4 else 1)
    for k in range(int(top_rate / tick_step) + 1):
        r = k * tick_step
        body.append(f"<line x1='{left - 4}' y1='{y(r):.1f}' x2='{left}' y2='{y(r):.1f}' stroke='#555'/>")
        body.append(_text(left - 8, y(r), _sci(r, 0), 11, "end"))
    body.append(_text((left + right) / 2, bottom + 38, w["training_step"], 13))
    body.append(_rotated(_text(22, (top + bottom) / 2, w["learning_rate_y"], 13), 22, (top + bottom) / 2))
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

    w = _words(lang)
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
        body.append(_text(x(len(sizes) - 1) - 6, y(last) - 12, w[name].replace("d_k", _sub("d", "k")), 12, "end",
                          colour))
    for p, d_k in enumerate(sizes):
        body.append(_text(x(p), bottom + 16, str(d_k), 11))
    for v in np.arange(0.0, np.log(keys) + 0.01, 0.5):
        body.append(_text(left - 6, y(v) + 4, _num(v, ".1f"), 11, "end"))
    body.append(_text((left + right) / 2, bottom + 40, _sub("d", "k"), 13))
    body.append(_rotated(_text(left - 50, (top + bottom) / 2, w["entropy_y"], 12, "middle"), left - 50,
                         (top + bottom) / 2))
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
