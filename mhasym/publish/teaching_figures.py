"""Teaching figures: one head's data flow, W^O as a sum of per-head blocks, the head split, post-LN and
pre-LN, the decoder in training and generation, the positional encoding, and why several heads help.

Like :mod:`mhasym.publish.figures`, each function returns standalone SVG text in English or Chinese, and
every number drawn is computed by the package (:mod:`mhasym.numeric`) with a fixed seed; the arrays a
figure draws are returned by the ``*_numbers`` functions, so the tests can compare them.

>>> svg = head_split("zh")
>>> svg.startswith("<svg") and "<title>" in svg
True
>>> sorted(FIGURES) == sorted(["head_flow", "wo_blocks", "head_split", "post_pre_ln", "decoder_modes",
...                            "pe_heatmap", "why_heads"])
True
"""

from __future__ import annotations

from html import escape

import numpy as np

from mhasym import numeric
from mhasym.catalog.checks import SEED
from mhasym.model import paper
from mhasym.publish.figures import (
    ARROW_DEF,
    pe_ticks,
    HEAD_COLOURS,
    _arrow,
    _box,
    _colour_bar,
    _diverging,
    _grid,
    _num,
    _sci,
    _sub,
    _svg,
    _text,
)

WORDS = {
    "en": {
        "head_flow": "One attention head, step by step",
        "self_note": ["the general case: queries from X, keys and values from X_kv, so n ≠ m;",
                      "in self-attention X_kv = X and m = n"],
        "scores": "scores", "softmax_rows": "per row",
        "output": "output",
        "heat_title": "A = softmax(Q Kᵀ / √d_k): each row sums to 1",
        "random": "random X, weights with seed {seed}",
        "query": "query", "key": "key",
        "sizes_here": "here: n = {n}, m = {m}, d_model = {d_model}, d_k = {d_k}, d_v = {d_v}",
        "sizes_paper": "paper (base): d_model = {d_model}, h = {h}, d_k = d_v = {d_k}",
        "wo_blocks": "Concat · W^O is a sum over heads",
        "wo_sizes": "drawn to scale: n = {n}, h = {h}, d_v = {d_v}, d_model = {d_model}; "
                    "one square = one number",
        "wo_checked": "computed with random heads (seed {seed}): largest difference between the two sides {err}",
        "wo_paper": "paper (base): h · d_v = {h} × {d_v} = {hd} = d_model",
        "head": "head",
        "head_split": "Splitting P = X W^Q into heads",
        "p_caption": "P = X W^Q: n = {n} tokens, h · d_k = {h} × {d_k} columns",
        "p_note": "entries numbered 1 to {N} to follow them",
        "token": "token",
        "right": "right: each head gets its own columns",
        "wrong": "wrong: consecutive numbers, tokens and heads mixed",
        "block": "block",
        "colour_note": "colour = the head whose columns the entry came from",
        "post_pre_ln": "Post-LN (the paper) and pre-LN",
        "post": "post-LN (the paper)", "pre": "pre-LN",
        "sublayer": "Sublayer", "layernorm": "LayerNorm", "residual": ["residual", "connection"],
        "post_formula": "LayerNorm(x + Sublayer(x))", "pre_formula": "x + Sublayer(LayerNorm(x))",
        "rows_stats": "output rows: mean {mean}, std {std}",
        "stats_note": "numbers: random x ({n} × {d}) and a random feed-forward sublayer (seed {seed})",
        "decoder_modes": "The decoder in training and in generation",
        "training": "Training: teacher forcing", "generation": "Generation: one token per step",
        "decoder": "Decoder",
        "target_in": "target shifted right, all at once",
        "predictions": "predictions (vs. the target)",
        "causal_mask": "causal mask", "mask_rows": "rows: queries", "mask_cols": "columns: keys",
        "mask_use": "used by self-attention",
        "step": "step {k}", "fed_back": "each new token is fed back in",
        "pe_heatmap": "Sinusoidal positional encoding",
        "pe_caption": "PE({p} × {d}): sin in even columns, cos in odd columns",
        "position": "position", "column": "column of the encoding",
        "why_heads": "Why several heads: two heads, two different keys",
        "why_sub": "attention weights of query 1 over the 6 keys (tokens of 2 feature subspaces, seed {seed})",
        "head1": "head 1 (subspace 1)", "head2": "head 2 (subspace 2)", "one_head": "one head (both subspaces)",
        "max": "largest {v:.2f}",
        "quote": [("Section 3.2.2: “Multi-head attention allows the model to jointly attend to information from "
                   "different"),
                  ("representation subspaces at different positions. With a single attention head, "
                   "averaging inhibits this.”")],
    },
    "zh": {
        "head_flow": "单个注意力头的计算流程",
        "self_note": ["一般情形：查询来自 X，键和值来自 X_kv，因此 n ≠ m；",
                      "自注意力中 X_kv = X，m = n"],
        "scores": "得分", "softmax_rows": "逐行",
        "output": "输出",
        "heat_title": "A = softmax(Q Kᵀ / √d_k)：每行之和为 1",
        "random": "随机 X 与权重，随机种子 {seed}",
        "query": "查询", "key": "键",
        "sizes_here": "此处：n = {n}，m = {m}，d_model = {d_model}，d_k = {d_k}，d_v = {d_v}",
        "sizes_paper": "论文（基础模型）：d_model = {d_model}，h = {h}，d_k = d_v = {d_k}",
        "wo_blocks": "拼接 · W^O 等于各头之和",
        "wo_sizes": "按比例绘制：n = {n}，h = {h}，d_v = {d_v}，d_model = {d_model}；每个小方格是一个数",
        "wo_checked": "用随机的头输出计算（随机种子 {seed}）：两边的最大差 {err}",
        "wo_paper": "论文（基础模型）：h · d_v = {h} × {d_v} = {hd} = d_model",
        "head": "头",
        "head_split": "把 P = X W^Q 拆分成多个头",
        "p_caption": "P = X W^Q：n = {n} 个词元，h · d_k = {h} × {d_k} 列",
        "p_note": "元素依次编号 1 到 {N}，以便追踪",
        "token": "词元",
        "right": "正确：每个头得到自己的列",
        "wrong": "错误：连续的数被分在一起，词元与头混杂",
        "block": "块",
        "colour_note": "颜色 = 该元素原来所在列属于哪个头",
        "post_pre_ln": "后置层标准化（论文）与前置层标准化",
        "post": "后置层标准化（论文）", "pre": "前置层标准化",
        "sublayer": "子层", "layernorm": "层标准化", "residual": ["残差连接"],
        "post_formula": "层标准化(x + 子层(x))", "pre_formula": "x + 子层(层标准化(x))",
        "rows_stats": "输出各行：均值 {mean}，标准差 {std}",
        "stats_note": "数值：随机 x（{n} × {d}）与随机前馈子层（随机种子 {seed}）",
        "decoder_modes": "解码器：训练与生成",
        "training": "训练：教师强制", "generation": "生成：每步一个词元",
        "decoder": "解码器",
        "target_in": "右移一位的目标序列，一次全部输入",
        "predictions": "预测（与目标序列比较）",
        "causal_mask": "因果掩码", "mask_rows": "行：查询", "mask_cols": "列：键",
        "mask_use": "用于自注意力",
        "step": "第 {k} 步", "fed_back": "新生成的词元再作为输入",
        "pe_heatmap": "正弦位置编码",
        "pe_caption": "PE({p} × {d})：偶数列为 sin，奇数列为 cos",
        "position": "位置", "column": "编码的列",
        "why_heads": "为什么要多个头：两个头关注不同的键",
        "why_sub": "查询 1 对 6 个键的注意力权重（词元含 2 个特征子空间，随机种子 {seed}）",
        "head1": "头 1（子空间 1）", "head2": "头 2（子空间 2）", "one_head": "单个头（两个子空间）",
        "max": "最大 {v:.2f}",
        "quote": ["论文第 3.2.2 节：“多头注意力使模型能够同时关注来自不同位置的不同表示子空间的信息。",
                  "若只有一个注意力头，平均会抑制这一点。”"],
    },
}


