"""Chinese for the English sentences that checks and proofs write.

A check result says in English what it compared (``CheckResult.compared``) and what it found
(``CheckResult.detail``); a derivation step's proof says how it was proven (``StepResult.how``), and a
derivation's and an exercise's numbers say what they were compared with. The Chinese pages show these
texts through :func:`translate`.

:func:`to_chinese` reads a text with :data:`RULES`, an ordered list of phrase rules: each is a regular
expression for a whole text (or a part of one) and its Chinese, with named groups for the variable
parts. The first rule that matches wins. A group is, by the first letter of its name:

- ``x``: a part in English, translated by the same rules (the rule does not apply if it cannot be);
- ``y``: the same, but kept as it is when no rule covers it (a Python error message);
- ``s``: sizes such as ``n = 4, m = 7 and n = 2, m = 3 for i = 1, 2`` (see :func:`sizes_to_chinese`);
- ``l``: a list of ids or symbols, ``mha.head, attention.sdpa`` becoming ``mha.head、attention.sdpa``;
- ``n``: a count, in digits or in words (``two`` becomes ``两``);
- ``m``: a SymPy value, with ``oo`` written ``∞``;
- ``k``: a name inside an error message (``'Symbol'``, ``memory``), kept as it is;
- anything else: code, numbers, shapes and symbols, kept as they are (the rule does not apply if the part
  has English words).

A part that holds only code, ids, symbols and numbers (``reference.feed_forward``, ``(n, h d_v)``,
``Q K^T``) is kept as it is. Words of the site's glossary are used: 查询, 键, 值, 掩码, 头, 拼接,
参考实现 (``mhasym.reference``), 编译, 符号元素, 错误版本, 词元, 层标准化. A text that no rule covers is
returned in English: :func:`untranslated` finds the English words left (the tests hold every text of
the catalog to it).

>>> to_chinese("the formula at h = 6, compiled, vs reference.multi_head_attention (via mha.head, attention.sdpa)")
'h = 6 时编译后的公式与 reference.multi_head_attention 比对（经由 mha.head、attention.sdpa）'
>>> untranslated("the formula"), untranslated("公式与 numpy.concatenate(axis=1) 比对")
(True, False)
"""

from __future__ import annotations

import re
from functools import lru_cache

from mhasym.errors import MhasymError

# Pieces of the patterns, written @NAME in them.
_MACROS = {
    "NUM": r"[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?",
    "ID": r"[A-Za-z_]\w*(?:\.\w+)+",  # a dotted name: mha.head, reference.layer_norm, numpy.concatenate
    "SYM": r"(?:[A-Za-zα-ωΑ-Ω]\w*(?:[_^]\w+)+|[A-Za-zα-ωΑ-Ω]\d*)",  # X, W^O, d_k, W^Q_i, m1
    "SHAPE": r"\([^()]*\)",
    "COUNT": r"\d+|[A-Z]|one|two|three|four|five|six|seven|eight|nine|ten",
    "ASSIGNS": r"[A-Za-z]\w* = [\w.+*/^-]+(?:(?:, | and )(?:[A-Za-z]\w* = )?[\w.+*/^-]+)*",
}

_NUMBER_WORDS = {"one": "一", "two": "两", "three": "三", "four": "四", "five": "五", "six": "六",
                 "seven": "七", "eight": "八", "nine": "九", "ten": "十"}

# Sizes whose names are words (the complexity table's kernel width and neighbourhood radius).
_SIZE_NAMES = {"kernel": "卷积核宽度 k", "radius": "邻域半径 r"}

