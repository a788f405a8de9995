"""The bilingual glossary: one table of the terms the pages use, in English and Chinese, with their symbol
and the page where a reader meets them first. The glossary page is built from it, and the tests hold
every page to it (each term on its first page in both languages; the Chinese variants it rules out
nowhere).

>>> TERMS[0].en, TERMS[0].zh
('attention', '注意力')
"""

from __future__ import annotations

from typing import NamedTuple


class Term(NamedTuple):
    en: str
    zh: str
    symbol: str | None  # a notation marker, e.g. "Q"
    page: str  # the page where it is met first: attention, multihead, masks, transformer, cost, derivations, mistakes
    avoid: tuple = ()  # Chinese spellings that the pages must not use for it


TERMS = [
    Term("attention", "注意力", None, "attention"),
    Term("scaled dot-product attention", "缩放点积注意力", None, "attention"),
    Term("self-attention", "自注意力", None, "attention"),
    Term("query", "查询", "Q", "attention"),
    Term("key", "键", "K", "attention"),
    Term("value", "值", "V", "attention"),
    Term("score", "得分", "S", "attention"),
    Term("attention weights", "注意力权重", "A", "attention"),
    Term("one-hot", "独热", None, "attention", ("接近 one-hot",)),
    Term("mask", "掩码", "M", "attention"),
    Term("head", "头", "head:i", "multihead"),
    Term("multi-head attention", "多头注意力", None, "multihead"),
    Term("concatenation", "拼接", None, "multihead"),
    Term("output projection", "输出投影", "W_O", "multihead"),
    Term("subspace", "子空间", None, "multihead"),
    Term("base model", "基础模型", None, "attention"),
    Term("big configuration", "big 配置", None, "attention", ("big 模型", "大模型")),
    Term("causal mask", "因果掩码", None, "masks"),
    Term("padding", "填充", None, "masks", ("补齐",)),
    Term("teacher forcing", "教师强制", None, "masks"),
    Term("key-value cache", "键值缓存", None, "masks"),
    Term("cross-attention", "交叉注意力", None, "masks"),
    Term("token", "词元", None, "attention"),
    Term("embedding", "嵌入", "E", "transformer"),
    Term("positional encoding", "位置编码", "PE", "transformer"),
    Term("encoder", "编码器", None, "masks"),
    Term("decoder", "解码器", None, "masks"),
    Term("residual connection", "残差连接", None, "transformer", ("残差链接",)),
    Term("layer normalisation", "层标准化（层归一化）", "gamma", "transformer"),
    Term("feed-forward network", "前馈网络", "W:1", "transformer"),
    Term("sublayer", "子层", None, "masks"),
    Term("dropout", "随机失活（Dropout）", "P_drop", "transformer"),
    Term("label smoothing", "标签平滑", "eps_ls", "transformer"),
    Term("learning rate", "学习率", "lrate", "transformer"),
    Term("parameter", "参数", None, "cost"),
    Term("loss", "损失", "loss", "derivations"),
    Term("gradient", "梯度", None, "derivations"),
    Term("convention", "约定", None, "mistakes"),
]


def words_of(term: Term, lang: str) -> list:
    """The spellings that count as the term on a page: 层标准化（层归一化） counts as 层标准化 or 层归一化."""
    if lang == "en":
        return [term.en]
    return [w for w in term.zh.replace("）", "").split("（")]


__all__ = ["TERMS", "Term", "words_of"]