def _sup(base, sup):
    """A symbol with a superscript only, as the existing figures write W^O."""
    return f"{escape(base)}<tspan baseline-shift='super' font-size='70%'>{escape(sup)}</tspan>"


def _symbols(s: str) -> str:
    """Plain text with d_k, d_v, d_model, X_kv and W^Q, W^K, W^V, W^O written with tspans."""
    for name, sub in (("d_model", ("d", "model")), ("d_k", ("d", "k")), ("d_v", ("d", "v")),
                      ("X_kv", ("X", "kv"))):
        s = s.replace(name, _sub(*sub))
    for letter in "QKVO":
        s = s.replace(f"W^{letter}", _sup("W", letter))
    return s


def _classed(element: str, cls: str) -> str:
    """A ``<text>`` element with a class, so the tests can find the numbers a figure draws."""
    return element.replace("<text ", f"<text class='{cls}' ", 1)


def _blue(v):
    """White to blue for weights in [0, 1]."""
    v = float(v)
    return f"rgb({int(255 - 200 * v)},{int(255 - 150 * v)},255)"


def _ink(v):
    return "#fff" if float(v) > 0.75 else "#222"


# 1. one head

FLOW_SIZES = {"n": 4, "m": 6, "d_model": 8, "d_k": 3, "d_v": 2}


def head_flow_numbers(sizes: dict = FLOW_SIZES, seed: int = SEED) -> dict:
    """X, X_kv, W^Q, W^K, W^V (random, fixed seed), Q, K, V, the weights A (mhasym.numeric with V = I)
    and the head's output A V (mhasym.numeric)."""
    n, m, d_model, d_k, d_v = (sizes[k] for k in ("n", "m", "d_model", "d_k", "d_v"))
    g = np.random.default_rng(seed)
    x, x_kv = g.normal(size=(n, d_model)), g.normal(size=(m, d_model))
    w_q, w_k, w_v = (g.normal(size=(d_model, d)) / np.sqrt(d_model) for d in (d_k, d_k, d_v))
    q, k, v = x @ w_q, x_kv @ w_k, x_kv @ w_v
    a = numeric.scaled_dot_product_attention(q, k, np.eye(m))
    return {"x": x, "x_kv": x_kv, "w_q": w_q, "w_k": w_k, "w_v": w_v, "q": q, "k": k, "v": v, "a": a,
            "out": numeric.scaled_dot_product_attention(q, k, v)}