# The phrase rules, in the order they are tried: (English pattern, Chinese). Whole sentences first,
# then the ways sentences are put together (";", "(via ...)", "vs"), then noun phrases and words.
_TABLE = [
    # --- whole sentences of single checks
    (r"mhasym\.numeric vs mhasym\.reference on random numbers", "mhasym.numeric 与 mhasym.reference 在随机数上比对"),
    (r"the scores shown give those weights", "所示得分经 softmax 正好给出这些权重"),
    (r"each head's call and MultiHead\(X, X, X\) computed from the lines shown \(via the catalog\) vs the reference "
     r"and vs the numbers shown",
     "由所示各行（经公式目录）算出每个头的调用和 MultiHead(X, X, X)，与参考实现以及所示数字比对"),
    (r"shapes from mhasym\.numeric's layers vs mhasym\.reference's, base model, random numbers",
     "基础模型在随机数上，mhasym.numeric 各层给出的形状与 mhasym.reference 的比对"),
    (r"the loss at n = (?P<n>\d+), (?P<v>\d+) tokens vs reference\.cross_entropy of the smoothed targets and "
     r"predicted probabilities",
     "n = {n}、词表 {v} 个词元时的损失，与 reference.cross_entropy 由平滑后的目标和预测概率算出的值比对"),
    # --- wrong versions (the "Common mistakes" page) and mutants
    (r"the wrong version, run through the check of (?P<id>@ID): (?P<xa>.+)", "把错误版本代入 {id} 的验证：{xa}"),
    (r"(?P<xa>.+); a wrong version passes: (?P<xb>.+?) at (?P<where>.+)",
     "{xa}；有一个错误版本通过了验证：在 {where} 处{xb}"),
    (r"a wrong version passes: (?P<xb>.+?) at (?P<where>.+)", "有一个错误版本通过了验证：在 {where} 处{xb}"),
    (r"right side := left side", "把右边换成左边"),
    (r"drop the square root", "去掉平方根"),
    (r"square root of another size", "平方根里换成另一个尺寸"),
    (r"another size", "换成另一个尺寸"),
    (r"integer \+ (?P<k>\d+)", "整数加 {k}"),
    (r"integer - (?P<k>\d+)", "整数减 {k}"),
    (r"integer \* (?P<k>\d+)", "整数乘以 {k}"),
    (r"drop the transpose", "去掉转置"),
    (r"softmax over the other axis", "softmax 改在另一个轴上"),
    (r"(?P<a>sin|cos) for (?P<b>sin|cos)", "{a} 换成 {b}"),
    (r"swap the piecewise values", "交换分段定义的两个值"),
    (r"swap two operands", "交换两个操作数"),
    (r"drop a term", "去掉一项"),
    (r"drop a factor", "去掉一个因子"),
    (r"refused, not compared: (?P<xa>.+)", "被拒绝，未做比对：{xa}"),
    (r"the right formula's check passes on it: not caught", "正确公式的验证让它通过了：未被检出"),
    (r"the rewrite that gives the formula shown, run through its right formula's check",
     "把得出所示公式的那处改写代入其正确公式的验证"),

    # --- what a check found (details)
    (r"differs from the reference by more than (?P<e>@NUM)", "与参考实现的差超过 {e}"),
    (r"(?P<k>@NUM) entries differ", "{k} 个元素不同"),
    (r"shapes differ, (?P<a>@SHAPE) != (?P<b>@SHAPE)", "形状不同：{a} != {b}"),
    (r"difference simplifies to 0", "差化简为 0"),
    (r"difference (?P<me>.+)", "差为 {me}"),
    (r"this entry defines (?P<xa>.+), the formula defines (?P<xb>.+)", "本条目定义的是 {xa}，公式定义的却是 {xb}"),
    (r"both sides are the same expression: nothing is proven", "两边是同一个表达式：什么也没有证明"),
    (r"both sides are the same object, which proves nothing", "两边是同一个对象，什么也证明不了"),
    (r"the formula did not evaluate to numbers \((?P<ya>.+)\)", "公式没有求出数值（{ya}）"),
    (r"did not run: (?P<ya>.+)", "无法运行：{ya}"),
    (r"some columns are written twice or never", "有的列写了两次，有的列一次也没写"),
    (r"the call gives (?P<a>@SHAPE), the reference (?P<b>@SHAPE)", "调用给出 {a}，参考实现给出 {b}"),
    (r"(?P<xa>it|the right-hand side) is not a shape \(r, c\)", "{xa}不是形状 (r, c)"),
    (r"links: (?P<c>.+)", "等式链各环节的值：{c}"),
    (r"count (?P<c>.+); limits (?P<ma>\S+) \((?P<xp>\w+)\) and (?P<mb>\S+) \((?P<xq>\w+)\)",
     "计数为 {c}；它与增长阶之比的极限：{xp} → ∞ 时为 {ma}，{xq} → ∞ 时为 {mb}"),
    (r"(?P<c>@SYM): count over growth tends to (?P<mv>\S+) as (?P<xp>\w+) grows",
     "{c}：{xp} → ∞ 时，计数与增长阶之比趋于 {mv}"),
    (r"limits positive and finite for (?P<la>.+)", "{la} 的极限都是有限正数"),
    (r"the lines do not define (?P<la>.+)", "各行没有定义 {la}"),
    (r"formula (?P<a>@NUM), counted (?P<b>@NUM)", "公式给出 {a}，逐个计数得 {b}"),
    (r"shown (?P<a>@NUM) \(about (?P<b>@NUM)\), counted (?P<c>@NUM), reported (?P<d>@NUM) \((?P<e>[-+]?[\d.]+%)\)",
     "所示为 {a}（约 {b}），逐个计数得 {c}，论文报告 {d}（{e}）"),
    (r"the numbers shown are rounded to (?P<k>\d+) decimals", "所示数字已舍入到小数点后 {k} 位"),
    (r"the two sides differ, expanded", "展开后两边不相等"),
    (r"a row that may attend to no key got numbers", "不能关注任何键的行却得到了数值"),
    (r"the reference refuses it", "参考实现拒绝这样的输入"),
    (r"a row with no allowed key gives no numbers", "没有可关注的键的行不给出数值"),
    (r"(?P<k>\d+) keys in (?P<b>\d+) blocks, (?P<r>\d+) rows: max error (?P<e>@NUM) against (?P<xa>.+)",
     "{k} 个键分成 {b} 块，共 {r} 行：与{xa}相比，最大误差为 {e}"),
    (r"(?P<sa>.+): the two sides differ", "{sa} 时两边不相等"),
    (r":? ?the two sides differ", "两边不相等"),

    # --- errors that a formula or a proof can stop with (after "did not run: " or "ProofError: ")
    (r"(?P<kerr>\w+(?:Error|Exception)): (?P<ya>.+)", "{kerr}：{ya}"),
    (r"a step is a relation, got (?P<kc>\w+)", "推导的一步应当是一个关系式，得到的却是 {kc}"),
    (r"an upper bound is (?P<kc>.+), not a number: give it a size", "求和上限是 {kc}，不是数：请给它一个尺寸"),
    (r"(?P<xa>.+) is (?P<kc>.+), not a number: give it a size", "{xa}是 {kc}，不是数：请给它一个尺寸"),
    (r"a size of (?P<kc>.+)", "{kc} 的一个尺寸"),
    (r"a sum whose bounds are not numbers", "求和的上下限不是数"),
    (r"column (?P<kc>.+) is not in the pair 2i, 2i \+ 1", "第 {kc} 列不属于 2i, 2i + 1 这一对"),
    (r"d(?P<ka>\w+): (?P<kb>\w+) is neither an input nor defined in this derivation",
     "d{ka}：{kb} 既不是输入，也没有在本推导中定义"),
    (r"the two sides have shapes (?P<ka>@SHAPE) and (?P<kb>@SHAPE)", "两边的形状分别是 {ka} 和 {kb}"),
    (r"row (?P<kk>\d+) of a softmax has no allowed entry", "softmax 的第 {kk} 行没有可用的元素"),
    (r"no entries for (?P<kc>.+)", "无法写出 {kc} 的元素"),
    (r"cannot write out (?P<kt>\w+) (?P<kc>.+)", "无法逐项写出 {kt} {kc}"),
    (r"entrywise product of shapes (?P<ka>@SHAPE) and (?P<kb>@SHAPE)", "形状为 {ka} 和 {kb} 的逐元素乘积"),
    (r"\('Matrices are not aligned', (?P<ka>\d+), (?P<kb>\d+)\)", "矩阵维数对不上（{ka} 与 {kb}）"),
    (r"Matrices have mismatching shape: (?P<ka>@SHAPE)", "矩阵形状不匹配：{ka}"),
    (r"Matrix size mismatch: (?P<ka>@SHAPE) (?P<kop>[-+*]) (?P<kb>@SHAPE)\.?", "矩阵尺寸不匹配：{ka} {kop} {kb}"),
    (r"Matrix with symbolic shape cannot be represented explicitly\.?", "形状含符号的矩阵无法显式表示"),
    (r"no input for (?P<kc>\S+) of shape (?P<ka>@SHAPE)", "没有形状为 {ka} 的输入 {kc}"),
    (r"no value for the scalar (?P<kc>\S+)", "标量 {kc} 没有取值"),
    (r"argument (?P<kc>\S+) has shape (?P<ka>@SHAPE), the check gives (?P<kb>@SHAPE)",
     "参数 {kc} 的形状是 {ka}，验证给出的却是 {kb}"),
    (r"the left-hand side takes (?P<ka>\d+) arguments, the check gives (?P<kb>\d+)",
     "左边接受 {ka} 个参数，验证给出了 {kb} 个"),
    (r"calls nested more than (?P<kk>\d+) deep at (?P<kc>\w+): the definitions form a cycle",
     "在 {kc} 处调用嵌套超过 {kk} 层：各定义构成了循环"),
    (r"Cannot convert expression to float", "无法把表达式转换为浮点数"),
    (r"Cannot convert symbols to int", "无法把符号转换为整数"),
    (r"Cannot convert complex to float", "无法把复数转换为浮点数"),
    (r"index (?P<ki>\d+) is out of bounds for axis (?P<ka>\d+) with size (?P<kk>\d+)",
     "下标 {ki} 超出第 {ka} 轴的范围（该轴长 {kk}）"),
    (r"(?P<ka>\w+) must have (?P<kc>\S+ = \d+) columns like (?P<kb>\w+), got (?P<kk>\d+)",
     "{ka} 应当像 {kb} 一样有 {kc} 列，实际有 {kk} 列"),
    (r"(?P<ka>\w+) must have (?P<kc>\S+ = \d+) rows like (?P<kb>\w+), got (?P<kk>\d+)",
     "{ka} 应当像 {kb} 一样有 {kc} 行，实际有 {kk} 行"),
    (r"(?P<ka>\w+) must have (?P<kc>\S+ = \d+) rows, got (?P<kk>\d+)", "{ka} 应当有 {kc} 行，实际有 {kk} 行"),
    (r"(?P<ka>\w+) must have shape (?P<kc>\(.*\)), got (?P<kb>@SHAPE)", "{ka} 的形状应当是 {kc}，实际是 {kb}"),
    (r"maximum recursion depth exceeded(?: while calling a Python object)?", "超出了最大递归深度"),
    (r"(?P<kc>\S+) is a named call; compile its expanded definition", "{kc} 是具名调用：请编译它展开后的定义"),
    (r"cannot create mpf from (?P<kc>.+)", "无法由 {kc} 构造 mpf 数"),
    (r"cannot determine truth value of Relational: (?P<kc>.+)", "无法判定关系式 {kc} 的真假"),
    (r"(?P<kc>Relation\(.*\)) is not a statement X in R\^\(r x c\)", "{kc} 不是 X ∈ R^(r x c) 形式的陈述"),
    (r"name '(?P<kc>\w+)' is not defined", "名称 '{kc}' 未定义"),
    (r"'(?P<ka>\w+)' object has no attribute '(?P<kb>\w+)'", "'{ka}' 对象没有属性 '{kb}'"),
    (r"(?P<kc>float|int)\(\) argument must be a string or a real number, not '(?P<kt>\w+)'",
     "{kc}() 的参数应当是字符串或实数，而不是 '{kt}'"),
    (r"(?P<kc>float|int)\(\) argument must be a string, a bytes-like object or a real number, not '(?P<kt>\w+)'",
     "{kc}() 的参数应当是字符串、类字节对象或实数，而不是 '{kt}'"),
    (r"(?P<kc>.+) contains an element of the set of generators\.?", "{kc} 含有生成元集合中的元素"),

    # --- how a step of a derivation was proven (sizes lists may hold ";")
    (r"SymPy's derivatives with symbolic entries at (?P<sa>.+) \((?P<k>\d+) cases, (?P<m>\d+) with a mask\)",
     "用 SymPy 对符号元素求导，尺寸取 {sa}（共 {k} 种情形，其中 {m} 种带掩码）"),
    (r"SymPy's derivatives with symbolic entries at (?P<sa>.+) \((?P<k>\d+) cases\)",
     "用 SymPy 对符号元素求导，尺寸取 {sa}（共 {k} 种情形）"),
    (r"SymPy's derivatives with symbolic entries at (?P<sa>.+)", "用 SymPy 对符号元素求导，尺寸取 {sa}"),
    (r"written out and simplified at (?P<sa>.+) \((?P<k>\d+) cases\)", "逐项写出并化简，尺寸取 {sa}（共 {k} 种情形）"),
    (r"written out with symbolic entries at (?P<sa>.+)", "用符号元素逐项写出，尺寸取 {sa}"),
    ((r"expectations computed from independence and no other assumption \(other moments left as symbols\) "
      r"at (?P<sa>.+)"), "只假设各元素独立，计算期望（其余各阶矩保留为符号），尺寸取 {sa}"),
    (r"expectations computed from independence and (?P<xa>.+?) \(other moments left as symbols\) at (?P<sa>.+)",
     "假设各元素独立且{xa}，计算期望（其余各阶矩保留为符号），尺寸取 {sa}"),
    (r"mean (?P<a>@NUM) and variance (?P<b>@NUM)", "均值为 {a}、方差为 {b}"),
    (r"mean (?P<a>@NUM)", "均值为 {a}"),
    (r"variance (?P<a>@NUM)", "方差为 {a}"),
    (r"equal with symbolic entries at (?P<k>\d+) sizes", "用符号元素在 {k} 组尺寸下验证相等"),
    (r"simplified symbolically by SymPy", "由 SymPy 符号化简"),

    # --- sentences of a few clauses
    (r"(?P<xa>[^;]+?); (?P<xb>.+)", "{xa}；{xb}"),
    (r"(?P<xa>.+) \(via (?P<la>@ID(?:, @ID)*)\)", "{xa}（经由 {la}）"),
    (r"(?P<xa>.+) \(each line solved for the symbol it defines\)", "{xa}（每一行都对它所定义的符号求解）"),
    (r"(?P<xa>.+), too", "{xa}也一并比对"),
    (r"with values from another sequence than the keys, vs (?P<xa>.+)", "值取自不同于键的另一序列时，与{xa}比对"),
    (r"weights of the claimed shapes, for every head, taken by (?P<c>@ID)", "每个头都按所声称的形状构造权重，{c} 接受了它们"),
    (r"its output is (?P<c>.+)", "其输出为 {c}"),
    (r"arrays of the shapes claimed for (?P<la>.+?) in (?P<xa>.+) and in (?P<xb>.+)",
     "按所声称的 {la} 的形状构造数组，代入{xa}以及{xb}"),
    (r"shape of (?P<c>.+?) run through (?P<id>@ID), the shape shown, and (?P<d>@ID)'s",
     "比对三个形状：{c} 经 {id} 运行所得的形状、所示形状和 {d} 给出的形状"),
    (r"both sides, compiled, on random (?P<a>@SYM) and a permutation (?P<p>@SYM)",
     "编译后的两边在随机的 {a} 和置换 {p} 上求值"),
    (r"(?P<xa>.+?)'s (?P<xn>\w+) vs (?P<xb>.+?)'s", "{xa}的{xn}与{xb}的{xn}比对"),
    (r"(?P<xa>.+?),? vs (?P<xb>.+?),? and vs (?P<xc>.+)", "{xa}与{xb}比对，并与{xc}比对"),
    (r"(?P<xa>.+? vs .+?), and (?P<xb>.+ vs .+)", "{xa}，{xb}"),
    (r"(?P<xa>.+?) vs (?P<xb>.+) with symbolic entries, (?P<xc>.+)", "用符号元素，{xa}与{xb}比对，{xc}"),
    (r"the formula, compiled, with (?P<xa>.+?), vs (?P<xb>.+)", "取 {xa}，编译后的公式与{xb}比对"),
    (r"(?P<xa>.+?),? vs (?P<xb>.+)", "{xa}与{xb}比对"),

    # --- noun phrases: what was compared
    (r"(?P<c>\S+ = \S+) and (?P<d>\S+ = \S+)", "{c}，{d}"),
    (r"(?P<c>@SYM) as the first line defines it", "{c} 按第一行的定义"),
    (r"(?P<a>@SYM) the (?P<i>\w)-th block of (?P<r>@SYM) rows of (?P<b>@SYM)",
     "{a} 为 {b} 的第 {i} 块（每块 {r} 行）"),
    (r"(?P<xa>.+) read from (?P<c>@ID) at (?P<sa>@ASSIGNS)", "{sa} 时从 {c} 读出的{xa}"),
    (r"(?P<xa>.+?)'s shape at (?P<sa>@ASSIGNS)", "{xa}在 {sa} 时的形状"),
    (r"the model's (?P<c>@SYM) shape", "模型中 {c} 的形状"),
    (r"the model's count of the products \((?P<xa>.+)\)", "模型对各乘积的计数（{xa}）"),
    (r"(?P<xa>.+) at (?P<sa>@ASSIGNS), compiled", "{sa} 时编译后的{xa}"),
    (r"(?P<xa>.+) at (?P<sa>@ASSIGNS), written out", "{sa} 时逐项写出的{xa}"),
    (r"(?P<xa>.+),? written out at (?P<sa>@ASSIGNS)", "{sa} 时逐项写出的{xa}"),
    (r"(?P<xa>.+) written out", "逐项写出的{xa}"),
    (r"(?P<xa>.+), compiled", "编译后的{xa}"),
    (r"(?P<xa>.+), written out", "逐项写出的{xa}"),
    (r"(?P<xa>.+), evaluated with (?P<sa>@ASSIGNS)", "{sa} 时求得的{xa}"),
    (r"(?P<xa>.+) at (?P<k>\d+) steps with (?P<sa>@ASSIGNS) and its own warm-up",
     "{xa}在 {k} 个训练步上的值（{sa}，预热步数取公式自己的）"),
    (r"(?P<xa>.+) \(warm-up (?P<k>\d+)\)", "{xa}（预热 {k} 步）"),
    (r"(?P<xa>.+?) at every \(pos, column\)", "{xa}在每个位置 pos、每一列上的值"),
    (r"(?P<xa>.+?) at every \((?P<c>[^()]*)\)", "{xa}在每个 ({c}) 处的值"),
    (r"(?P<xa>.+) with the paper's (?P<sa>@ASSIGNS)", "{xa}（取论文中的 {sa}）"),
    (r"(?P<xa>.+) at (?P<sa>@ASSIGNS)", "{sa} 时的{xa}"),
    (r"(?P<xa>.+) with an? boolean mask", "使用布尔掩码的{xa}"),
    (r"(?P<xa>.+) with the boolean mask", "使用该布尔掩码的{xa}"),
    (r"(?P<xa>.+) with causal AND padding", "同时使用因果掩码和填充掩码的{xa}"),
    (r"(?P<xa>.+) with a fixed mask", "固定掩码下的{xa}"),
    (r"both sides with symbolic entries", "两边都用符号元素"),
    (r"(?P<xa>.+) with symbolic entries", "使用符号元素的{xa}"),
    (r"(?P<xa>.+), each with its own parameters", "{xa}（每层有各自的参数）"),
    (r"(?P<xa>.+), used in (?P<c>.+)", "{xa}（用于 {c}）"),
    (r"(?P<c>.+) computed by the reference", "参考实现计算的 {c}"),
    (r"(?P<xa>.+) computed from (?P<xb>.+)", "由{xb}算出的{xa}"),
    (r"(?P<xa>.+) \(compiled from the derivation\)", "{xa}（由推导编译而来）"),
    (r"(?P<xa>.+) \((?P<c>@ID)\)", "{xa}（{c}）"),
    (r"(?P<xa>.+) read from (?P<c>@ID)", "从 {c} 读出的{xa}"),
    (r"additive mask from the formula in (?P<c>.+)", "公式给出的加性掩码（用于 {c}）"),
    (r"(?P<xa>.+) from (?P<c>@ID)", "{c} 给出的{xa}"),
    (r"(?P<xa>.+) from (?P<xb>.+)", "由{xb}得到的{xa}"),
    (r"(?P<xa>.+) that (?P<c>@ID) accepts", "{c} 所接受的{xa}"),
    (r"what the reference accepts", "参考实现所接受的形状"),
    (r"(?P<xa>.+) the reference takes", "参考实现所接受的{xa}"),
    (r"(?P<xa>.+) in row-major order", "按行优先顺序排列的{xa}"),
    (r"(?P<xa>.+), as each size grows: every limit positive and finite", "{xa}，各尺寸分别趋于无穷：每个极限都是有限正数"),
    (r"(?P<xa>.+), as (?P<a>@SYM) grows and as (?P<b>@SYM) grows", "{xa}，分别取 {a} → ∞ 和 {b} → ∞"),
    (r"(?P<xa>.+) over the growth shown", "{xa}与所示增长阶之比"),
    (r"multiply-adds counted per layer", "每层逐个计数的乘加次数"),
    (r"multiply-adds of (?P<xa>.+)", "{xa}的乘加次数"),
    (r"every product in the symbolic self-attention layer", "符号自注意力层中所有乘积"),
    (r"numpy\.concatenate of (?P<xa>.+)", "用 numpy.concatenate 拼接{xa}的结果"),
    (r"concatenation of (?P<xa>.+)", "{xa}的拼接"),
    (r"the concatenation", "拼接"),
    (r"(?P<nk>@COUNT) heads of (?P<c>@SHAPE)", "{nk} 个形状为 {c} 的头"),
    (r"(?P<nk>@COUNT) heads of (?P<sa>@ASSIGNS)", "{nk} 个头，每个头 {sa}"),
    (r"(?P<nk>@COUNT) heads", "{nk} 个头"),
    (r"the shape of (?P<nk>@COUNT) NumPy blocks concatenated", "拼接 {nk} 个 NumPy 块所得的形状"),
    (r"the number of entries of (?P<xa>.+)", "{xa}的元素个数"),
    (r"(?:the )?entries of (?P<c>@SYM)", "{c} 的元素"),
    (r"(?:the )?entries of (?P<xa>.+)", "{xa}的元素个数"),
    (r"an? (?P<c>\w+) block", "{c} 块"),
    (r"(?P<nk>@COUNT) reference (?P<xa>encoder|decoder) layers", "参考实现的 {nk} 个{xa}层"),
    (r"(?P<nk>@COUNT) (?P<xa>encoder|decoder) layers", "{nk} 个{xa}层"),
    (r"the reference (?P<xa>encoder|decoder) layer", "参考实现{xa}层"),
    (r"reference attention of decoder queries and encoder keys and values",
     "参考实现的注意力（查询来自解码器，键和值来自编码器）"),
    (r"reference attention of (?P<xa>.+)", "参考实现对{xa}计算的注意力"),
    (r"embedding rows \* (?P<c>\S+) \+ reference encoding", "“嵌入的行 * {c} + 参考实现的位置编码”"),
    (r"the first (?P<c>@SYM) keys being the real tokens", "“前 {c} 个键是真实词元”"),
    (r"the keys before (?P<c>@SYM)", "位于 {c} 之前的键"),
    (r"the variance of (?P<k>@NUM) samples \((?P<v>@NUM)\)", "{k} 个样本的方差（{v}）"),
    (r"a sum written out by hand", "手工逐项写出的求和"),
    (r"(?P<c>.+) by hand", "手算的 {c}"),
    (r"the reference's heads concatenated times (?P<c>@SYM)", "参考实现的各头拼接后乘以 {c} 的结果"),
    (r"(?P<c>@SYM) times the reference", "{c} 乘以参考实现的结果"),
    (r"the NumPy products (?P<la>.+)", "NumPy 计算的乘积 {la}"),
    (r"Table (?P<k>\d+) of the paper", "论文的表 {k}"),
    (r"Table (?P<k>\d+)'s (?P<c>\S+)", "表 {k} 中的 {c}"),
    (r"(?P<c>@SYM) shape", "{c} 的形状"),
    (r"its mean over the masks", "它在所有掩码上的均值"),
    (r"the derivation's (?P<xa>.+)", "推导得到的{xa}"),

    # --- possessives and words
    (r"(?P<xa>.+?)'s (?P<xb>.+)", "{xa}的{xb}"),
    (r"(?P<xa>.+?s)' (?P<xb>.+)", "{xa}的{xb}"),
    (r"(?:the )?formula", "公式"),
    (r"the formulas on one row", "各公式在一行上的值"),
    (r"(?:the )?mask", "掩码"),
    (r"the (?P<nk>@COUNT) formulas", "{nk} 个公式"),
    (r"the formulas", "各公式"),
    (r"the formula shown", "所示公式"),
    (r"entry formula", "逐元素公式"),
    (r"the encoder formula", "编码器公式"),
    (r"the padding formula", "填充公式"),
    (r"the parameter formula", "参数公式"),
    (r"(?:the )?reference", "参考实现"),
    (r"the reference heads", "参考实现的各头"),
    (r"the heads", "各头"),
    (r"those heads", "这些头"),
    (r"the head", "该头"),
    (r"values", "数值"),
    (r"value", "数值"),
    (r"error", "报错信息"),
    (r"the projections", "各投影"),
    (r"the shape shown", "所示形状"),
    (r"the output shape claimed", "所声称的输出形状"),
    (r"the shapes", "形状"),
    (r"shape", "形状"),
    (r"the number shown", "所示数字"),
    (r"the numbers shown", "所示数字"),
    (r"their numbers", "其中写出的数值"),
    (r"both", "两者"),
    (r"it", "它"),
    (r"both sides", "两边"),
    (r"both sides with symbolic entries", "两边都用符号元素"),
    (r"the right side", "右边"),
    (r"the (?P<xa>left|right)-hand side", "{xa}边"),
    (r"left", "左"),
    (r"right", "右"),
    (r"the name on the left-hand side", "左边的名称"),
    (r"the left side", "左边"),
    (r"matrix", "矩阵"),
    (r"each line", "每一行"),
    (r"the lines shown", "所示各行"),
    (r"the last line", "最后一行"),
    (r"the first line", "第一行"),
    (r"call", "调用"),
    (r"the weights and the output", "权重和输出"),
    (r"weights and output", "权重和输出"),
    (r"(?:the )?weights", "权重"),
    (r"output", "输出"),
    (r"the model", "模型"),
    (r"matrix symbols", "矩阵符号"),
    (r"the arrays", "数组"),
    (r"arrays", "数组"),
    (r"weight arrays", "权重数组"),
    (r"the catalog", "公式目录"),
    (r"count", "计数"),
    (r"schedule", "学习率调度"),
    (r"the divisor", "除数"),
    (r"finite differences", "有限差分"),
    (r"the paper", "论文"),
    (r"encoder", "编码器"),
    (r"decoder", "解码器"),
    (r"layer", "层"),
    (r"one shared embedding", "一个共享嵌入"),
    (r"derivation", "推导"),
    (r"its right formula", "其正确公式"),
    (r"check", "验证"),

    # --- lists, last
    (r"(?P<xa>[^,]+), (?P<xb>[^,]+) and (?P<xc>[^,]+)", "{xa}、{xb}和{xc}"),
    (r"(?P<xa>.+?) and (?P<xb>.+)", "{xa}和{xb}"),
    (r"(?P<xa>.+?), (?P<xb>.+)", "{xa}，{xb}"),
]


