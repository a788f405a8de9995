"""The site's sources: no math typed by hand, no outside images, markers that exist."""

import json
import re
from pathlib import Path

import pytest

import mhasym
from mhasym.catalog import registry as catalog

DOCS = Path(__file__).resolve().parents[1] / "docs"
MATH = re.compile(r"\$|\\\(|\\\[|\\begin")


def prose_lines(text):
    """Lines outside fenced blocks, with inline code removed, numbered from 1."""
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            inside = not inside
            continue
        if not inside:
            yield number, re.sub(r"`[^`]*`", "", line)


MARKDOWN = sorted(DOCS.rglob("*.md"))
NOTEBOOKS = sorted(DOCS.rglob("*.ipynb"))


def test_there_are_pages_in_both_languages():
    names = {p.name for p in MARKDOWN}
    for page in ("index", "multihead", "attention", "masks", "transformer", "cost", "mistakes", "notation",
                 "lecturers", "api"):
        assert f"{page}.md" in names and f"{page}.zh.md" in names
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.name)
def test_no_math_typed_by_hand_in_markdown(path):
    found = [(n, line) for n, line in prose_lines(path.read_text(encoding="utf-8")) if MATH.search(line)]
    assert not found, f"{path.name}: {found[:3]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_math_typed_by_hand_in_notebook_markdown(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            assert not MATH.search("".join(cell["source"])), "".join(cell["source"])[:80]


@pytest.mark.parametrize("path", MARKDOWN + NOTEBOOKS, ids=lambda p: p.name)
def test_no_images_from_outside_servers(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"!\[[^\]]*\]\(\s*(https?:)?//|<img[^>]*src=[\"']?(https?:)?//", text)


def _markers(text):
    ids, inside = [], False
    for line in text.splitlines():
        if line.strip() == "```formula":
            inside = True
        elif inside and line.strip().startswith("```"):
            inside = False
        elif inside:
            ids += line.split()
    return ids, re.findall(r"`#!m\s+([^`]+?)\s*`", text)


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.name)
def test_every_marker_names_a_catalog_entry(path):
    ids, inline = _markers(path.read_text(encoding="utf-8"))
    for fid in ids:
        mhasym.formula(fid)
    for name in inline:
        catalog.inline(name)


def test_every_formula_of_the_catalog_is_on_the_site_in_both_languages():
    for suffix in (".md", ".zh.md"):
        shown = set()
        for path in MARKDOWN:
            if path.name.endswith(".zh.md") == (suffix == ".zh.md"):
                shown |= set(_markers(path.read_text(encoding="utf-8"))[0])
        missing = {f.id for f in mhasym.formulas()} - shown
        assert not missing, f"not on any {suffix} page: {sorted(missing)}"


def test_seed_content_is_on_the_chinese_page_in_order():
    text = (DOCS / "multihead.zh.md").read_text(encoding="utf-8")
    order = ["多头注意力（Multi-Head Attention）", "8 组不同的", "seed.head_1", "seed.head_2", "seed.concat_2",
             "seed.head_i", "seed.concat_h", "(100, 24)", "mha.multihead"]
    positions = [text.index(s) for s in order]
    assert positions == sorted(positions)
    overview = (DOCS / "transformer.zh.md").read_text(encoding="utf-8")
    for phrase in ("编码器负责接收输入数据、负责提取特征", "词嵌入和位置编码两种编码",
                   "编码器的这一结构重复了 6 层", "这里的多头注意力带有掩码", "解码器也有 6 层"):
        assert phrase in overview
    # the seed's sentences, in Chinese that reads well: not its English terms pasted into them
    for pasted in ("Query、Keys", "self-attention 的基础上", "编码器 Encoder", "解码器 Decoder", "encoder 结构",
                   "Decoder 也有", "Embedding 和 Positional Encoding", "（Self-Attention）", "（Feed-Forward）"):
        assert pasted not in text + overview, pasted


def test_every_derivation_is_on_the_derivations_page_in_both_languages():
    for name in ("derivations.md", "derivations.zh.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        shown = re.findall(r"```derivation\n(\S+)\n```", text)
        assert shown == [d.id for d in mhasym.derivations()], name