def head_flow(lang: str = "en") -> str:
    """X -> X W^Q, X_kv W^K, X_kv W^V -> Q, K, V -> Q K^T / sqrt(d_k) -> softmax per row -> A -> A V,
    with each shape in letters and in the small sizes used, and A drawn large with its numbers."""
    w = WORDS[lang]
    s = FLOW_SIZES
    nums = head_flow_numbers()
    a = nums["a"]
    n, m = a.shape
    body = [ARROW_DEF, _text(350, 18, w["head_flow"], 15, weight="bold")]

    def shape(x, y, letters, numbers):
        body.append(_text(x, y, letters, 12, colour="#444"))
        body.append(_text(x, y + 19, numbers, 12, colour="#888"))

    rows = {"q": 70, "k": 165, "v": 260}  # vertical centres of the three projections
    # inputs: X for the queries, X_kv for the keys and values
    body.append(_box(12, rows["q"] - 20, 56, 40, "#eeeeee"))
    body.append(_text(40, rows["q"], "X", 15))
    shape(40, rows["q"] + 34, _symbols("n × d_model"), f"{s['n']} × {s['d_model']}")
    mid_kv = (rows["k"] + rows["v"]) / 2
    body.append(_box(12, mid_kv - 20, 56, 40, "#eeeeee"))
    body.append(_text(40, mid_kv, _sub("X", "kv"), 15))
    shape(40, mid_kv + 34, _symbols("m × d_model"), f"{s['m']} × {s['d_model']}")
    # projections and their results
    for key, letter, src_y, rows_letter, d, colour in (("q", "Q", rows["q"], "n", "d_k", "#d7e8f7"),
                                                        ("k", "K", mid_kv, "m", "d_k", "#f8e3c4"),
                                                        ("v", "V", mid_kv, "m", "d_v", "#dff1da")):
        y = rows[key]
        src = "X" if key == "q" else _sub("X", "kv")
        body.append(_arrow(68, src_y, 96, y))
        body.append(_box(98, y - 18, 84, 36, colour))
        body.append(_text(140, y, f"{src} {_sup('W', letter)}", 14))
        shape(140, y + 32, _sup("W", letter) + ": " + _symbols(f"d_model × {d}"),
              f"{s['d_model']} × {s[d]}")
        body.append(_arrow(182, y, 214, y))
        body.append(_box(216, y - 18, 44, 36, colour))
        body.append(_text(238, y, letter, 15, weight="bold"))
        shape(238, y + 32, _symbols(f"{rows_letter} × {d}"), f"{s[rows_letter]} × {s[d]}")
    # scores, softmax, A
    ys = (rows["q"] + rows["k"]) / 2
    body.append(_arrow(260, rows["q"], 290, ys - 8))
    body.append(_arrow(260, rows["k"], 290, ys + 8))
    body.append(_box(292, ys - 24, 104, 48, "#fff3c4"))
    body.append(_text(344, ys - 10, "Q Kᵀ / √" + _sub("d", "k"), 13))
    body.append(_text(344, ys + 12, w["scores"], 12, colour="#555"))
    shape(344, ys + 38, "n × m", f"{n} × {m}")
    body.append(_arrow(396, ys, 420, ys))
    body.append(_box(422, ys - 24, 88, 48, "#f3e0f0"))
    body.append(_text(466, ys - 10, "softmax", 13))
    body.append(_text(466, ys + 12, w["softmax_rows"], 12, colour="#555"))
    body.append(_arrow(510, ys, 530, ys))
    mini = 11
    ax = 532
    body += _grid(ax, ys - n * mini / 2, a, mini, _blue)
    body.append(_box(ax, ys - n * mini / 2, m * mini, n * mini, "none", rx=0))
    body.append(_text(ax + m * mini / 2, ys - n * mini / 2 - 12, "A", 14, weight="bold"))
    shape(ax + m * mini / 2, ys + 38, "n × m", f"{n} × {m}")
    # A V: from A (down) and from V (right)
    ox = 640
    body.append(_box(ox - 34, rows["v"] - 18, 68, 36, "#e0e0f5"))
    body.append(_text(ox, rows["v"], "A V", 14, weight="bold"))
    shape(ox, rows["v"] + 32, _symbols("n × d_v"), f"{n} × {s['d_v']}")
    body.append(_text(ox, rows["v"] - 32, w["output"], 12, colour="#555"))
    body.append(_arrow(ax + m * mini, ys, ox, ys).replace("marker-end='url(#arrow)'", ""))
    body.append(_arrow(ox, ys, ox, rows["v"] - 44))
    body.append(_arrow(260, rows["v"], ox - 36, rows["v"]))
    # A, large, with its numbers
    cell, top = 40, 385
    hx = 350 - m * cell / 2
    body.append(_text(350, top - 42, _symbols(w["heat_title"]), 13, weight="bold"))
    body.append(_text(350, top - 18, w["random"].format(seed=SEED), 11, colour="#666"))
    body += _grid(hx, top, a, cell, _blue)
    for r in range(n):
        body.append(_text(hx - 8, top + (r + 0.5) * cell, f"{w['query']} {r + 1}", 12, anchor="end"))
        for c in range(m):
            body.append(_classed(_text(hx + (c + 0.5) * cell, top + (r + 0.5) * cell, f"{a[r, c]:.2f}", 12,
                                       colour=_ink(a[r, c])), "a"))
    for c in range(m):
        body.append(_text(hx + (c + 0.5) * cell, top + n * cell + 13, f"{w['key']} {c + 1}", 12))
    bottom = top + n * cell + 40
    body.append(_text(350, bottom, _symbols(w["sizes_here"].format(**s)), 12, colour="#444"))
    for k, line in enumerate(w["self_note"]):
        body.append(_text(350, bottom + 20 * (k + 1), _symbols(line), 12, colour="#444"))
    below = bottom + 20 * (len(w["self_note"]) + 1)
    body.append(_text(350, below, _symbols(w["sizes_paper"].format(**paper.BASE)), 12, colour="#444"))
    return _svg(700, below + 16, body, w["head_flow"])


