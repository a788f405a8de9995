"""Building and serving the site for the tests."""

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def mkdocs(args, cwd=ROOT, timeout=600):
    """Run ``python -m mkdocs ARGS``; returns the CompletedProcess (output captured)."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, "-m", "mkdocs", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def build(site_dir: Path, config: Path = ROOT / "mkdocs.yml"):
    if site_dir.exists():
        shutil.rmtree(site_dir)
    result = mkdocs(["build", "--strict", "-f", str(config), "-d", str(site_dir)], cwd=config.parent)
    if result.returncode != 0:
        raise AssertionError("mkdocs build --strict failed:\n" + result.stdout[-3000:] + result.stderr[-3000:])
    return site_dir


class Server:
    """A static server for a built site on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, directory: Path):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A browser that closes a connection early is not an error of the site."""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def pages(site_dir: Path):
    """Every HTML page of the built site, as paths relative to the site root (404 excluded)."""
    out = []
    for path in sorted(site_dir.rglob("index.html")):
        rel = path.relative_to(site_dir).parent.as_posix()
        out.append("" if rel == "." else rel + "/")
    return out