def _compile(pattern: str) -> re.Pattern:
    for name, body in _MACROS.items():
        pattern = pattern.replace("@" + name, f"(?:{body})")
    return re.compile(pattern)


RULES = [(_compile(english), chinese) for english, chinese in _TABLE]
"""The phrase rules: (compiled English pattern, Chinese template), tried in order."""


# --- what counts as code, and the English words left in a text

_CALL = re.compile(r"[A-Za-z_][\w.^]*\([^()]*\)")  # a call without calls inside: reference.causal_mask('top-left')
_CODE = [
    re.compile(r"'[^'\s]*'"),  # a quoted word: name 'M' is not defined
    re.compile(r"\b\w+(?:Error|Exception)\b"),  # the class of an error
    re.compile(r"[A-Za-z_]\w*(?:\.\w+)+"),  # a dotted name: mha.head, reference.layer_norm
    re.compile(r"[A-Za-zα-ωΑ-Ω]\w*(?:[_^][\w{}]+)+"),  # a symbol with an index: d_k, W^O, W^Q_i, self_attn
    re.compile(r"\b[A-Z][a-z]+[A-Z]\w*"),  # a CamelCase name: DecoderLayer, NamedMatrix
    re.compile(r"\bd[A-Z]\w*"),  # a differential: dQ, dK
    re.compile(r"\d[\w.]*"),  # a number, with its exponent or unit: 1e-10, 213M, m1's digits
]
KEPT_WORDS = frozenset({
    "SymPy", "NumPy", "PyTorch", "mhasym", "LaTeX", "FlashAttention", "Transformer",
    "LayerNorm", "Sublayer", "MultiHead", "Attention", "Concat", "FFN", "Dropout", "ffn", "Encoder", "Decoder",
    "Sum", "mu", "sigma",
    "pos", "softmax", "sqrt", "exp", "log", "max", "min", "sin", "cos", "mpf", "oo", "inf", "nan", "NaN", "True", "False",
})
"""Latin words that are names, not English: libraries, the formulas' operators and functions."""


