"""Benchmarks, each a ratio of two timings taken in the same run (this machine is noisy).

    python benchmarks/run.py            # all benchmarks, one table
    python benchmarks/run.py --quick    # fewer repeats

Ratios are medians over interleaved repeats: A and B alternate, so a slow
moment of the machine hits both.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__file__))


def _timed(fn, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def ratio(a, b, repeats=15, number=None):
    """Median of time(a) / time(b) over interleaved repeats, with the medians of each."""
    a(), b()  # warm up (compilation caches, BLAS threads)
    if number is None:
        once = max(_timed(a, 1), 1e-6)
        number = max(1, int(0.02 / once))
    ta, tb = [], []
    for _ in range(repeats):
        ta.append(_timed(a, number))
        tb.append(_timed(b, number))
    ratios = [x / y for x, y in zip(ta, tb)]
    return statistics.median(ratios), statistics.median(ta), statistics.median(tb)


def mha_inputs(n, m, d_model, h, d_k, d_v, seed=0):
    g = np.random.default_rng(seed)
    return dict(
        x_q=g.normal(size=(n, d_model)), x_kv=g.normal(size=(m, d_model)),
        w_q=g.normal(size=(h, d_model, d_k)), w_k=g.normal(size=(h, d_model, d_k)),
        w_v=g.normal(size=(h, d_model, d_v)), w_o=g.normal(size=(h * d_v, d_model)),
    )


MHA_SIZES = {
    "seed: 2 heads of (2, 3)": (2, 2, 6, 2, 3, 3),
    "seed: 100 tokens, 8 heads of dim 3": (100, 100, 24, 8, 3, 3),
    "paper base: n=m=128, d_model=512, h=8, d_k=d_v=64": (128, 128, 512, 8, 64, 64),
}


def bench_mha(repeats):
    from mhasym import numeric, reference

    rows = []
    for label, sizes in MHA_SIZES.items():
        x = mha_inputs(*sizes)
        r, ta, tb = ratio(lambda: numeric.multi_head_attention(**x),
                          lambda: reference.multi_head_attention(**x), repeats)
        target = 1.25 if label.startswith("paper") else None
        rows.append(("numeric / reference MHA, " + label, r, target, f"{ta * 1e3:.3f} ms vs {tb * 1e3:.3f} ms"))
    return rows


def layer_inputs(n, m, d_model, h, d_k, d_v, d_ff, seed=0):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from mhasym.catalog.checks import layer_parameters

    sizes = dict(n=n, m=m, d_model=d_model, h=h, d_k=d_k, d_v=d_v, d_ff=d_ff)
    g = np.random.default_rng(seed)
    return (g.normal(size=(n, d_model)), g.normal(size=(m, d_model)), layer_parameters(sizes, seed),
            layer_parameters(sizes, seed, decoder=True))


def bench_layers(repeats):
    from mhasym import numeric, reference

    x, memory, p_enc, p_dec = layer_inputs(128, 128, 512, 8, 64, 64, 2048)
    rows = []
    r, ta, tb = ratio(lambda: numeric.encoder_layer(x, p_enc), lambda: reference.encoder_layer(x, p_enc), repeats)
    rows.append(("numeric / reference encoder layer, paper base (n=128)", r, 1.25, f"{ta * 1e3:.2f} ms vs {tb * 1e3:.2f} ms"))
    r, ta, tb = ratio(lambda: numeric.decoder_layer(x, memory, p_dec), lambda: reference.decoder_layer(x, memory, p_dec),
                      repeats)
    rows.append(("numeric / reference decoder layer, paper base (n=m=128)", r, 1.25, f"{ta * 1e3:.2f} ms vs {tb * 1e3:.2f} ms"))
    return rows


def _run(args):
    import subprocess

    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True)
    return time.perf_counter() - start


def bench_import(repeats):
    ta, tb = [], []
    for _ in range(max(repeats, 7)):
        ta.append(_run(["-c", "import mhasym"]))
        tb.append(_run(["-c", "import sympy"]))
    r = statistics.median([a / b for a, b in zip(ta, tb)])
    return [("import mhasym / import sympy (fresh interpreters)", r, 1.3,
             f"{statistics.median(ta) * 1e3:.0f} ms vs {statistics.median(tb) * 1e3:.0f} ms")]


def bench_scale(repeats):
    import mhasym

    start = time.perf_counter()
    shape = mhasym.concat_shape(10**12, 10**12, "h")
    symbolic = time.perf_counter() - start
    start = time.perf_counter()
    try:
        mhasym.head_outputs(10**12, 10**12, 3)
    except mhasym.MhasymError:
        refused = time.perf_counter() - start
    else:  # pragma: no cover
        raise AssertionError("an expansion of 3e24 entries was not refused")
    return [("symbolic concat shape at 10^12 (seconds, must be < 1)", symbolic, 1.0, f"{shape[0]}, {shape[1]}"),
            ("refusing an explicit expansion of 3e24 entries (seconds, must be < 1)", refused, 1.0, "one-line error")]


def bench_mutants(repeats):
    """`mhasym check --mutants`: every check on every mutant of its formula, in a fresh interpreter."""
    start = time.perf_counter()
    out = _run_output(["-m", "mhasym", "check", "--mutants"])
    seconds = time.perf_counter() - start
    return [("mhasym check --mutants (seconds, must be < 60)", seconds, 60.0, out.strip().splitlines()[-1])]


def _run_output(args):
    import subprocess

    return subprocess.run([sys.executable, *args], check=True, capture_output=True, text=True).stdout


def bench_site(repeats, state={}):
    """Cold build of the whole site, and the catalog's share of it (build, render, check every formula)."""
    import subprocess
    import tempfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    site = Path(tempfile.mkdtemp(prefix="mhasym-site-")) / "site"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)], cwd=root,
                   check=True, capture_output=True,
                   env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1", "MHASYM_KEEP_TEX": "1"})
    cold = time.perf_counter() - start
    catalog = _run(["-c", "import mhasym\nfor f in mhasym.formulas():\n    f.latex; assert f.check().passed"])
    state["site"] = site
    return [("cold site build, both languages (seconds; no target)", cold, None, str(site)),
            ("catalog build + render + all checks / cold site build", catalog / cold, None,
             f"{catalog:.2f} s of {cold:.1f} s")]


