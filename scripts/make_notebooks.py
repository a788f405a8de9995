"""Write the site's notebooks (English and Chinese) from one description.

The notebooks are committed; run this after changing it: ``python scripts/make_notebooks.py``.
Markdown cells hold prose only; every formula comes from a code cell (catalog entries or
package objects that display as math).
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[1] / "docs" / "notebooks"

USING = [
    ("md", "# Using mhasym from Python",
     "# 在 Python 中使用 mhasym"),
    ("md", "Catalog entries and the package's objects display as math in Jupyter. A formula by id:",
     "目录中的公式和包里的对象在 Jupyter 中直接显示为数学公式。按编号取一个公式："),
    ("code", 'import mhasym\nmhasym.formula("seed.concat_2")', None),
    ("md", "Its title in both languages; `f.latex` is the TeX that the site renders and `mhasym show` prints:",
     "它的中英文标题；`f.latex` 就是网站渲染、`mhasym show` 输出的 TeX："),
    ("code", 'f = mhasym.formula("seed.concat_2")\nprint(f.title.en, "/", f.title.zh)\nprint(len(f.latex), "characters of TeX")',
     None),
    ("md", "The head outputs of the lecture notebook are SymPy matrices of entry symbols:",
     "课程笔记中各个头的输出是由元素符号组成的 SymPy 矩阵："),
    ("code", "Z1, Z2 = mhasym.head_outputs(2, 2, 3)\nZ1", None),
    ("code", "mhasym.concat([Z1, Z2])", None),
    ("md", "Shapes are computed, also with a symbolic number of heads:",
     "形状是计算出来的，头数也可以是符号："),
    ("code", 'print(mhasym.concat_shape(2, 3, 2), mhasym.concat_shape(2, 3, "h"), mhasym.concat_shape(100, 3, 8))',
     None),
    ("md", "Attention itself is a matrix expression; the package's printer writes it in textbook form:",
     "注意力本身是一个矩阵表达式；包里的打印器把它写成教科书的形式："),
    ("code", "from IPython.display import Math\nfrom mhasym.model import attention, notation\ns = attention.Sizes.of()\n"
             'head_i = attention.head(s, notation.scalar("i"))\nMath(mhasym.latex(head_i))', None),
    ("md", "Every formula has a check; here is what one compared:",
     "每个公式都有验证；下面是其中一个比较的内容："),
    ("code", 'print(mhasym.formula("mha.multihead").check().summary())', None),
    ("md", "Shapes are checked when objects are built; a mistake gives one clear line:",
     "构造对象时会检查形状；出错时给出一行清楚的说明："),
    ("code", 'sizes = attention.Sizes.of(n=4, m=6, d_model=24, h=8, d_k=5, d_v=3)\ntry:\n'
             '    attention.multi_head(sizes, W_O=sizes.matrix("W_O", 20, 24))\nexcept mhasym.MhasymError as error:\n'
             "    print(error)", None),
]

NUMBERS = [
    ("md", "# Attention in numbers", "# 用数字看注意力"),
    ("md", "The formula, from the catalog:", "目录中的公式："),
    ("code", 'import numpy as np\nimport mhasym\nfrom mhasym import numeric, reference\nfrom mhasym.publish import figures\n'
             'mhasym.formula("attention.masked")', None),
    ("md", "Five new positions attend seven positions (n is not m: the first two are earlier positions "
           "whose keys are kept), two heads, a causal mask aligned bottom-right. The compiled symbolic "
           "model and the independent NumPy reference agree:",
     "五个新位置关注七个位置（n 不等于 m：前两个是保留了键的更早位置），两个头，右下对齐的因果掩码。"
     "编译后的符号模型与独立的 NumPy 参考实现一致："),
    ("code", "rng = np.random.default_rng(0)\nn, m, d_model, h, d_k, d_v = 5, 7, 8, 2, 3, 4\n"
             "x_q, x_kv = rng.normal(size=(n, d_model)), rng.normal(size=(m, d_model))\n"
             "w_q, w_k = rng.normal(size=(h, d_model, d_k)), rng.normal(size=(h, d_model, d_k))\n"
             "w_v, w_o = rng.normal(size=(h, d_model, d_v)), rng.normal(size=(h * d_v, d_model))\n"
             'mask = numeric.causal_mask(n, m, "bottom-right")\n'
             "got = numeric.multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, mask)\n"
             "want = reference.multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, mask)\n"
             'print("shape", got.shape, "max difference", np.abs(got - want).max())', None),
    ("md", "The weights of each head: every row sums to 1 and masked keys get exactly 0.",
     "每个头的注意力权重：每一行和为 1，被屏蔽的键权重恰好为 0。"),
    ("code", "# attention with V = I gives the weight matrix of a head\n"
             "weights = [numeric.scaled_dot_product_attention(x_q @ w_q[i], x_kv @ w_k[i], np.eye(m), mask)\n"
             "           for i in range(h)]\n"
             'print("row sums", [w.sum(axis=1).round(12).tolist() for w in weights])', None),
    ("code", "from IPython.display import SVG\nSVG(figures.attention_weights(LANG, weights))", None),
    ("md", "The positional encoding that is added to the embeddings:", "加到词嵌入上的位置编码："),
    ("code", "SVG(figures.positional_encoding(LANG))", None),
]


def build(cells, lang):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = []
    for kind, en, zh in cells:
        if kind == "md":
            out.append(new_markdown_cell(en if lang == "en" else zh))
        else:
            out.append(new_code_cell(en))
    if any("LANG" in c[1] for c in cells if c[0] == "code"):
        out.insert(1, new_code_cell(f'LANG = "{lang}"  # language of the figures'))
    nb.cells = out
    return nb


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, cells in (("using_mhasym", USING), ("attention_numbers", NUMBERS)):
        for lang, suffix in (("en", ""), ("zh", ".zh")):
            nbformat.write(build(cells, lang), OUT / f"{name}{suffix}.ipynb")


if __name__ == "__main__":
    main()