def english_words(text: str) -> list:
    """The words of ``text`` that look like English: Latin-letter words of two letters or more outside
    calls, quoted strings, dotted names, symbols with indices, numbers and :data:`KEPT_WORDS`.

    >>> english_words("公式与 reference.causal_mask('top-left') 比对；d_k = 64, 213M")
    []
    >>> english_words("the formula, compiled, vs reference.feed_forward")
    ['the', 'formula', 'compiled', 'vs']
    """
    rest, before = text, None
    while rest != before:  # calls inside calls: LayerNorm(x + Sublayer(x))
        before, rest = rest, _CALL.sub(" ", rest)
    for pattern in _CODE:
        rest = pattern.sub(" ", rest)
    return [w for w in re.findall(r"[A-Za-z]{2,}", rest) if w not in KEPT_WORDS]


def untranslated(text: str) -> bool:
    """Whether English words are left in ``text`` (see :func:`english_words`)."""
    return bool(english_words(text))


# --- sizes

_ASSIGN = re.compile(r"[A-Za-z]\w* = [\w.+*/^-]+(?:, (?:[A-Za-z]\w* = )?[\w.+*/^-]+)*")
_INDEX = re.compile(r"[ij] = ")


def sizes_to_chinese(text: str) -> str | None:
    """Sizes as the proofs write them, in Chinese; None when ``text`` is not such a list.

    Groups of sizes are separated by "; " or " and "; a group may end with " with a mask" and may give
    the values that the indices i, j took (" for i = 1, 2 and j = 1, 2").

    >>> sizes_to_chinese("n = 2, m = 3 and n = 3, m = 2 for i = 1, 2 and j = 1")
    'n = 2, m = 3；n = 3, m = 2（i = 1, 2，j = 1）'
    >>> sizes_to_chinese("d_k = 1; d_k = 2 and d_k = 5")
    'd_k = 1、d_k = 2、d_k = 5'
    """
    groups = []  # [base, masked, indices]
    for part in re.split(r"; | and ", text):
        masked = part.endswith(" with a mask")
        part = part.removesuffix(" with a mask")
        base, _, indices = part.rpartition(" for ") if " for " in part else (part, "", "")
        if _INDEX.match(base) and groups and groups[-1][0] and not masked:
            groups[-1][2].append(base)  # "... for i = 1 and j = 1, 2": j belongs to the group before
            continue
        if not _ASSIGN.fullmatch(base) or indices and not _ASSIGN.fullmatch(indices):
            return None
        if _INDEX.match(base) and not indices:
            base, indices = "", base
        groups.append([base, masked, [indices] if indices else []])
    texts = []
    for base, masked, indices in groups:
        text = base + ("（带掩码）" if masked else "")
        if indices:
            text += f"（{'，'.join(indices)}）" if base else "，".join(indices)
        texts.append(text)
    return ("、" if all("," not in t for t in texts) else "；").join(texts)


