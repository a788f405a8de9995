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


BENCHES = [bench_mha]


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
        print(f"| {name} | {r:.3f} | {'-' if target is None else f'<= {target}'} | {met} | {note} |")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
