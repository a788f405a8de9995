"""The teaching figures (mhasym.publish.teaching_figures): valid SVG with a title in both languages, text inside
the picture, Chinese labels in Chinese, and the numbers drawn equal to what the package computes."""

import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from mhasym import numeric, reference
from mhasym.publish import teaching_figures as tf

NS = "{http://www.w3.org/2000/svg}"
LANGS = ("en", "zh")
# Latin words a Chinese figure may show: symbols, their subscripts, function names and code.
ALLOWED_LATIN = {"A", "K", "O", "P", "Q", "V", "W", "X", "d", "e", "h", "k", "m", "n", "s", "v", "x", "y",
                 "kv", "model", "PE", "softmax", "sin", "cos", "reshape", "transpose"}


def parse(svg: str):
    return ET.fromstring(svg)


def texts(root, cls=None) -> list:
    return [t for t in root.iter(NS + "text") if cls is None or t.get("class") == cls]


def content(t) -> str:
    return "".join(t.itertext())


def segments(t) -> list:
    """The separate runs of a <text>: its own text, each tspan's text and the text after each tspan, with the
    size factor of each (tspans of the figures are 70 %)."""
    out = [(t.text or "", 1.0)]
    for child in t:
        factor = float(child.get("font-size", "100%").rstrip("%")) / 100
        out += [(child.text or "", factor), (child.tail or "", 1.0)]
    return out


def em(ch: str) -> float:
    """Width of a character in em, a little over what Noto Sans (CJK) gives it (measured with Chromium)."""
    if unicodedata.east_asian_width(ch) in "WFA":  # CJK, and ×, ·, which the CJK font draws 1 em wide
        return 1.0
    if ch in "mwMW":
        return 0.9
    if ch in "iljI.,:;()|!'’ ":
        return 0.34
    if ch.isupper():
        return 0.8
    if ch.isdigit():
        return 0.58
    if ch.islower():
        return 0.57
    return 0.9


def width(t, size: float) -> float:
    """An estimate of a text's width, at least what Chromium draws for the figures' texts."""
    if "Mono" in (t.get("font-family") or ""):
        return 0.62 * size * sum(len(s) * factor for s, factor in segments(t))
    bold = 1.06 if t.get("font-weight") == "bold" else 1.0
    return bold * sum(size * factor * em(ch) for s, factor in segments(t) for ch in s)


def extent(t) -> tuple:
    """(left, top, right, bottom) of a <text> (unrotated, dominant-baseline middle)."""
    x, y, size = float(t.get("x")), float(t.get("y")), float(t.get("font-size"))
    w = width(t, size)
    left = {"start": x, "middle": x - w / 2, "end": x - w}[t.get("text-anchor", "start")]
    return left, y - 0.6 * size, left + w, y + 0.6 * size


def numbers(root, cls) -> np.ndarray:
    return np.array([float(content(t)) for t in texts(root, cls)])


@pytest.fixture(scope="module", params=[(name, lang) for name in tf.FIGURES for lang in LANGS],
                ids=lambda p: f"{p[0]}-{p[1]}")
def figure(request):
    name, lang = request.param
    return name, lang, tf.FIGURES[name](lang)


def test_every_figure_is_listed():
    assert set(tf.FIGURES) == {"head_flow", "wo_blocks", "head_split", "post_pre_ln", "decoder_modes",
                               "pe_heatmap", "why_heads"}
    assert set(tf.WORDS["en"]) == set(tf.WORDS["zh"])


def test_parses_with_a_title(figure):
    name, lang, svg = figure
    root = parse(svg)
    assert root.tag == NS + "svg"
    title = root.find(NS + "title")
    assert title is not None and title.text and title.text.strip()
    assert title.text == tf.WORDS[lang][name]  # in the figure's language