# 2. W^O as a sum of per-head blocks

WO_SIZES = {"n": 3, "h": 3, "d_v": 2, "d_model": 4}


def wo_blocks_numbers(sizes: dict = WO_SIZES, seed: int = SEED) -> dict:
    """Random heads' outputs and W^O (fixed seed): Concat(head_1..head_h) W^O from mhasym.numeric's
    multi-head attention, and the sum of head_k W^O_k with head_k from its attention."""
    n, h, d_v, d_model = (sizes[k] for k in ("n", "h", "d_v", "d_model"))
    d_k = 2
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, d_model))
    w_q, w_k, w_v = g.normal(size=(h, d_model, d_k)), g.normal(size=(h, d_model, d_k)), g.normal(size=(h, d_model, d_v))
    w_o = g.normal(size=(h * d_v, d_model))
    heads = [numeric.scaled_dot_product_attention(x @ w_q[k], x @ w_k[k], x @ w_v[k]) for k in range(h)]
    whole = numeric.multi_head_attention(x, x, w_q, w_k, w_v, w_o)
    parts = [heads[k] @ w_o[k * d_v:(k + 1) * d_v] for k in range(h)]
    return {"heads": heads, "w_o": w_o, "whole": whole, "parts": parts, "sum": sum(parts)}


def wo_blocks(lang: str = "en") -> str:
    """Concat(head_1, head_2, head_3) (n x h d_v) times W^O cut into row blocks W^O_k (d_v x d_model)
    equals head_1 W^O_1 + head_2 W^O_2 + head_3 W^O_3, every block drawn to scale."""
    w = WORDS[lang]
    s = WO_SIZES
    n, h, d_v, d_model = s["n"], s["h"], s["d_v"], s["d_model"]
    nums = wo_blocks_numbers()
    err = float(np.max(np.abs(nums["whole"] - nums["sum"])))
    cell = 20
    head = w["head"]
    body = [_text(350, 18, _symbols(w["wo_blocks"]), 15, weight="bold")]

    def matrix(x0, y0, rows, cols, colour_of_cell, label, shape_text):
        for r in range(rows):
            for c in range(cols):
                body.append(f"<rect x='{x0 + c * cell:.1f}' y='{y0 + r * cell:.1f}' width='{cell}' "
                            f"height='{cell}' fill='{colour_of_cell(r, c)}' stroke='#fff'/>")
        body.append(_box(x0, y0, cols * cell, rows * cell, "none", rx=0))
        body.append(_text(x0 + cols * cell / 2, y0 - 12, label, 13))
        body.append(_text(x0 + cols * cell / 2, y0 + rows * cell + 13, shape_text, 12, colour="#555"))

    # first line: Concat(...) · W^O = result
    y0 = 70
    x0 = 40
    concat_label = ("Concat(" if lang == "en" else "拼接(") + ", ".join(_sub(head, k + 1) for k in range(h)) + ")"
    matrix(x0, y0 + (h * d_v - n) * cell / 2, n, h * d_v, lambda r, c: HEAD_COLOURS[c // d_v] + "aa",
           concat_label, f"n × h {_sub('d', 'v')} = {n} × {h * d_v}")
    x1 = x0 + h * d_v * cell + 50
    body.append(_text(x1 - 25, y0 + h * d_v * cell / 2, "·", 22))
    matrix(x1, y0, h * d_v, d_model, lambda r, c: HEAD_COLOURS[r // d_v] + "aa", _sup("W", "O"),
           f"h {_sub('d', 'v')} × {_sub('d', 'model')} = {h * d_v} × {d_model}")
    for k in range(h):  # name the row blocks at the side
        body.append(_text(x1 + d_model * cell + 8, y0 + (k + 0.5) * d_v * cell, _sub("W", k + 1, "O"), 13,
                          anchor="start", colour=HEAD_COLOURS[k]))
        if k:
            body.append(f"<line x1='{x1 - 4}' y1='{y0 + k * d_v * cell}' x2='{x1 + d_model * cell + 4}' "
                        f"y2='{y0 + k * d_v * cell}' stroke='#222' stroke-width='2'/>")
    x2 = x1 + d_model * cell + 80
    body.append(_text(x2 - 25, y0 + h * d_v * cell / 2, "=", 22))
    matrix(x2, y0 + (h * d_v - n) * cell / 2, n, d_model, lambda r, c: "#bbbbbb", w["output"],
           f"n × {_sub('d', 'model')} = {n} × {d_model}")
    # second line: = sum over heads of head_k W^O_k
    y1 = y0 + h * d_v * cell + 80
    x = 40
    body.append(_text(x - 18, y1 + d_v * cell / 2 + 4, "=", 22))
    for k in range(h):
        colour = HEAD_COLOURS[k] + "aa"
        matrix(x, y1 + (d_v - n) * cell / 2 + 2, n, d_v, lambda r, c, colour=colour: colour, _sub(head, k + 1),
               f"{n} × {d_v}")
        x += d_v * cell + 10
        body.append(_text(x + 2, y1 + d_v * cell / 2 + 4, "·", 22))
        x += 14
        matrix(x, y1 + 2, d_v, d_model, lambda r, c, colour=colour: colour, _sub("W", k + 1, "O"),
               f"{d_v} × {d_model}")
        x += d_model * cell
        if k < h - 1:
            body.append(_text(x + 22, y1 + d_v * cell / 2 + 4, "+", 22))
            x += 44
    bottom = y1 + n * cell + 50
    body.append(_text(350, bottom, _symbols(w["wo_sizes"].format(**s)), 12, colour="#444"))
    body.append(_text(350, bottom + 20, w["wo_checked"].format(seed=SEED, err=_sci(max(err, 1e-16), 0)), 12,
                      colour="#444"))
    b = paper.BASE
    body.append(_text(350, bottom + 40, w["wo_paper"].format(h=b["h"], d_v=b["d_v"], hd=b["h"] * b["d_v"])
                      .replace("d_v", _sub("d", "v")).replace("d_model", _sub("d", "model")), 12, colour="#444"))
    return _svg(700, bottom + 56, body, w["wo_blocks"])


# 3. the head split

SPLIT_SIZES = {"n": 3, "h": 2, "d_k": 2}


def head_split_arrays(sizes: dict = SPLIT_SIZES) -> dict:
    """P (n, h d_k) numbered 1..n h d_k, its right split P.reshape(n, h, d_k).transpose(1, 0, 2), its
    wrong split P.reshape(h, n, d_k), and, for every entry of each, the head whose columns it came from."""
    n, h, d_k = sizes["n"], sizes["h"], sizes["d_k"]
    p = np.arange(1, n * h * d_k + 1).reshape(n, h * d_k)
    origin = np.broadcast_to(np.arange(h * d_k) // d_k, p.shape)  # the head of each column of P
    right = p.reshape(n, h, d_k).transpose(1, 0, 2)
    wrong = p.reshape(h, n, d_k)
    return {"p": p, "right": right, "wrong": wrong, "p_head": origin,
            "right_head": origin.reshape(n, h, d_k).transpose(1, 0, 2), "wrong_head": origin.reshape(h, n, d_k)}


def head_split(lang: str = "en") -> str:
    """P = X W^Q (numbered entries, columns coloured by head), split right (reshape, then transpose) and
    wrong (reshape alone), drawn from the arrays NumPy gives."""
    w = WORDS[lang]
    s = SPLIT_SIZES
    n, h, d_k = s["n"], s["h"], s["d_k"]
    arr = head_split_arrays()
    cell = 34
    body = [ARROW_DEF, _text(350, 18, _symbols(w["head_split"]), 15, weight="bold")]

    def matrix(x0, y0, values, heads, cls):
        for r in range(values.shape[0]):
            for c in range(values.shape[1]):
                body.append(_box(x0 + c * cell, y0 + r * cell, cell, cell, HEAD_COLOURS[heads[r, c]] + "77", "#fff",
                                 rx=0))
                body.append(_classed(_text(x0 + (c + 0.5) * cell, y0 + (r + 0.5) * cell, str(values[r, c]), 14),
                                     cls))
        body.append(_box(x0, y0, values.shape[1] * cell, values.shape[0] * cell, "none", rx=0))

    # P on the left
    px, py = 90, 100
    body.append(_text(px + h * d_k * cell / 2, py - 46, _symbols(w["p_caption"].format(n=n, h=h, d_k=d_k)), 12))
    body.append(_text(px + h * d_k * cell / 2, py - 24, w["p_note"].format(N=n * h * d_k), 11, colour="#666"))
    matrix(px, py, arr["p"], arr["p_head"], "p")
    for r in range(n):
        body.append(_text(px - 8, py + (r + 0.5) * cell, f"{w['token']} {r + 1}", 12, anchor="end"))
    for k in range(h):
        body.append(_text(px + (k + 0.5) * d_k * cell, py + n * cell + 14, f"{w['head']} {k + 1}", 12,
                          colour=HEAD_COLOURS[k]))
    body.append(_text(px + h * d_k * cell / 2, py + n * cell + 36, w["colour_note"], 11, colour="#666"))
    # the two splits on the right
    rx0 = 330
    for row, (key, verdict, code, mark, mark_colour) in enumerate((
            ("right", w["right"], "P.reshape(n, h, d_k).transpose(1, 0, 2)", "✓", "#2e7d32"),
            ("wrong", w["wrong"], "P.reshape(h, n, d_k)", "✗", "#c62828"))):
        y0 = 62 + row * 190
        body.append(_arrow(px + h * d_k * cell + 10, py + n * cell / 2, rx0 - 30, y0 + 44 + n * cell / 2))
        body.append(_text(rx0, y0, _symbols(code), 13, anchor="start", colour="#333")
                    .replace("font-weight='normal'", "font-family='DejaVu Sans Mono, monospace' font-weight='normal'"))
        body.append(_text(rx0 + 20, y0 + 24, verdict, 12, anchor="start", colour=mark_colour))
        body.append(_text(rx0 + 6, y0 + 24, mark, 15, colour=mark_colour, weight="bold"))
        for k in range(h):
            bx = rx0 + 20 + k * (d_k * cell + 60)
            matrix(bx, y0 + 44, arr[key][k], arr[f"{key}_head"][k], f"{key}{k}")
            name = f"{w['head']} {k + 1}" if key == "right" else f"{w['block']} {k + 1}"
            body.append(_text(bx + d_k * cell / 2, y0 + 44 + n * cell + 14, name, 12))
    return _svg(700, 62 + 190 + 44 + n * cell + 34, body, w["head_split"])


# 4. post-LN and pre-LN

def post_pre_ln_numbers(n: int = 4, d: int = 8, seed: int = SEED) -> dict:
    """Outputs of one sublayer with a residual connection, post-LN and pre-LN, for random x and a random
    feed-forward sublayer (mhasym.numeric.layer_norm and feed_forward)."""
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, d))
    w_1, b_1, w_2, b_2 = g.normal(size=(d, 2 * d)), g.normal(size=2 * d), g.normal(size=(2 * d, d)), g.normal(size=d)
    gamma, beta = np.ones(d), np.zeros(d)

    def sub(v):
        return numeric.feed_forward(v, w_1, b_1, w_2, b_2)

    post = numeric.layer_norm(x + sub(x), gamma, beta)
    pre = x + sub(numeric.layer_norm(x, gamma, beta))
    return {"x": x, "post": post, "pre": pre}


def post_pre_ln(lang: str = "en") -> str:
    """Two columns, data flowing upwards: x -> Sublayer -> (+ x) -> LayerNorm (post-LN) and
    x -> LayerNorm -> Sublayer -> (+ x) (pre-LN), each with its residual path."""
    w = WORDS[lang]
    nums = post_pre_ln_numbers()
    body = [ARROW_DEF, _text(350, 18, w["post_pre_ln"], 15, weight="bold")]
    sub_colour, norm_colour = "#d7e8f7", "#fff3c4"

    def column(cx, title, formula, order, out):
        body.append(_text(cx, 48, title, 14, weight="bold"))
        body.append(_text(cx, 70, formula, 13, colour="#333"))
        bottom, top = 400, 96
        body.append(_text(cx, bottom + 14, "x", 15))
        body.append(_text(cx, top + 4, w["output"], 13))
        y = bottom
        centre = {}
        # boxes from bottom to top: 46 high, 34 apart; the addition is a circle
        for item in order:
            if item == "+":
                cy = y - 40
                body.append(_arrow(cx, y, cx, cy + 13))
                body.append(f"<circle cx='{cx}' cy='{cy}' r='12' fill='#fff' stroke='#333'/>")
                body.append(_text(cx, cy, "+", 18))
                centre["+"] = cy
                y = cy - 12
            else:
                word, colour = (w["sublayer"], sub_colour) if item == "sub" else (w["layernorm"], norm_colour)
                top_y = y - 36 - 44
                body.append(_arrow(cx, y, cx, top_y + 44))
                body.append(_box(cx - 80, top_y, 160, 44, colour))
                body.append(_text(cx, top_y + 22, word, 14))
                y = top_y
        body.append(_arrow(cx, y, cx, top + 16))
        # the residual path: from x, round the right, into the addition
        fork, side = bottom - 12, cx + 120
        body.append(f"<circle cx='{cx}' cy='{fork}' r='3' fill='#555'/>")
        body.append(f"<polyline points='{cx},{fork} {side},{fork} {side},{centre['+']}' fill='none' "
                    "stroke='#c0392b' stroke-width='1.5' stroke-dasharray='5 3'/>")
        body.append(_arrow(side, centre["+"], cx + 13, centre["+"]).replace("#555", "#c0392b"))
        lines = w["residual"]
        for k, line in enumerate(lines):
            body.append(_text(side + 8, (fork + centre["+"]) / 2 + (k - (len(lines) - 1) / 2) * 16, line, 12,
                              anchor="start", colour="#c0392b"))
        body.append(_text(cx, bottom + 40, w["rows_stats"].format(mean=_num(np.mean(out)),
                                                                   std=_num(np.mean(np.std(out, axis=1)))),
                          12, colour="#444"))

    column(160, w["post"], w["post_formula"], ["sub", "+", "norm"], nums["post"])
    column(490, w["pre"], w["pre_formula"], ["norm", "sub", "+"], nums["pre"])
    body.append(_text(325, 470, w["stats_note"].format(n=4, d=8, seed=SEED), 11, colour="#666"))
    return _svg(700, 490, body, w["post_pre_ln"])


# 5. the decoder in training and in generation

def decoder_modes(lang: str = "en", length: int = 4) -> str:
    """Left, training with teacher forcing: <s>, y1 .. y3 in at once under a causal mask, predictions of
    y1 .. y3, </s> out. Right, generation: three steps, each feeding the tokens so far and giving one."""
    w = WORDS[lang]
    start, end = "&lt;s&gt;", "&lt;/s&gt;"
    inputs = [start] + [_sub("y", k) for k in range(1, length)]
    targets = [_sub("y", k) for k in range(1, length)] + [end]
    mask = numeric.causal_mask(length, length)
    body = [ARROW_DEF, _text(350, 18, w["decoder_modes"], 15, weight="bold")]
    # left: training
    tw, gap, lx = 38, 8, 22
    xs = [lx + k * (tw + gap) for k in range(length)]
    row_w = length * (tw + gap) - gap
    body.append(_text(186, 48, w["training"], 14, weight="bold"))
    body.append(_text(lx + row_w / 2, 80, w["predictions"], 12, colour="#555"))
    dec_top, dec_bottom = 150, 250
    for k in range(length):
        body.append(_box(xs[k], 94, tw, 30, "#dff1da"))
        body.append(_text(xs[k] + tw / 2, 109, targets[k], 13))
        body.append(_box(xs[k], 282, tw, 30, "#e8e8ff"))
        body.append(_text(xs[k] + tw / 2, 297, inputs[k], 13))
        body.append(_arrow(xs[k] + tw / 2, 280, xs[k] + tw / 2, dec_bottom + 2))
        body.append(_arrow(xs[k] + tw / 2, dec_top, xs[k] + tw / 2, 126))
    body.append(_box(lx - 6, dec_top, row_w + 12, dec_bottom - dec_top, "#f7f7f7", rx=10))
    body.append(_text(lx + row_w / 2, (dec_top + dec_bottom) / 2, w["decoder"], 14))
    body.append(_text(lx + row_w / 2, 330, w["target_in"], 12, colour="#555"))
    # the causal mask, rows (queries) and columns (keys) named by the input tokens
    cell, mx, my = 22, 258, 168
    centre = mx + length * cell / 2
    body.append(_text(centre, my - 56, w["causal_mask"], 13, weight="bold"))
    body.append(_text(centre, my - 36, w["mask_rows"], 11, colour="#555"))
    body.append(_text(centre, my - 20, w["mask_cols"], 11, colour="#555"))
    body += _grid(mx, my, mask.astype(float), cell, lambda v: "#4e79a7" if v else "#eeeeee")
    for k in range(length):
        body.append(_text(mx - 4, my + (k + 0.5) * cell, inputs[k], 11, anchor="end"))
        body.append(_text(mx + (k + 0.5) * cell, my + length * cell + 10, inputs[k], 11))
    body.append(_text(centre, my + length * cell + 32, w["mask_use"], 11, colour="#555"))
    body.append("<line x1='372' y1='40' x2='372' y2='340' stroke='#ccc'/>")
    # right: generation, three steps
    body.append(_text(540, 48, w["generation"], 14, weight="bold"))
    gw, ggap, gx = 32, 5, 440
    dx = gx + 3 * (gw + ggap) + 18  # the decoder's left edge
    ox = dx + 66 + 16  # the new token's left edge
    for step in range(1, 4):
        y = 80 + (step - 1) * 86
        label = w["step"].format(k=step)
        body.append(_text(gx - 10, y + 15, label, 12, anchor="end"))
        for k in range(step):
            body.append(_box(gx + k * (gw + ggap), y, gw, 30, "#e8e8ff"))
            body.append(_text(gx + k * (gw + ggap) + gw / 2, y + 15, inputs[k], 12))
        body.append(_arrow(dx - 20, y + 15, dx - 2, y + 15))
        body.append(_box(dx, y - 2, 66, 34, "#f7f7f7", rx=8))
        body.append(_text(dx + 33, y + 15, w["decoder"], 12))
        body.append(_arrow(dx + 66, y + 15, ox - 2, y + 15))
        body.append(_box(ox, y, gw, 30, "#dff1da"))
        body.append(_text(ox + gw / 2, y + 15, targets[step - 1], 12))
        if step < 3:  # the new token becomes the next step's last input
            nx = gx + step * (gw + ggap) + gw / 2
            body.append(f"<polyline points='{ox + gw / 2},{y + 30} {ox + gw / 2},{y + 52} {nx},{y + 52} "
                        f"{nx},{y + 84}' fill='none' stroke='#59a14f' stroke-width='1.5' stroke-dasharray='4 3' "
                        "marker-end='url(#arrow)'/>")
    body.append(_text(540, 330, w["fed_back"], 12, colour="#555"))
    return _svg(700, 350, body, w["decoder_modes"])


# 6. the positional encoding

def pe_heatmap(lang: str = "en", positions: int = 40, d_model: int = 32) -> str:
    """PE (positions x d_model) from mhasym.numeric as a heat map, with a diverging colour bar from -1 to 1,
    ticks every 10 positions and every 8 columns, and axis titles."""
    w = WORDS[lang]
    pe = numeric.positional_encoding(positions, d_model)
    cw, ch = 13, 10
    x0, y0 = 110, 100
    body = [_text(350, 18, w["pe_heatmap"], 15, weight="bold"),
            _text(350, 38, w["pe_caption"].format(p=positions, d=d_model), 12, colour="#444")]
    for r in range(positions):
        for c in range(d_model):
            body.append(f"<rect x='{x0 + c * cw}' y='{y0 + r * ch}' width='{cw}' height='{ch}' "
                        f"fill='{_diverging(pe[r, c])}'/>")
    body.append(_box(x0, y0, d_model * cw, positions * ch, "none", rx=0))
    body += pe_ticks(x0, y0, (cw, ch), (positions, d_model), (w["column"], w["position"]), (34, 40))
    # the colour bar, from 1 (top) to −1 (bottom)
    body += _colour_bar(x0 + d_model * cw + 50, y0 + 40, 320, _diverging, title="PE")
    return _svg(700, y0 + positions * ch + 20, body, w["pe_heatmap"])


# 7. why several heads

def why_heads_numbers(seed: int = SEED) -> dict:
    """Six tokens with two feature subspaces (columns 0, 1 and 2, 3). Token 1 looks for feature A (column 0)
    and feature B (column 2); token 2 offers A (column 1) and token 5 offers B (column 3); other entries are
    small random numbers (fixed seed). Head 1's W^Q, W^K read subspace 1, head 2's subspace 2; one head
    reads both (its W^Q scaled by sqrt(2) so that its scores are the sum of the two heads' scores).
    The weights of query 1 come from mhasym.numeric with V = I."""
    g = np.random.default_rng(seed)
    x = 0.4 * g.normal(size=(6, 4))
    x[0] = [2.5, 0.0, 2.5, 0.0]
    x[1, 1] = 2.5
    x[4, 3] = 2.5
    # in subspace s (columns 2s, 2s+1) a query reads column 2s and a key column 2s+1
    w_q1 = np.array([[1.0, 0], [0, 1], [0, 0], [0, 0]])
    w_k1 = np.array([[0.0, 1], [1, 0], [0, 0], [0, 0]])
    w_q2, w_k2 = np.roll(w_q1, 2, axis=0), np.roll(w_k1, 2, axis=0)
    w_q, w_k = np.sqrt(2) * np.hstack([w_q1, w_q2]), np.hstack([w_k1, w_k2])

    def weights(wq, wk):
        return numeric.scaled_dot_product_attention(x @ wq, x @ wk, np.eye(6))[0]

    def scores(wq, wk):
        return (x @ wq @ (x @ wk).T / np.sqrt(wq.shape[1]))[0]

    return {"x": x, "w": {"head1": (w_q1, w_k1), "head2": (w_q2, w_k2), "one": (w_q, w_k)},
            "head1": weights(w_q1, w_k1), "head2": weights(w_q2, w_k2), "one": weights(w_q, w_k),
            "scores1": scores(w_q1, w_k1), "scores2": scores(w_q2, w_k2), "scores_one": scores(w_q, w_k)}


def why_heads(lang: str = "en") -> str:
    """Bars of query 1's weights over 6 keys: head 1, head 2 (different peaks) and one head reading both
    subspaces (the peaks blurred), with the paper's reason (Section 3.2.2)."""
    w = WORDS[lang]
    nums = why_heads_numbers()
    body = [_text(350, 18, w["why_heads"], 15, weight="bold"), _text(350, 38, w["why_sub"].format(seed=SEED), 12,
                                                                      colour="#444")]
    left, bw, step, row_h, bar_max = 184, 44, 70, 112, 76
    rows = [("head1", w["head1"], HEAD_COLOURS[0]), ("head2", w["head2"], HEAD_COLOURS[1]),
            ("one", w["one_head"], "#777777")]
    for r, (key, label, colour) in enumerate(rows):
        base = 70 + r * row_h + bar_max + 14
        values = nums[key]
        peak = int(np.argmax(values))
        body.append(_text(left - 14, base - bar_max / 2, label, 12, anchor="end"))
        body.append(_text(left - 14, base - bar_max / 2 + 18, w["max"].format(v=values[peak]), 12, anchor="end",
                          colour="#555"))
        body.append(f"<line x1='{left - 6}' y1='{base}' x2='{left + 6 * step}' y2='{base}' stroke='#555'/>")
        for j, v in enumerate(values):
            x = left + j * step + (step - bw) / 2
            height = max(float(v) * bar_max, 0.5)
            body.append(f"<rect x='{x:.1f}' y='{base - height:.1f}' width='{bw}' height='{height:.1f}' "
                        f"fill='{colour}' fill-opacity='{1.0 if j == peak else 0.45}'/>")
            body.append(_classed(_text(x + bw / 2, base - height - 9, f"{v:.2f}", 12,
                                       weight="bold" if j == peak else "normal"), key))
    axis = 70 + 2 * row_h + bar_max + 14
    for j in range(6):
        body.append(_text(left + (j + 0.5) * step, axis + 16, f"{w['key']} {j + 1}", 12))
    for k, line in enumerate(w["quote"]):
        body.append(_text(350, axis + 46 + k * 18, line, 12, colour="#333"))
    return _svg(700, axis + 46 + len(w["quote"]) * 18 + 8, body, w["why_heads"])


FIGURES = {
    "head_flow": head_flow,
    "wo_blocks": wo_blocks,
    "head_split": head_split,
    "post_pre_ln": post_pre_ln,
    "decoder_modes": decoder_modes,
    "pe_heatmap": pe_heatmap,
    "why_heads": why_heads,
}


def all_figures(lang: str) -> dict:
    """``{name: svg}`` for every teaching figure, in one language."""
    return {name: draw(lang) for name, draw in FIGURES.items()}
