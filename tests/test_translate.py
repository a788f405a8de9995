"""The Chinese of the texts that checks and proofs write (mhasym.publish.translate): every text of the
catalog today has Chinese with no English words left, and the rules read texts with other numbers, sizes
and ids in the same way."""

import pytest

import mhasym
from mhasym.catalog.exercise import exercises
from mhasym.errors import MhasymError
from mhasym.publish.translate import RULES, english_words, sizes_to_chinese, to_chinese, translate, untranslated


def derivation_texts(did: str) -> list:
    """How each step of derivation ``did`` was proven, and what its numbers were compared with (the proofs
    are run once per process: tests/test_derivations.py has usually run them already)."""
    from mhasym.catalog.derivation import cached_check

    result = cached_check(mhasym.derivation(did))
    return [s.how for s in result.steps] + [what for ok, what in result.numbers]


@pytest.fixture(scope="module")
def catalog_texts():
    """Every English text that a check, a proof or a comparison with numbers writes: what each formula's
    check compared and found (the wrong versions of the "Common mistakes" page among them), how each step
    of a derivation was proven, what a derivation's numbers and each exercise were compared with."""
    texts = set()
    for d in mhasym.derivations():
        texts.update(derivation_texts(d.id))
    for f in mhasym.formulas():
        r = f.check()
        texts.update((r.compared, r.detail))
    mistakes = [f.id for f in mhasym.formulas() if f.id.startswith("mistake.")]
    for fid in mistakes:
        r = mhasym.formula(fid).check()
        texts.update((r.compared, r.detail))
    for e in exercises():
        texts.add(e.check().compared)
    texts.discard("")
    assert mistakes and any(t.startswith("the wrong version, run through the check of ") for t in texts)
    return sorted(texts)


def test_every_catalog_text_has_chinese(catalog_texts):
    assert len(catalog_texts) > 100
    left = [(t, to_chinese(t)) for t in catalog_texts if untranslated(to_chinese(t))]
    assert not left, (
        f"{len(left)} of {len(catalog_texts)} texts keep English words; the first:\n  {left[0][0]!r}\n"
        f"  -> {left[0][1]!r}\n  English words: {english_words(left[0][1])}\n"
        "add a phrase rule for it to mhasym/publish/translate.py")


def test_catalog_texts_keep_their_code(catalog_texts):
    """Ids, code names and numbers are copied, not translated."""
    for text in catalog_texts:
        zh = to_chinese(text)
        for token in ("mha.multihead", "reference.multi_head_attention", "numpy.concatenate", "attention.sdpa",
                      "W^O", "d_k", "1e-10", "(n, h d_v)"):
            if token in text:
                assert token in zh, (text, zh, token)