def test_text_stays_inside_the_view_box(figure):
    name, lang, svg = figure
    root = parse(svg)
    _, _, vw, vh = (float(v) for v in root.get("viewBox").split())
    assert float(root.get("width")) == vw <= 720  # readable at about 700 px
    boxes = []
    for t in texts(root):
        assert t.get("transform") is None, content(t)  # the estimate below is for unrotated text
        assert float(t.get("font-size")) >= 11, content(t)
        left, top, right, bottom = extent(t)
        assert left >= 0 and right <= vw, (name, lang, content(t), left, right, vw)
        assert top >= 0 and bottom <= vh, (name, lang, content(t), top, bottom, vh)
        boxes.append((content(t), left, top, right, bottom))
    # no two labels on top of each other (glyphs are about 0.7 of the font size high: allow that much)
    for k, a in enumerate(boxes):
        for b in boxes[k + 1:]:
            across = min(a[3], b[3]) - max(a[1], b[1])
            down = min(a[4], b[4]) - max(a[2], b[2])
            assert across <= 1 or down <= 0.3 * min(a[4] - a[2], b[4] - b[2]), (name, lang, a[0], b[0])


def test_chinese_figures_use_no_english_words():
    for name, draw in tf.FIGURES.items():
        for t in texts(parse(draw("zh"))):
            for s, _ in segments(t):
                for word in re.findall(r"[A-Za-z]+", s):
                    assert word in ALLOWED_LATIN, (name, word, content(t))


def test_english_and_chinese_figures_differ_but_draw_the_same_numbers():
    for name, draw in tf.FIGURES.items():
        en, zh = parse(draw("en")), parse(draw("zh"))
        assert draw("en") != draw("zh"), name
        for cls in {t.get("class") for t in texts(en)} - {None}:
            assert [content(t) for t in texts(en, cls)] == [content(t) for t in texts(zh, cls)], (name, cls)


def test_head_flow_draws_the_weights_that_the_package_computes():
    s = tf.FLOW_SIZES
    nums = tf.head_flow_numbers()
    q, k, v = nums["x"] @ nums["w_q"], nums["x_kv"] @ nums["w_k"], nums["x_kv"] @ nums["w_v"]
    assert q.shape == (s["n"], s["d_k"]) and k.shape == (s["m"], s["d_k"]) and v.shape == (s["m"], s["d_v"])
    a = numeric.scaled_dot_product_attention(q, k, np.eye(s["m"]))
    np.testing.assert_allclose(nums["a"], a, atol=1e-12)
    np.testing.assert_allclose(a, reference.attention_weights(q, k), atol=1e-12)
    np.testing.assert_allclose(nums["out"], a @ v, atol=1e-12)
    drawn = numbers(parse(tf.head_flow("en")), "a").reshape(s["n"], s["m"])
    np.testing.assert_allclose(drawn, a, atol=0.005 + 1e-9)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)


def test_wo_blocks_sum_over_heads_equals_concat_times_wo():
    nums = tf.wo_blocks_numbers()
    s = tf.WO_SIZES
    assert len(nums["parts"]) == s["h"] and nums["w_o"].shape == (s["h"] * s["d_v"], s["d_model"])
    np.testing.assert_allclose(np.hstack(nums["heads"]) @ nums["w_o"], nums["whole"], atol=1e-12)
    np.testing.assert_allclose(nums["sum"], nums["whole"], atol=1e-12)


def test_head_split_draws_the_arrays_numpy_gives():
    n, h, d_k = (tf.SPLIT_SIZES[k] for k in ("n", "h", "d_k"))
    p = np.arange(1, n * h * d_k + 1).reshape(n, h * d_k)
    right = p.reshape(n, h, d_k).transpose(1, 0, 2)
    wrong = p.reshape(h, n, d_k)
    root = parse(tf.head_split("zh"))
    np.testing.assert_array_equal(numbers(root, "p").reshape(p.shape), p)
    for k in range(h):
        np.testing.assert_array_equal(numbers(root, f"right{k}").reshape(n, d_k), right[k])
        np.testing.assert_array_equal(numbers(root, f"wrong{k}").reshape(n, d_k), wrong[k])
        np.testing.assert_array_equal(right[k], p[:, k * d_k:(k + 1) * d_k])  # each head's own columns
    assert not np.array_equal(wrong[0], p[:, :d_k])
    arr = tf.head_split_arrays()
    assert all((arr["right_head"][k] == k).all() for k in range(h))
    assert all(len(np.unique(arr["wrong_head"][k])) > 1 for k in range(h))  # the wrong blocks mix heads