NOTES = []


def bench_pages(repeats, state={}):
    """Medians of at least 7 cold loads of each page, three ways (see page_load.py)."""
    try:
        import playwright  # noqa: F401 - the test extras
    except ImportError:
        NOTES.append("Page load not measured: it needs Playwright and Chromium, "
                     "`pip install -e '.[test]'` and Debian's `chromium` (the README's test command installs both).")
        return []
    from page_load import measure

    site = state.get("site")
    results = measure(site, repeats=max(7, repeats // 2))
    rows = []
    for page, t in results.items():
        rows.append((f"math ready, KaTeX at build / MathJax 3 in the browser, /{page}", t["built"] / t["mathjax"], 0.5,
                     f"{t['built']:.0f} ms vs {t['mathjax']:.0f} ms"))
        rows.append((f"math ready, KaTeX at build / page without math, /{page}", t["built"] / t["nomath"], 1.3,
                     f"{t['built']:.0f} ms vs {t['nomath']:.0f} ms"))
    return rows


def bench_mha_backward(repeats):
    """The gradients compiled from the derivations against the hand-written ones, at the paper's base sizes."""
    from mhasym import numeric, reference

    x = mha_inputs(*MHA_SIZES["paper base: n=m=128, d_model=512, h=8, d_k=d_v=64"])
    d_out = np.random.default_rng(1).normal(size=(128, 512))
    numeric.multi_head_attention_backward(**x, d_out=d_out)  # compiled once, before timing
    r, ta, tb = ratio(lambda: numeric.multi_head_attention_backward(**x, d_out=d_out),
                      lambda: reference.multi_head_attention_backward(**x, d_out=d_out), repeats)
    return [("numeric / reference MHA backward, paper base: n=m=128, d_model=512, h=8, d_k=d_v=64", r, 1.25,
             f"{ta * 1e3:.3f} ms vs {tb * 1e3:.3f} ms")]


_STATE = {}
BENCHES = [bench_mha, bench_mha_backward, bench_layers, bench_import, bench_scale, bench_mutants,
           lambda r: bench_site(r, _STATE), lambda r: bench_pages(r, _STATE)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 15
    rows = [row for bench in BENCHES for row in bench(repeats)]
    print(f"# mhasym benchmarks, {time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
          f"{platform.machine()}, numpy {np.__version__}")
    print()
    print("| benchmark | ratio | target | met | times |")
    print("|---|---|---|---|---|")
    missed = 0
    for name, r, target, note in rows:
        met = "-" if target is None else ("yes" if r <= target else "NO")
        missed += met == "NO"
        shown = f"{r:.3f}" if r >= 0.001 else f"{r:.1e}"
        print(f"| {name} | {shown} | {'-' if target is None else f'<= {target}'} | {met} | {note} |")
    for note in NOTES:
        print()
        print(note)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
