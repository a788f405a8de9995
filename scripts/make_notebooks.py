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
    ("md", "**A question to answer with the package:** multi-head attention gives each of h heads its own "
           "projections. Does splitting one big head into h heads of width d_model / h cost more parameters? "
           "Guess first, then let mhasym count.",
     "**用这个包来回答一个问题**：多头注意力给 h 个头中的每一个都配了自己的投影矩阵。把一个大头拆成 h 个宽度为 "
     "d_model / h 的头，参数会变多吗？先猜一猜，再让 mhasym 来数。"),
    ("md", "The parameter count of one attention block, as a formula from the catalog (it displays as math):",
     "目录中一个注意力块的参数量公式（在 Jupyter 中直接显示为数学公式）："),
    ("code", 'import mhasym\nmhasym.formula("cost.attention_params")', None),
    ("md", "Put in the sizes: the base model's d_model = 512 with 8 heads of 64, and one head of 512:",
     "代入尺寸：基础模型的 d_model = 512，8 个 64 维的头，以及 1 个 512 维的头："),
    ("code", "from mhasym.model import notation\nfrom mhasym.model.cost import attention_parameters\n\n"
             "def block(h, d_model=512):\n    d = d_model // h\n"
             '    sizes = {notation.dim("d_model"): d_model, notation.dim("h"): h, notation.dim("d_k"): d, notation.dim("d_v"): d}\n'
             "    return int(attention_parameters().xreplace(sizes))\n\n"
             'print("8 heads:", block(8), " 1 head:", block(1))',
     "from mhasym.model import notation\nfrom mhasym.model.cost import attention_parameters\n\n"
     "def block(h, d_model=512):\n    d = d_model // h\n"
     '    sizes = {notation.dim("d_model"): d_model, notation.dim("h"): h, notation.dim("d_k"): d, notation.dim("d_v"): d}\n'
     "    return int(attention_parameters().xreplace(sizes))\n\n"
     'print("8 个头：", block(8), " 1 个头：", block(1))'),
    ("md", "The same: the h heads share out the columns of one big projection. The formula's check counted the "
           "entries of real weight arrays:",
     "一样多：h 个头只是把一个大投影的列分开了。这个公式的验证数过真实权重数组的元素个数："),
    ("code", 'print(mhasym.formula("cost.attention_params").check().summary())',
     'r = mhasym.formula("cost.attention_params").check()\nprint("验证通过：", r.passed, "；比较的尺寸：", r.sizes)'),
    ("md", "## What else the package does", "## 这个包还能做什么"),
    ("md", "A formula by id, its title in both languages, and the TeX that the site renders and `mhasym show` prints:",
     "按编号取一个公式，它的中英文标题，以及网站渲染、`mhasym show` 输出的 TeX："),
    ("code", 'f = mhasym.formula("seed.concat_2")\nprint(f.title.en, "/", f.title.zh)\nf',
     'f = mhasym.formula("seed.concat_2")\nprint(f.title.zh)\nf'),
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
    ("code", "from mhasym.model import attention\ns = attention.Sizes.of()\n"
             'head_i = attention.head(s, notation.scalar("i"))\nmhasym.show(head_i)', None),
    ("md", "A derivation, every step proven by SymPy:", "一个推导，每一步都由 SymPy 证明："),
    ("code", 'd = mhasym.derivation("deriv.sdpa_backward")\nprint(d.check().summary())\nd',
     'd = mhasym.derivation("deriv.sdpa_backward")\nprint("每一步都已证明：", d.check().passed)\nd'),
]