# --- reading a text with the rules

def _part(name: str, value: str | None) -> str | None:
    """The Chinese of one group of a rule, by the first letter of its name; None when it has none."""
    if value is None:
        return ""
    kind = name[0]
    if kind == "x":
        return _SIZE_NAMES.get(value) or _zh(value)
    if kind == "y":
        return _zh(value) or value
    if kind == "s":
        return sizes_to_chinese(value)
    if kind == "l":
        return re.sub(r",? and |, ", "、", value)
    if kind == "n":
        return _NUMBER_WORDS.get(value, value)
    if kind == "k":
        return value
    if kind == "m":  # a SymPy value: oo is infinity
        return None if untranslated(value) else re.sub(r"\boo\b", "∞", value)
    return None if untranslated(value) else value  # code, numbers, symbols: kept as they are


@lru_cache(maxsize=4096)
def _zh(text: str) -> str | None:
    """The Chinese of ``text`` by the first rule whose parts all have Chinese; None when no rule does."""
    text = text.strip()
    if not untranslated(text):
        return text  # code, symbols, numbers, shapes: kept as they are (and Chinese already)
    for pattern, chinese in RULES:
        found = pattern.fullmatch(text)
        if found is None:
            continue
        parts = {name: _part(name, value) for name, value in found.groupdict().items()}
        if all(v is not None for v in parts.values()):
            return chinese.format(**parts)
    return None


