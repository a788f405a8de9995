"""The words of the interface, in English and Chinese: one table for the site, the notes and slides,
and the figures, and the words in which a check result is told.

>>> WORDS["zh"]["checked"]
'已验证'
>>> mutant_words("en", 9, 9), mutant_words("en", 4, 6, 2)
('kills 9 of 9 wrong versions', 'kills 4 of 4 wrong versions (2 more changes proven to give the same result)')
"""

from __future__ import annotations

WORDS = {
    "en": {
        # the site's formula blocks and tables
        "checked": "checked", "rejected": "rejected by the checks", "told_apart": "told apart from the paper's formula by the checks", "copy": "copy LaTeX", "copied": "copied",
        "to_light": "Switch to light mode", "to_dark": "Switch to dark mode", "to_system": "Switch to system preference",
        "wrong": "wrong", "convention": "another convention", "symbol": "symbol", "shape": "shape", "meaning": "meaning", "formulas": "formulas",
        "section": "section", "kinds": "checks",
        # the notes and slides
        "title": "Multi-head attention and the Transformer", "subtitle": "Formulas generated and checked by mhasym",
        "notation": "Notation and conventions", "slides": "Multi-head attention",
        # a check result
        "numeric": "compared with numbers", "shape_check": "shape check", "identity": "proven by SymPy",
        "caught": "wrong version caught", "seed": "seed", "max_error": "max error",
        # the figures
        "warmup_end": "end of warm-up", "training_step": "training step", "learning_rate": "learning rate",
        "input": "input X", "head": "head", "concat": "Concat", "output": "output", "encoder": "Encoder",
           "decoder": "Decoder", "embedding": "Embedding", "positional": "Positional encoding",
           "self_attn": "Multi-head self-attention", "masked_attn": "Masked multi-head self-attention",
           "cross_attn": "Attention over the encoder output", "ffn": "Feed-forward",
           "addnorm": "Add &amp; LayerNorm", "linear": "Linear + softmax", "inputs": "source tokens",
           "outputs": "target tokens (shifted right)", "top_left": "causal, top-left", "bottom_right":
           "causal, bottom-right", "query": "query i", "key": "key j", "position": "position",
           "dimension": "column of the encoding", "allowed": "may attend", "blocked": "masked (minus infinity)",
           "weights": "attention weights of head", "probabilities": "output probabilities",
        # derivations
        "setting": "Setting", "because": "why", "proven": "proven", "not_proven": "not proven",
        "numbers": "numbers", "result": "Result", "derivations": "Derivations", "step": "step",
        "exercise": "Exercise", "answer": "Answer (computed by mhasym)", "colon": ": ", "semicolon": "; ", "comma": ", ", "figure": "A figure drawn by the notebook",
        "term_en": "English", "term_zh": "中文", "first_page": "first met on", "glossary": "Glossary",
        "entropy_title": "Entropy of softmax rows of random scores", "entropy_y": "mean entropy of a row (nats)",
        "scaled": "scores divided by sqrt(d_k)", "unscaled": "scores not divided", "uniform": "uniform weights, log m",
    },
    "zh": {
        "checked": "已验证", "rejected": "被验证拒绝", "told_apart": "验证能把它与论文的公式区分开", "copy": "复制 LaTeX", "copied": "已复制",
        "to_light": "切换到浅色模式", "to_dark": "切换到深色模式", "to_system": "跟随系统设置",
        "wrong": "错误写法", "convention": "另一种约定", "symbol": "符号", "shape": "形状", "meaning": "含义", "formulas": "公式数",
        "section": "章节", "kinds": "验证",
        "title": "多头注意力与 Transformer", "subtitle": "由 mhasym 生成并验证的公式",
        "notation": "符号与约定", "slides": "多头注意力",
        "numeric": "数值比对", "shape_check": "形状检查", "identity": "SymPy 证明", "caught": "错误写法被检出",
        "seed": "随机种子", "max_error": "最大误差",
        "warmup_end": "预热结束", "training_step": "训练步数", "learning_rate": "学习率",
        "input": "输入 X", "head": "头", "concat": "拼接 Concat", "output": "输出", "encoder": "编码器",
           "decoder": "解码器", "embedding": "词嵌入", "positional": "位置编码",
           "self_attn": "多头自注意力", "masked_attn": "带掩码的多头自注意力",
           "cross_attn": "对编码器输出的多头注意力", "ffn": "前馈网络", "addnorm": "残差相加 &amp; 层标准化",
           "linear": "线性层 + softmax", "inputs": "源序列词元", "outputs": "目标序列词元（右移一位）",
           "top_left": "因果掩码，左上对齐", "bottom_right": "因果掩码，右下对齐", "query": "查询 i",
           "key": "键 j", "position": "位置", "dimension": "编码的列", "allowed": "可以关注",
           "blocked": "屏蔽（负无穷）", "weights": "注意力权重，头", "probabilities": "输出概率",
        "setting": "设定", "because": "理由", "proven": "已证明", "not_proven": "未能证明",
        "numbers": "数值", "result": "结论", "derivations": "推导", "step": "第几步",
        "exercise": "练习", "answer": "答案（由 mhasym 计算）", "colon": "：", "semicolon": "；", "comma": "，", "figure": "笔记本绘制的图",
        "term_en": "English", "term_zh": "中文", "first_page": "首次出现", "glossary": "术语表",
        "entropy_title": "随机得分的 softmax 各行的熵", "entropy_y": "每行的平均熵（nat）",
        "scaled": "得分除以 √d_k", "unscaled": "得分不缩放", "uniform": "均匀权重，log m",
    },
}

