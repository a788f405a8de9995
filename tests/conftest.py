"""Shared helpers for the tests: the seed notebook and a LaTeX tokenizer."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seeds" / "000_fb4501f58b0cad46.txt"

_TOKEN = re.compile(r"\\[A-Za-z]+|\\\\|\\.|\S")


def tokens(tex: str) -> list:
    """LaTeX tokens, with braces around a single token after _ or ^ dropped (z_{1} == z_1)."""
    raw = _TOKEN.findall(tex)
    out, k = [], 0
    while k < len(raw):
        t = raw[k]
        if t in "_^" and k + 3 < len(raw) and raw[k + 1] == "{" and raw[k + 3] == "}":
            out += [t, raw[k + 2]]
            k += 4
            continue
        out.append(t)
        k += 1
    return out


def seed_notebook() -> dict:
    """The lecture notebook: the JSON between the first '{' and the last '}', minus the
    timestamp lines that the page it was copied from left inside it."""
    text = SEED.read_text(encoding="utf-8")
    body = text[text.index("{"): text.rindex("}") + 1]
    lines = [ln for ln in body.splitlines() if not re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", ln)]
    return json.loads("\n".join(lines))


def seed_display_formulas() -> list:
    """Every $$...$$ display of the notebook's markdown cells, in order."""
    found = []
    for cell in seed_notebook()["cells"]:
        if cell["cell_type"] == "markdown":
            found += re.findall(r"\$\$(.*?)\$\$", "".join(cell["source"]), flags=re.S)
    return [f.strip() for f in found]


@pytest.fixture(scope="session")
def seed_formulas():
    if not SEED.exists():
        pytest.fail(f"the seed notebook is missing: {SEED}")
    return seed_display_formulas()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The site, built once per test session with ``mkdocs build --strict``."""
    from site_support import build

    return build(tmp_path_factory.mktemp("site") / "site")
