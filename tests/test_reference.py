"""The reference is an independent oracle: NumPy only."""

import ast
from pathlib import Path

import mhasym.reference as reference


def test_reference_imports_numpy_only():
    tree = ast.parse(Path(reference.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or "").split(".")[0])
    assert imported == {"numpy"}