NUMBERS = [
    ("md", "# Attention in numbers", "# 用数字看注意力"),
    ("md", "The formula, from the catalog:", "目录中的公式："),
    ("code", 'import numpy as np\nimport mhasym\nfrom mhasym import numeric, reference\nfrom mhasym.publish import figures\n'
             'mhasym.formula("attention.sdpa")', None),
    ("md", "Five positions attend seven positions (n is not m), with two heads. The weights are drawn with "
           "entries of size 1 / sqrt(d_model), as initialisations do, so that the projected queries and keys "
           "have entries of about size 1. The compiled symbolic model and the independent NumPy reference agree:",
     "五个位置关注七个位置（n 不等于 m），两个头。权重矩阵的元素按 1 / sqrt(d_model) 的大小随机生成（与常见的初始化一样），"
     "这样投影后的查询和键的元素大小约为 1。编译后的符号模型与独立的 NumPy 参考实现一致："),
    ("code", "rng = np.random.default_rng(0)\nn, m, d_model, h, d_k, d_v = 5, 7, 8, 2, 3, 4\n"
             "x_q, x_kv = rng.normal(size=(n, d_model)), rng.normal(size=(m, d_model))\n"
             "scale = 1 / np.sqrt(d_model)  # keeps X W^Q and X W^K at entries of about size 1\n"
             "w_q, w_k = rng.normal(size=(h, d_model, d_k)) * scale, rng.normal(size=(h, d_model, d_k)) * scale\n"
             "w_v, w_o = rng.normal(size=(h, d_model, d_v)) * scale, rng.normal(size=(h * d_v, d_model)) * scale\n"
             "got = numeric.multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o)\n"
             "want = reference.multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o)\n"
             'print("shape", got.shape, "max difference", np.abs(got - want).max())',
     "rng = np.random.default_rng(0)\nn, m, d_model, h, d_k, d_v = 5, 7, 8, 2, 3, 4\n"
     "x_q, x_kv = rng.normal(size=(n, d_model)), rng.normal(size=(m, d_model))\n"
     "scale = 1 / np.sqrt(d_model)  # 让 X W^Q 和 X W^K 的元素大小约为 1\n"
     "w_q, w_k = rng.normal(size=(h, d_model, d_k)) * scale, rng.normal(size=(h, d_model, d_k)) * scale\n"
     "w_v, w_o = rng.normal(size=(h, d_model, d_v)) * scale, rng.normal(size=(h * d_v, d_model)) * scale\n"
     "got = numeric.multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o)\n"
     "want = reference.multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o)\n"
     'print("形状", got.shape, "最大差异", np.abs(got - want).max())'),
    ("md", "The weights of each head: every row sums to 1. With scores of variance about 1, each row spreads its "
           "weight over several keys, and the two heads spread it differently.",
     "每个头的注意力权重：每一行和为 1。得分的方差约为 1 时，每一行把权重分给好几个键，两个头的分法也不同。"),
    ("code", "# attention with V = I gives the weight matrix of a head\n"
             "weights = [numeric.scaled_dot_product_attention(x_q @ w_q[i], x_kv @ w_k[i], np.eye(m)) for i in range(h)]\n"
             'print("row sums", [w.sum(axis=1).round(12).tolist() for w in weights])\n'
             'print("largest weight of each row", [w.max(axis=1).round(2).tolist() for w in weights])',
     "# 取 V = I 时，注意力的输出就是这个头的权重矩阵\n"
     "weights = [numeric.scaled_dot_product_attention(x_q @ w_q[i], x_kv @ w_k[i], np.eye(m)) for i in range(h)]\n"
     'print("每行之和", [w.sum(axis=1).round(12).tolist() for w in weights])\n'
     'print("每行最大的权重", [w.max(axis=1).round(2).tolist() for w in weights])'),
    ("code", "from IPython.display import SVG\nSVG(figures.attention_weights(LANG, weights))", None),
    ("md", "**Exercise: saturation.** Predict first, then run the cell below. If the query and key projections are "
           "both multiplied by a factor c, by how much do the scores grow? For c = 3 and c = 10, will the largest "
           "weight of each row be nearer 1/7 or nearer 1?",
     "**练习：饱和**。先预测，再运行下面的单元格。如果查询和键的投影都乘以因子 c，得分会增大多少？c = 3 和 c = 10 时，"
     "每一行最大的权重更接近 1/7 还是更接近 1？"),
    ("code", "for factor in (1, 3, 10):\n"
             "    a = numeric.scaled_dot_product_attention(x_q @ (factor * w_q[0]), x_kv @ (factor * w_k[0]), np.eye(m))\n"
             '    print("factor", factor, "largest weight of each row", a.max(axis=1).round(2).tolist())',
     "for factor in (1, 3, 10):\n"
     "    a = numeric.scaled_dot_product_attention(x_q @ (factor * w_q[0]), x_kv @ (factor * w_k[0]), np.eye(m))\n"
     '    print("因子", factor, "每行最大的权重", a.max(axis=1).round(2).tolist())'),
    ("md", "What the numbers show: the scores grow by c squared, 9 and 100 times, and the rows go towards one key "
           "each, nearly one-hot, where the gradient of the softmax nearly vanishes. Large scores saturate the "
           "softmax whatever makes them large. A wider key is one cause (the variance of a score grows with the key "
           "width), and the division by the square root of the key width removes exactly that cause; large "
           "weights, as here, are another cause, which it does not remove.",
     "数字说明了什么：得分增大为 c 的平方倍，即 9 倍和 100 倍；各行逐渐集中到一个键上，接近独热，此时 softmax 的梯度几乎消失。"
     "不管得分因为什么变大，softmax 都会饱和。键更宽是原因之一（得分的方差随键的宽度增长），除以键宽度的平方根消除的正是这个原因；"
     "像这里这样权重变大是另一个原因，它消除不了。"),
    ("md", "With a causal mask aligned bottom-right (see the masks page), masked keys get exactly 0:",
     "使用右下对齐的因果掩码（见掩码一页）时，被屏蔽的键权重恰好为 0："),
    ("code", 'mask = numeric.causal_mask(n, m, "bottom-right")\n'
             "masked = [numeric.scaled_dot_product_attention(x_q @ w_q[i], x_kv @ w_k[i], np.eye(m), mask) for i in range(h)]\n"
             "SVG(figures.attention_weights(LANG, masked))", None),
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
            out.append(new_code_cell(en if lang == "en" or zh is None else zh))
    if any("LANG" in c[1] for c in cells if c[0] == "code"):
        comment = "language of the figures" if lang == "en" else "图中文字的语言"
        out.insert(1, new_code_cell(f'LANG = "{lang}"  # {comment}'))
    nb.cells = out
    return nb


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, cells in (("using_mhasym", USING), ("attention_numbers", NUMBERS)):
        for lang, suffix in (("en", ""), ("zh", ".zh")):
            nbformat.write(build(cells, lang), OUT / f"{name}{suffix}.ipynb")


if __name__ == "__main__":
    main()
