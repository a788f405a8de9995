"""KaTeX at build time: one node process (``katex_server.js``) that turns TeX into HTML.

A request is one JSON line ``{"tex": ..., "display": bool}``; the answer one JSON line, ``{"html": ...}`` or
``{"error": ...}`` (KaTeX runs with ``throwOnError``, so TeX it cannot parse is reported, never drawn in
red). An answer that does not come within ``timeout`` seconds stops the process and raises.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

from mhasym.errors import MhasymError

SERVER = Path(__file__).with_name("katex_server.js")


class KaTeX:
    """The node process, started on first use; ``close()`` ends it (it is started again when needed)."""

    def __init__(self, node_modules: Path, timeout: float = 60.0):
        self.node_modules = Path(node_modules)
        self.timeout = timeout
        self.proc = None

    def _start(self):
        node = shutil.which("node")
        if node is None:
            raise MhasymError("node is not installed; KaTeX needs it at build time")
        if not (self.node_modules / "katex").is_dir():
            raise MhasymError(f"KaTeX is not installed: {self.node_modules / 'katex'} is missing (run `npm ci`)")
        env = {"NODE_PATH": str(self.node_modules), "PATH": str(Path(node).parent)}
        self.proc = subprocess.Popen([node, str(SERVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, encoding="utf-8", env=env)

    def render(self, items, macros=None) -> list:
        """``[(tex, display), ...]`` -> ``[{"html": ...} or {"error": ...}, ...]``, in order; ``macros`` as
        KaTeX takes them (``{"\\mhT": "\\top"}``)."""
        items = list(items)
        if not items:
            return []
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        watchdog = threading.Timer(self.timeout, self.proc.kill)
        watchdog.start()
        try:
            for tex, display in items:
                request = {"tex": tex, "display": display, **({"macros": macros} if macros else {})}
                self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            answers = []
            for _ in items:
                line = self.proc.stdout.readline()
                if not line:
                    raise MhasymError(f"KaTeX did not answer within {self.timeout:g} s")
                answers.append(json.loads(line))
            return answers
        except (BrokenPipeError, OSError) as exc:
            raise MhasymError(f"KaTeX stopped: {exc}") from None
        finally:
            watchdog.cancel()

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def css_rules(css: str) -> list:
    """KaTeX's stylesheet cut into its top-level rules (``@font-face{...}``, ``.katex .mord{...}``, ...)."""
    rules, depth, start = [], 0, 0
    for k, c in enumerate(css):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                rules.append(css[start:k + 1].strip())
                start = k + 1
    return rules


_CLASS = re.compile(r"\.([A-Za-z_][\w-]*)")
_NOT = re.compile(r":not\([^)]*\)")  # a class inside :not(...) need not occur


def css_for(css: str, classes: set, fonts: str) -> str:
    """The part of KaTeX's stylesheet a page needs: every at-rule (the fonts, which a browser loads only when
    used), and of the other rules the selectors whose classes all occur in ``classes``; font files from
    ``fonts`` (a URL ending in ``/``, relative to the page).

    >>> css_for("@font-face{src:url(fonts/A.woff2)}.katex .mord{a:b}.katex .mop,.katex .mord{c:d}.katex .x{e:f}",
    ...         {"katex", "mord"}, "../k/fonts/")
    '@font-face{src:url(../k/fonts/A.woff2)}.katex .mord{a:b}.katex .mord{c:d}'
    """
    kept = []
    for rule in css_rules(css):
        if rule.startswith("@"):
            kept.append(rule)
            continue
        selectors, body = rule[:rule.index("{")], rule[rule.index("{"):]
        used = [s for s in selectors.split(",") if all(c in classes for c in _CLASS.findall(_NOT.sub("", s)))]
        if used:
            kept.append(",".join(used) + body)
    return "".join(kept).replace("url(fonts/", f"url({fonts}")
