"""How a formula is checked, and what a check reports.

A numeric check compiles the symbolic formula (:mod:`mhasym.compile`),
evaluates it on random inputs chosen to expose mistakes (n != m,
d_k != d_v, h >= 2, non-symmetric values, a fixed seed) and compares it with
the independent NumPy reference (:mod:`mhasym.reference`). A shape check
compares shapes computed from the symbolic objects with shapes of explicit
matrices or arrays. An identity check proves an equation with SymPy.

>>> r = compare_arrays("demo", "x vs x", np.ones((2, 3)), np.ones((2, 3)))
>>> r.passed, r.max_error
(True, 0.0)
>>> compare_arrays("demo", "x vs y", np.ones((2, 3)), np.ones((3, 2))).summary()
'demo: FAILED numeric x vs y, shapes differ, (2, 3) != (3, 2)'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Sizes that expose mistakes: all different (n != m, d_k != d_v, n != d_v, ...), h >= 2, h*d_v != d_model.
SIZES = {"n": 4, "m": 7, "d_model": 11, "h": 3, "d_k": 5, "d_v": 2}
SEED = 20251219
TOLERANCE = 1e-10


# Names of the kinds of check, and the words of a check's facts, for the site and the notes.
KIND_NAMES = {
    "en": {"numeric": "compared with numbers", "shape": "shape check", "identity": "proven by SymPy",
           "caught": "wrong version caught"},
    "zh": {"numeric": "数值比对", "shape": "形状检查", "identity": "SymPy 证明", "caught": "错误写法被检出"},
}
FACT_WORDS = {"en": {"seed": "seed", "max_error": "max error"}, "zh": {"seed": "随机种子", "max_error": "最大误差"}}


@dataclass(frozen=True)
class CheckResult:
    """What a check compared, at which sizes and seed, and the largest difference."""

    id: str
    kind: str  # "numeric", "shape", "identity", or "caught" (a wrong version that the checks reject)
    compared: str
    passed: bool
    sizes: dict = field(default_factory=dict)
    seed: int | None = None
    max_error: float | None = None
    tolerance: float | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """The same as ``passed``."""
        return self.passed

    def kind_name(self, lang: str = "en") -> str:
        """The kind of check in words: "compared with numbers", "数值比对", ..."""
        return KIND_NAMES[lang].get(self.kind, self.kind)

    def facts(self, lang: str = "en") -> list:
        """Sizes, seed, max error and detail as plain-text parts, for the site and the notes."""
        words, parts = FACT_WORDS[lang], []
        if self.sizes:
            parts.append(", ".join(f"{k} = {v}" for k, v in self.sizes.items()))
        if self.seed is not None:
            parts.append(f"{words['seed']} {self.seed}")
        if self.max_error is not None:
            parts.append(f"{words['max_error']} {self.max_error:.1e}")
        if self.detail:
            parts.append(self.detail)
        return parts

    def summary(self) -> str:
        """One line: id, status, what was compared, sizes, seed, max error, detail."""
        extras = []
        if self.sizes:
            extras.append("at " + " ".join(f"{k}={v}" for k, v in self.sizes.items()))
        if self.seed is not None:
            extras.append(f"seed {self.seed}")
        if self.max_error is not None:
            extras.append(f"max error {self.max_error:.1e}")
        if self.detail:
            extras.append(self.detail)
        status = "ok" if self.passed else "FAILED"
        return f"{self.id}: {status} {self.kind} {self.compared}" + "".join(", " + e for e in extras)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "compared": self.compared,
            "passed": self.passed,
            "sizes": dict(self.sizes),
            "seed": self.seed,
            "max_error": self.max_error,
            "tolerance": self.tolerance,
            "detail": self.detail,
        }


def rng(seed: int = SEED) -> np.random.Generator:
    return np.random.default_rng(seed)


def attention_inputs(sizes: dict = SIZES, seed: int = SEED) -> dict:
    """Random float64 inputs for one multi-head attention block, with a mask
    that blocks some keys of every row but never all of them."""
    g = rng(seed)
    n, m, d_model, h, d_k, d_v = (sizes[k] for k in ("n", "m", "d_model", "h", "d_k", "d_v"))
    mask = g.random((n, m)) < 0.6
    mask[np.arange(n), g.integers(0, m, n)] = True
    return {
        "x_q": g.normal(size=(n, d_model)),
        "x_kv": g.normal(size=(m, d_model)),
        "w_q": g.normal(size=(h, d_model, d_k)),
        "w_k": g.normal(size=(h, d_model, d_k)),
        "w_v": g.normal(size=(h, d_model, d_v)),
        "w_o": g.normal(size=(h * d_v, d_model)),
        "q": g.normal(size=(n, d_k)),
        "k": g.normal(size=(m, d_k)),
        "v": g.normal(size=(m, d_v)),
        "mask": mask,
    }


def max_error(got, want) -> float:
    """Largest absolute difference; infinity when shapes differ or values are not finite."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape != want.shape or not np.isfinite(got).all():
        return float("inf")
    return float(np.max(np.abs(got - want))) if got.size else 0.0