def test_the_right_split_gives_each_heads_projection():
    """With W^Q the per-head matrices side by side (numeric.multi_head_attention's w_q, shape (h, d_model,
    d_k)), the reshape-and-transpose of X W^Q gives X W^Q_k for head k; the reshape alone does not."""
    n, h, d_k, d_model = 3, 2, 2, 5
    g = np.random.default_rng(7)
    x, w_q = g.normal(size=(n, d_model)), g.normal(size=(h, d_model, d_k))
    p = x @ np.concatenate(list(w_q), axis=1)
    right = p.reshape(n, h, d_k).transpose(1, 0, 2)
    for k in range(h):
        np.testing.assert_allclose(right[k], x @ w_q[k], atol=1e-12)
    assert not np.allclose(p.reshape(h, n, d_k)[1], x @ w_q[1])


def test_why_heads_two_heads_peak_on_different_keys_and_one_head_blurs():
    nums = tf.why_heads_numbers()
    x = nums["x"]
    root = parse(tf.why_heads("en"))
    for key in ("head1", "head2", "one"):
        w_q, w_k = nums["w"][key]
        weights = numeric.scaled_dot_product_attention(x @ w_q, x @ w_k, np.eye(6))[0]
        np.testing.assert_allclose(nums[key], weights, atol=1e-12)
        np.testing.assert_allclose(weights, reference.attention_weights(x @ w_q, x @ w_k)[0], atol=1e-12)
        np.testing.assert_allclose(numbers(root, key), weights, atol=0.005 + 1e-9)
    assert int(np.argmax(nums["head1"])) == 1 and int(np.argmax(nums["head2"])) == 4  # keys 2 and 5
    assert np.argmax(nums["head1"]) != np.argmax(nums["head2"])
    assert nums["one"].max() < nums["head1"].max() and nums["one"].max() < nums["head2"].max()
    np.testing.assert_allclose(nums["scores_one"], nums["scores1"] + nums["scores2"], atol=1e-12)
    assert "averaging inhibits this" in " ".join(content(t) for t in texts(root))