_KINDS = {"numeric": "numeric", "shape": "shape_check", "identity": "identity", "caught": "caught"}


def mistake_kind(f) -> str | None:
    """"error" or "convention" for a wrong version on the mistakes page, None for the other formulas."""
    from mhasym.catalog.mistakes import MISTAKES

    mistake = MISTAKES.get(f.id.removeprefix("mistake.")) if f.right is not None else None
    return None if mistake is None else mistake.kind


def badge(f, lang: str) -> str:
    """The word shown before a wrong version's title: "wrong", or "differs from the paper" for a convention;
    empty for the other formulas."""
    kind = mistake_kind(f)
    return "" if kind is None else WORDS[lang]["convention" if kind == "convention" else "wrong"]


def kind_name(result, lang: str) -> str:
    """The kind of a check in words: "compared with numbers", "数值比对", ..."""
    key = _KINDS.get(result.kind)
    return WORDS[lang][key] if key else result.kind


def mutant_words(lang: str, killed: int, built: int, equivalent: int = 0, mistake: bool = False) -> str:
    """How many wrong versions (mutants) a check kills, in words: "kills 9 of 9 wrong versions"."""
    if mistake:
        if lang == "en":
            return ("given its right formula instead, the check no longer reports a mistake" if killed == built
                    else "given its right formula, the check still reports a mistake")
        return "换成正确公式后，检查不再报错" if killed == built else "换成正确公式后，检查仍然报错"
    wrong = built - equivalent  # changes that SymPy proves give the same result are not wrong versions
    if lang == "en":
        return f"kills {killed} of {wrong} wrong versions" + (
            (f" ({equivalent} more change proven to give the same result)" if equivalent == 1 else
             f" ({equivalent} more changes proven to give the same result)") if equivalent else "")
    return f"检出 {killed}/{wrong} 个错误版本" + (f"（另有 {equivalent} 处改动经证明结果相同）" if equivalent else "")


def facts(result, lang: str, mutants: bool = True) -> list:
    """A check result's sizes, seed, max error, detail and (``mutants``) kill count, as plain-text parts."""
    w = WORDS[lang]

    from dataclasses import replace

    from mhasym.publish.translate import translate

    def killed(k, built, same):
        return mutant_words(lang, k, built, same, mistake=result.kind == "caught")

    told = replace(result, detail=translate(result.detail, lang)) if result.detail else result
    parts = told.parts(w["seed"], w["max_error"], killed if mutants else None)
    if result.sizes:  # the sizes in the page's punctuation: "n = 4，m = 7" in Chinese
        parts[0] = w["comma"].join(f"{k} = {v}" for k, v in result.sizes.items())
    return parts


def said(text: str, lang: str) -> str:
    """What a check compared or how a step was proven, in the page's language (:mod:`mhasym.publish.translate`)."""
    from mhasym.publish.translate import translate

    return translate(text, lang) if text else text