def compare_arrays(fid, compared, got, want, sizes=None, seed=None, tolerance=TOLERANCE):
    """A numeric :class:`CheckResult` for ``got`` against ``want``."""
    got, want = np.asarray(got), np.asarray(want)
    detail = "" if got.shape == want.shape else f"shapes differ, {got.shape} != {want.shape}"
    err = max_error(got, want)
    return CheckResult(
        fid, "numeric", compared, err <= tolerance, dict(sizes or {}), seed,
        None if detail else err, tolerance, detail,
    )


def compare_shapes(fid, compared, got, want, sizes=None):
    """A shape :class:`CheckResult`: ``got`` and ``want`` are tuples (of ints or SymPy sizes)."""
    from .shapes import equal, fmt_shape

    same = len(got) == len(want) and all(equal(a, b) for a, b in zip(got, want))
    detail = "" if same else f"{fmt_shape(got)} != {fmt_shape(want)}"
    return CheckResult(fid, "shape", compared, same, dict(sizes or {}), detail=detail or f"{fmt_shape(got)}")


def identity(fid, compared, difference, sizes=None):
    """An identity :class:`CheckResult`: ``difference`` (a SymPy object) must simplify to zero."""
    import sympy as sp

    zero = sp.simplify(difference)
    ok = zero == 0 or (hasattr(zero, "is_zero_matrix") and zero.is_zero_matrix)
    return CheckResult(fid, "identity", compared, bool(ok), dict(sizes or {}),
                       detail="difference simplifies to 0" if ok else f"difference {zero}")


# Sizes of a Transformer layer that expose mistakes (d_ff differs from every other size).
LAYER_SIZES = {"n": 4, "m": 7, "d_model": 8, "h": 2, "d_k": 3, "d_v": 5, "d_ff": 11}


def layer_parameters(sizes: dict = LAYER_SIZES, seed: int = SEED, decoder: bool = False) -> dict:
    """Random parameters ``p`` of an encoder (or decoder) layer, laid out as the numeric API takes them."""
    g = rng(seed)
    d_model, h, d_k, d_v, d_ff = (sizes[k] for k in ("d_model", "h", "d_k", "d_v", "d_ff"))

    def attention_block():
        return {"w_q": g.normal(size=(h, d_model, d_k)), "w_k": g.normal(size=(h, d_model, d_k)),
                "w_v": g.normal(size=(h, d_model, d_v)), "w_o": g.normal(size=(h * d_v, d_model))}

    p = {"self_attn": attention_block()}
    if decoder:
        p["cross_attn"] = attention_block()
    p["ffn"] = {"w_1": g.normal(size=(d_model, d_ff)), "b_1": g.normal(size=d_ff),
                "w_2": g.normal(size=(d_ff, d_model)), "b_2": g.normal(size=d_model)}
    for k in range(1, (4 if decoder else 3)):
        p[f"norm_{k}"] = {"gamma": 1 + 0.3 * g.normal(size=d_model), "beta": 0.3 * g.normal(size=d_model)}
    return p


def count_parameters(p) -> int:
    """The number of numbers in a nested dict of arrays."""
    if isinstance(p, dict):
        return sum(count_parameters(v) for v in p.values())
    return int(np.asarray(p).size)