def test_post_ln_output_is_normalised_and_pre_ln_output_is_not():
    nums = tf.post_pre_ln_numbers()
    np.testing.assert_allclose(nums["post"].mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(nums["post"].std(axis=1), 1.0, atol=1e-3)
    assert not np.allclose(nums["pre"].std(axis=1), 1.0, atol=0.1)


def test_decoder_modes_draws_the_causal_mask():
    root = parse(tf.decoder_modes("en"))
    cells = [r for r in root.iter(NS + "rect") if r.get("fill") in ("#4e79a7", "#eeeeee")]
    assert len(cells) == 16
    xs, ys = sorted({float(r.get("x")) for r in cells}), sorted({float(r.get("y")) for r in cells})
    drawn = np.zeros((4, 4), bool)
    for r in cells:
        drawn[ys.index(float(r.get("y"))), xs.index(float(r.get("x")))] = r.get("fill") == "#4e79a7"
    np.testing.assert_array_equal(drawn, numeric.causal_mask(4, 4))
    np.testing.assert_array_equal(drawn, np.tril(np.ones((4, 4), bool)))
    words = " ".join(content(t) for t in texts(root))
    assert "<s>" in words and "</s>" in words and "step 3" in words


def test_pe_heatmap_colours_are_the_encoding():
    from mhasym.publish.figures import _diverging

    root = parse(tf.pe_heatmap("zh"))
    pe = numeric.positional_encoding(40, 32)
    cells = [r for r in root.iter(NS + "rect") if r.get("width") == "13" and r.get("height") == "10"]
    assert len(cells) == 40 * 32
    for k, r in enumerate(cells):
        assert r.get("fill") == _diverging(pe[k // 32, k % 32])
    ticks = [content(t) for t in texts(root)]
    for label in ("0", "8", "16", "24", "10", "20", "30", "1", "−1", "位置", "编码的列"):
        assert label in ticks, label


# The figures of mhasym.publish.figures and the teaching figures together, as the site publishes them.

from mhasym.publish import figures as fg  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"
# Latin words a Chinese figure may show, over ALLOWED_LATIN: symbols (N layers, Z and z of the concatenation,
# the indices i and j of the axes), the subscript "model", and the names softmax, LayerNorm, Transformer, log.
ALLOWED_ZH = ALLOWED_LATIN | {"N", "Z", "z", "i", "j", "softmax", "LayerNorm", "Transformer", "log"}


@pytest.fixture(scope="module")
def drawn():
    return {lang: fg.all_figures(lang) for lang in LANGS}


def words_shown(root) -> list:
    """(text, Latin words) for the title and every run of every <text> of a figure (tspans apart, so that
    W and its superscript Q are two symbols, not the word "WQ")."""
    out = [(root.find(NS + "title").text, re.findall(r"[A-Za-z]+", root.find(NS + "title").text))]
    for t in texts(root):
        out += [(content(t), re.findall(r"[A-Za-z]+", s)) for s, _ in segments(t)]
    return out


def test_every_figure_parses_with_a_title_in_its_language(drawn):
    assert set(drawn["en"]) == set(drawn["zh"]) == set(fg.FIGURES) | set(tf.FIGURES)
    for name in drawn["en"]:
        en, zh = parse(drawn["en"][name]), parse(drawn["zh"][name])
        assert en.tag == zh.tag == NS + "svg"
        en_title, zh_title = en.find(NS + "title").text, zh.find(NS + "title").text
        assert en_title and zh_title and en_title != zh_title, name
        assert re.search(r"[\u4e00-\u9fff]", zh_title), (name, zh_title)
        assert not re.search(r"[\u4e00-\u9fff]", en_title), (name, en_title)



@pytest.mark.parametrize("lang", LANGS)
def test_site_figures_keep_their_text_inside_and_apart(lang):
    """The figures of mhasym.publish.figures, as the teaching figures above (rotated axis titles aside)."""
    for name, draw in fg.FIGURES.items():
        root = parse(draw(lang))
        _, _, vw, vh = (float(v) for v in root.get("viewBox").split())
        boxes = []
        for t in texts(root):
            if t.get("transform"):
                continue
            left, top, right, bottom = extent(t)
            assert left >= 0 and right <= vw and top >= 0 and bottom <= vh, (name, content(t), left, right, vw)
            boxes.append((content(t), left, top, right, bottom))
        for k, a in enumerate(boxes):
            for b in boxes[k + 1:]:
                across = min(a[3], b[3]) - max(a[1], b[1])
                down = min(a[4], b[4]) - max(a[2], b[2])
                assert across <= 1 or down <= 0.3 * min(a[4] - a[2], b[4] - b[2]), (name, a[0], b[0])

def test_chinese_figures_show_no_english_words_in_titles_or_texts(drawn):
    for name, svg in drawn["zh"].items():
        for text, words in words_shown(parse(svg)):
            for word in words:
                assert word in ALLOWED_ZH, (name, word, text)
    architecture = " ".join(content(t) for t in texts(parse(drawn["zh"]["architecture"])))
    assert "词嵌入 ×" in architecture and "Embedding" not in architecture  # not "词嵌入 Embedding"
    assert "拼接" in " ".join(content(t) for t in texts(parse(drawn["zh"]["multihead"])))


def test_negative_numbers_are_written_with_the_minus_sign(drawn):
    for lang in LANGS:
        for name, svg in drawn[lang].items():
            root = parse(svg)
            for text in [root.find(NS + "title").text] + [content(t) for t in texts(root)]:
                assert not re.search(r"-\s*\d", text), (lang, name, text)  # a hyphen, not −, before a number
                assert not re.search(r"\de[+−-]?\d", text), (lang, name, text)  # 7.0e-04: powers of ten instead
    post = " ".join(content(t) for t in texts(parse(drawn["en"]["post_pre_ln"])))
    mean = float(np.mean(tf.post_pre_ln_numbers()["pre"]))
    assert mean < 0 and f"mean −{abs(mean):.2f}" in post
    assert "mean 0.00" in post  # the post-LN mean, not "−0.00"


def tick_labels(root, cls) -> list:
    return [(content(t), float(t.get("x")), float(t.get("y"))) for t in texts(root, cls)]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("draw,n,m,grids", [(lambda lang: fg.masks(lang), 4, 7, 2),
                                             (lambda lang: fg.masks(lang, 3, 5), 3, 5, 2),
                                             (lambda lang: fg.attention_weights(lang), 5, 7, 2),
                                             (lambda lang: fg.attention_weights(lang, masked=True), 5, 7, 2)],
                         ids=["masks", "masks-3x5", "weights", "weights-masked"])
def test_matrices_number_their_rows_and_columns_from_one(lang, draw, n, m, grids):
    root = parse(draw(lang))
    rows, cols = tick_labels(root, "row-tick"), tick_labels(root, "col-tick")
    assert [r[0] for r in rows] == [str(k) for k in range(1, n + 1)] * grids
    assert [c[0] for c in cols] == [str(k) for k in range(1, m + 1)] * grids
    # each row's number at the height of that row, each column's under that column
    cells = [r for r in root.iter(NS + "rect") if r.get("width") == r.get("height") and float(r.get("width")) >= 30]
    size = float(cells[0].get("width"))
    ys = sorted({float(r.get("y")) for r in cells})
    xs = sorted({float(r.get("x")) for r in cells})
    assert len(ys) == n and len(xs) == m * grids
    assert [round(y, 1) for _, _, y in rows[:n]] == [round(y + size / 2, 1) for y in ys]
    assert [round(x, 1) for _, x, _ in cols] == [round(x + size / 2, 1) for x in xs]
    words = [content(t) for t in texts(root)]
    query, key = ("query i", "key j") if lang == "en" else ("查询 i", "键 j")
    assert words.count(query) == grids and words.count(key) == grids
    assert "i" not in words  # the row axis says what i counts


@pytest.mark.parametrize("lang,label", [("en", "learning rate"), ("zh", "学习率")])
def test_learning_rate_has_a_y_axis_title_and_powers_of_ten(lang, label):
    root = parse(fg.learning_rate(lang))
    titles = [t for t in texts(root) if content(t) == label]
    assert len(titles) == 1 and titles[0].get("transform", "").startswith("rotate(-90")
    assert float(titles[0].get("x")) < min(float(t.get("x")) for t in texts(root) if "10" in content(t))
    ticks = [content(t) for t in texts(root) if re.fullmatch(r"\d × 10−4", content(t))]
    assert ticks == ["2 × 10−4", "4 × 10−4", "6 × 10−4"]


@pytest.mark.parametrize("lang", LANGS)
def test_architecture_has_residual_paths_into_add_and_norm_and_n_brackets(lang):
    root = parse(fg.architecture(lang))
    _, _, vw, _ = (float(v) for v in root.get("viewBox").split())
    # readable at 560 px wide: no text under about 9.5 px there
    assert min(float(t.get("font-size")) for t in texts(root)) * 560 / vw >= 9.5
    norms = [r for r in root.iter(NS + "rect") if r.get("fill") == "#fff3c4"]
    sublayers = [r for r in root.iter(NS + "rect") if r.get("fill") in ("#d7e8f7", "#dff1da", "#f8dede")]
    assert len(norms) == len(sublayers) == 5  # 2 encoder and 3 decoder sublayers, each with its Add & LayerNorm

    def box(r):
        return tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))

    paths = [p for p in root.iter(NS + "polyline") if p.get("class") == "residual"]
    assert len(paths) == 5
    for p in paths:
        points = [tuple(map(float, xy.split(","))) for xy in p.get("points").split()]
        (x0, y0), (x1, y1) = points[0], points[-1]
        assert p.get("marker-end")
        # from the input of a sublayer (just below its box) ...
        below = [s for s in map(box, sublayers) if s[0] < x0 < s[0] + s[2] and 0 < y0 - (s[1] + s[3]) <= 12]
        assert len(below) == 1, points
        # ... around it (outside its box) ...
        sx, sy, sw, sh = below[0]
        assert all(x < sx or x > sx + sw for x, _ in points[1:])
        # ... into the side of the Add & LayerNorm just above it
        nx, ny, nw, nh = next(n for n in map(box, norms) if abs(n[0] - sx) < 1 and n[1] < sy)
        assert ny < y1 < ny + nh and min(abs(x1 - nx), abs(x1 - nx - nw)) <= 2
        assert sy - (ny + nh) < 20  # the Add & LayerNorm of this sublayer, not of a later one
    brackets = [p for p in root.iter(NS + "polyline") if p.get("class") == "repeat"]
    assert len(brackets) == 2
    stacks = [box(r) for r in root.iter(NS + "rect") if r.get("fill") == "#f7f7f7"]
    for b, stack in zip(brackets, sorted(stacks)):
        ys = [float(xy.split(",")[1]) for xy in b.get("points").split()]
        xs = [float(xy.split(",")[0]) for xy in b.get("points").split()]
        assert min(ys) <= stack[1] + 5 and max(ys) >= stack[1] + stack[3] - 5  # as high as the stack
        assert max(xs) <= stack[0] or min(xs) >= stack[0] + stack[2]  # beside it
    words = [content(t) for t in texts(root)]
    assert words.count("× N") == 2
    assert sum("N = 6" in w for w in words) == 2


def test_head_flow_says_it_draws_the_general_case():
    s = tf.FLOW_SIZES
    assert s["n"] != s["m"]  # queries and keys differ in number: a shape mistake shows
    en = " ".join(content(t) for t in texts(parse(tf.head_flow("en"))))
    zh = " ".join(content(t) for t in texts(parse(tf.head_flow("zh"))))
    assert "general case" in en and "n ≠ m" in en and "in self-attention Xkv = X and m = n" in en
    assert "self-attention: Xkv = X and m = n" not in en
    assert "一般情形" in zh and "n ≠ m" in zh and "自注意力中 Xkv = X，m = n" in zh
    assert f"n = {s['n']}，m = {s['m']}" in zh


@pytest.mark.parametrize("lang", LANGS)
def test_positional_encoding_has_a_colour_scale_with_values(lang):
    from mhasym.publish.figures import _diverging

    root = parse(fg.positional_encoding(lang))
    bar = [r for r in root.iter(NS + "rect") if r.get("width") == "18"]
    assert len(bar) >= 32
    assert bar[0].get("fill") == _diverging(1.0 - 1 / 64) and bar[-1].get("fill") == _diverging(-1.0 + 1 / 64)
    labels = [content(t) for t in texts(root)]
    for tick in ("1", "0.5", "0", "−0.5", "−1", "10", "20", "30", "8", "16", "24"):
        assert tick in labels, tick
    assert ("position" if lang == "en" else "位置") in labels


def code_cells(path) -> list:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_chinese_notebook_comments_and_printed_words_are_chinese():
    for path in sorted(NOTEBOOKS.glob("*.zh.ipynb")):
        for source in code_cells(path):
            for line in source.splitlines():
                comment = line.split("#", 1)[1] if "#" in line else ""
                printed = re.findall(r"print\((.*)\)", line)
                strings = re.findall(r"\"([^\"]*)\"", printed[0]) if printed else []
                for words in [comment] + strings:
                    english = [w for w in re.findall(r"[A-Za-z]{2,}", words) if w not in {"LaTeX", "TeX"}]
                    assert not english, (path.name, line)


@pytest.mark.parametrize("name", ["attention_numbers.ipynb", "attention_numbers.zh.ipynb"])
def test_numbers_notebook_shows_the_encoding_with_its_colour_scale(name):
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    assert all(c.get("outputs", []) == [] for c in nb["cells"] if c["cell_type"] == "code")
    last = code_cells(NOTEBOOKS / name)[-1]
    assert "figures.positional_encoding(LANG)" in last or "teaching_figures.pe_heatmap(LANG)" in last
    lang = "zh" if ".zh." in name else "en"
    assert 'LANG = "%s"' % lang in code_cells(NOTEBOOKS / name)[0]
    svg = fg.positional_encoding(lang)
    assert "−1" in [content(t) for t in texts(parse(svg))]