# Written by hand, with other numbers, sizes and ids than the catalog has today.
PAIRS = [
    ("the formula at h = 6, compiled, vs reference.multi_head_attention (via mha.head, attention.sdpa)",
     "h = 6 时编译后的公式与 reference.multi_head_attention 比对（经由 mha.head、attention.sdpa）"),
    ("the wrong version, run through the check of tr.ffn: the formula, compiled, vs reference.feed_forward",
     "把错误版本代入 tr.ffn 的验证：编译后的公式与 reference.feed_forward 比对"),
    ("formula 2048, counted 1024", "公式给出 2048，逐个计数得 1024"),
    ("differs from the reference by more than 1e-08", "与参考实现的差超过 1e-08"),
    ("7 entries differ", "7 个元素不同"),
    ("shapes differ, (3, 5) != (5, 3)", "形状不同：(3, 5) != (5, 3)"),
    ("the shape shown vs numpy.concatenate of 4 heads of (6, 2)",
     "所示形状与用 numpy.concatenate 拼接 4 个形状为 (6, 2) 的头的结果比对"),
    ("concatenation of three heads vs numpy.concatenate(axis=1)", "三个头的拼接与 numpy.concatenate(axis=1) 比对"),
    ("written out with symbolic entries at n = 3, h = 2 and n = 2, h = 4",
     "用符号元素逐项写出，尺寸取 n = 3, h = 2；n = 2, h = 4"),
    ("written out and simplified at m = 4 for i = 1, 2 and j = 3 (8 cases)",
     "逐项写出并化简，尺寸取 m = 4（i = 1, 2，j = 3）（共 8 种情形）"),
    ("SymPy's derivatives with symbolic entries at n = 3, m = 4, d_k = 2, d_v = 3 (2 cases, 1 with a mask)",
     "用 SymPy 对符号元素求导，尺寸取 n = 3, m = 4, d_k = 2, d_v = 3（共 2 种情形，其中 1 种带掩码）"),
    ("expectations computed from independence and mean 0 (other moments left as symbols) at d_k = 2 and d_k = 7",
     "假设各元素独立且均值为 0，计算期望（其余各阶矩保留为符号），尺寸取 d_k = 2、d_k = 7"),
    ("m = 3, i = 2 with a mask: the two sides differ", "m = 3, i = 2（带掩码）时两边不相等"),
    ("entries of Z_3 vs the head's values in row-major order", "Z_3 的元素与按行优先顺序排列的该头的数值比对"),
    ("the formula, compiled, vs 12 reference encoder layers, each with its own parameters (via tr.encoder_layer, tr.ffn)",
     "编译后的公式与参考实现的 12 个编码器层（每层有各自的参数）比对（经由 tr.encoder_layer、tr.ffn）"),
    ("shown 1,234,567 (about 1,230,000), counted 1,234,567, reported 1,200,000 (+2.9%)",
     "所示为 1,234,567（约 1,230,000），逐个计数得 1,234,567，论文报告 1,200,000（+2.9%）"),
    ("limits positive and finite for C_a, C_b", "C_a、C_b 的极限都是有限正数"),
    ("count 4*d_model*n**2; limits 4 (n) and oo (d_model)",
     "计数为 4*d_model*n**2；它与增长阶之比的极限：n → ∞ 时为 4，d_model → ∞ 时为 ∞"),
    ("12 keys in 3 blocks, 2 rows: max error 3.1e-16 against the reference's softmax(S) V",
     "12 个键分成 3 块，共 2 行：与参考实现的 softmax(S) V 相比，最大误差为 3.1e-16"),
    ("q at every (t, k) vs reference.smoothed_targets with the paper's epsilon_ls = 0.2",
     "q 在每个 (t, k) 处的值与 reference.smoothed_targets（取论文中的 epsilon_ls = 0.2）比对"),
    ("the number shown vs the entries of the arrays the reference takes, and vs Table 4's 100M",
     "所示数字与参考实现所接受的数组的元素个数比对，并与表 4 中的 100M 比对"),
    ("formula vs the number of entries of a cross_attn block that reference.decoder_layer accepts",
     "公式与 reference.decoder_layer 所接受的 cross_attn 块的元素个数比对"),
    (("the formula at i = 3, compiled, vs reference attention of the projections; "
      "the numbers shown are rounded to 4 decimals"),
     "i = 3 时编译后的公式与参考实现对各投影计算的注意力比对；所示数字已舍入到小数点后 4 位"),
    ("the formula, compiled, vs reference.attention_weights; a wrong version passes: drop the transpose at K^T",
     "编译后的公式与 reference.attention_weights 比对；有一个错误版本通过了验证：在 K^T 处去掉转置"),
    ("did not run: no input for W_2 of shape (3, 9)", "无法运行：没有形状为 (3, 9) 的输入 W_2"),
    (("the wrong version, run through the check of mha.head: the formula at i = 1, compiled, "
      "vs reference attention of the projections"),
     "把错误版本代入 mha.head 的验证：i = 1 时编译后的公式与参考实现对各投影计算的注意力比对"),
]


@pytest.mark.parametrize("english, chinese", PAIRS, ids=[p[0][:40] for p in PAIRS])
def test_hand_written_pairs(english, chinese):
    assert to_chinese(english) == chinese
    assert not untranslated(chinese)


def test_english_is_unchanged():
    for english, chinese in PAIRS:
        assert translate(english, "en") == english
        assert translate(english, "zh") == chinese
    with pytest.raises(MhasymError):
        translate("formula 1, counted 1", "fr")


def test_what_no_rule_covers_is_reported():
    """A text outside the rules is not passed off as Chinese: the test above would name it."""
    text = "the heads are permuted before the projection"
    assert untranslated(to_chinese(text))
    assert english_words(to_chinese(text))
    assert not untranslated("与 reference.decoder_layer(norm='pre') 比对，W^Q_i、d_model = 512、Q K^T")
    assert to_chinese("") == ""
    assert to_chinese("(4, 11)") == "(4, 11)"


def test_sizes():
    assert sizes_to_chinese("n = 1, m = 2 for i = 1, 2 and n = 2, m = 1 for i = 3") == \
        "n = 1, m = 2（i = 1, 2）；n = 2, m = 1（i = 3）"
    assert sizes_to_chinese("d_k = 1; d_k = 4 and d_k = 9") == "d_k = 1、d_k = 4、d_k = 9"
    assert sizes_to_chinese("the keys") is None


def test_rules_are_a_table():
    assert len(RULES) > 100
    assert all(hasattr(pattern, "fullmatch") and isinstance(chinese, str) for pattern, chinese in RULES)
