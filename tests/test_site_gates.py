"""The build stops, naming the page, on each kind of broken page."""

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from site_support import ROOT, mkdocs

pytestmark = [pytest.mark.site, pytest.mark.slow]

GOOD_PAGE = "# A page\n\n```formula\nseed.head_1\n```\n"


def project(tmp_path: Path, broken_name: str, broken: str) -> Path:
    """A small copy of the site: the real mkdocs.yml (without the PDFs), two pages, one of them broken."""
    docs = tmp_path / "docs"
    (docs / "stylesheets").mkdir(parents=True)
    (docs / "javascripts").mkdir()
    shutil.copy(ROOT / "docs/stylesheets/mhasym.css", docs / "stylesheets")
    shutil.copy(ROOT / "docs/javascripts/mhasym.js", docs / "javascripts")
    (docs / "index.md").write_text(GOOD_PAGE, encoding="utf-8")
    (docs / broken_name).write_text(broken, encoding="utf-8")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("      downloads: true", "      downloads: false")
    config = re.sub(r"\nnav:.*", f"\nnav:\n  - Home: index.md\n  - Broken: {broken_name}\n", config, flags=re.S)
    config = re.sub(r"  - mkdocstrings:.*?heading_level: 2\n", "", config, flags=re.S)
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    return tmp_path


def notebook(source: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
                                  "outputs": [], "source": source}],
                       "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                       "nbformat": 4, "nbformat_minor": 5})


def run(tmp_path, name, text, prelude=""):
    root = project(tmp_path, name, text)
    if not prelude:
        return mkdocs(["build", "--strict", "-d", str(root / "site")], cwd=root)
    import os
    import subprocess
    import sys
    code = textwrap.dedent(prelude) + (
        "\nimport sys\nfrom mkdocs.__main__ import cli\n"
        f"sys.argv = ['mkdocs', 'build', '--strict', '-d', {str(root / 'site')!r}]\ncli()\n")
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))


def test_the_small_copy_builds_when_nothing_is_broken(tmp_path):
    result = run(tmp_path, "fine.md", GOOD_PAGE)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("name,text,message", [
    ("unknown.md", "# x\n\n```formula\nseed.head_99\n```\n", r"unknown\.md:4: unknown formula id 'seed\.head_99'"),
    ("inline.md", "# x\n\nThe size `#!m d_q` here.\n", r"inline\.md:3: unknown formula id or symbol 'd_q'"),
    ("hand.md", "# x\n\nThe scores are $QK^T$.\n", r"hand\.md:3: math typed by hand"),
    ("hand2.md", "# x\n\n\\begin{pmatrix} a \\end{pmatrix}\n", r"hand2\.md:3: math typed by hand"),
    ("outside.md", "# x\n\n![](https://example.com/a.png)\n", r"outside\.md:3: image or script from an outside server"),
    ("link.md", "# x\n\n[broken](nowhere.md)\n", r"link\.md.*nowhere\.md"),
])
def test_broken_page_stops_the_build(tmp_path, name, text, message):
    result = run(tmp_path, name, text)
    assert result.returncode != 0
    assert re.search(message, result.stdout + result.stderr), (result.stdout + result.stderr)[-2000:]


def test_failing_check_stops_the_build(tmp_path):
    prelude = """
    import mhasym
    from mhasym.catalog.checks import CheckResult
    f = mhasym.formula("seed.head_1")
    f._check = lambda f, expr, sizes: CheckResult(f.id, "numeric", "forced to fail", False, max_error=1.0)
    """
    result = run(tmp_path, "fine.md", GOOD_PAGE, prelude)
    assert result.returncode != 0
    assert re.search(r"index\.md(, fine\.md)?: check of formula 'seed\.head_1' failed", result.stdout + result.stderr)


def test_the_plugin_is_found_through_its_entry_point():
    from mkdocs.plugins import get_plugins

    from mhasym.publish.plugin import MhasymPlugin

    assert get_plugins()["mhasym"].load() is MhasymPlugin


def test_two_builds_in_one_process_work_and_leave_no_temporary_folder(tmp_path):
    import os
    import subprocess
    import sys

    root = project(tmp_path / "project", "fine.md", GOOD_PAGE)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    code = textwrap.dedent(f"""
        from mkdocs.commands.build import build
        from mkdocs.config import load_config
        for k in (1, 2):
            config = load_config({str(root / 'mkdocs.yml')!r}, site_dir={str(root / 'site')!r} + str(k))
            config.plugins.on_startup(command="build", dirty=False)
            build(config)
            config.plugins.on_shutdown()
        """)
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, NO_MKDOCS_2_WARNING="1", TMPDIR=str(scratch)))
    assert result.returncode == 0, result.stderr[-3000:]
    for k in (1, 2):
        assert (root / f"site{k}" / "index.html").is_file() and (root / f"site{k}" / "zh" / "index.html").is_file()
    assert list(scratch.iterdir()) == []


def test_tex_that_katex_cannot_parse_stops_the_build(tmp_path):
    prelude = """
    import mhasym
    f = mhasym.formula("seed.head_1")
    f.__dict__["latex"] = r"Z_1 = \\frac{"
    """
    result = run(tmp_path, "fine.md", GOOD_PAGE, prelude)
    assert result.returncode != 0
    assert re.search(r"index\.md: KaTeX cannot render", result.stdout + result.stderr)


def test_notebook_that_raises_stops_the_build(tmp_path):
    root_text = notebook("raise ValueError('this notebook is broken')")
    result = run(tmp_path, "broken.ipynb", root_text)
    assert result.returncode != 0
    assert "this notebook is broken" in result.stdout + result.stderr
    assert "broken.ipynb" in result.stdout + result.stderr