_CJK = "\u3400-\u9fff"
_FULL = "，；：（）、。“”→∈"


def tidy(text: str) -> str:
    """Spaces as Chinese typesetting wants them: one between Chinese and Latin letters or digits, none
    next to full-width punctuation.

    >>> tidy("公式与reference.feed_forward比对 （ 经由 mha.head ）")
    '公式与 reference.feed_forward 比对（经由 mha.head）'
    """
    text = re.sub(rf"([{_CJK}])(?=[A-Za-z0-9_(\[δα-ω'])", r"\1 ", text)
    text = re.sub(rf"(?<=[A-Za-z0-9_)\]δα-ω'%.])([{_CJK}])", r" \1", text)
    text = re.sub(rf" *([{_FULL[:-2]}]) *", r"\1", text)
    text = re.sub(rf"(?<=[{_CJK}]) (?=[{_CJK}])", "", text)
    return re.sub(r" {2,}", " ", text).strip()


def to_chinese(text: str) -> str:
    """The Chinese of one text that a check or a proof wrote. Clauses that no rule covers stay in English
    (:func:`untranslated` finds them).

    >>> to_chinese("formula 2048, counted 2048")
    '公式给出 2048，逐个计数得 2048'
    >>> to_chinese("written out with symbolic entries at n = 3, h = 2 and n = 2, h = 4")
    '用符号元素逐项写出，尺寸取 n = 3, h = 2；n = 2, h = 4'
    """
    if not text.strip():
        return text
    found = _zh(text)
    if found is None:  # translate what can be, clause by clause
        found = "；".join(_zh(clause) or clause for clause in text.split("; "))
    return tidy(found)


def translate(text: str, lang: str) -> str:
    """``text`` in ``lang``: unchanged for "en", :func:`to_chinese` for "zh".

    >>> translate("simplified symbolically by SymPy", "zh")
    '由 SymPy 符号化简'
    """
    if lang == "en":
        return text
    if lang == "zh":
        return to_chinese(text)
    raise MhasymError(f"unknown language {lang!r}; use 'en' or 'zh'")


__all__ = ["KEPT_WORDS", "RULES", "english_words", "sizes_to_chinese", "tidy", "to_chinese", "translate",
           "untranslated"]
