"""Numbers from the symbolic model: the functions of :mod:`mhasym.reference`,
with the same names, argument layouts and results, computed by NumPy code
compiled from the package's SymPy expressions (:mod:`mhasym.compile`).

It never calls :mod:`mhasym.reference`; the two are compared by the checks.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> q, k, v = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 5))
>>> scaled_dot_product_attention(q, k, v, causal_mask(2, 4)).shape
(2, 5)
>>> scaled_dot_product_attention(q, k, v, np.zeros((2, 4), bool))
Traceback (most recent call last):
...
mhasym.errors.MhasymError: mask row 0 may attend no key
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import attention, masks, notation
from .compile import compile_function
from .errors import MhasymError
from .shapes import size


def _count(name: str, value) -> int:
    value = size(name, value)
    if not isinstance(value, int):
        raise MhasymError(f"{name} must be a positive integer, got {value}")
    return value


def _array(name: str, x, ndim: int = 2) -> np.ndarray:
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise MhasymError(f"{name} must be an array of real numbers") from None
    if x.ndim != ndim:
        raise MhasymError(f"{name} must be {ndim}-dimensional, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise MhasymError(f"{name} has NaN or infinite entries")
    return x


def _expect(name: str, axis: str, got: int, want: int, meaning: str) -> None:
    if got != want:
        raise MhasymError(f"{name} needs {meaning} = {want} {axis}, got {got}")


@lru_cache(maxsize=None)
def _causal(align: str):
    i, j = masks.query_index(), masks.key_index()
    n, m = notation.dim("n"), notation.dim("m")
    return compile_function([i, j, n, m], masks.causal_condition(align), "causal")


@lru_cache(maxsize=None)
def _additive():
    allowed = sp.Symbol("allowed")
    return compile_function([allowed], sp.Piecewise((0.0, allowed), (-sp.oo, True)), "additive")


def causal_mask(n, m, align: str = "top-left") -> np.ndarray:
    """Boolean (n, m), True where query i may attend key j (see :mod:`mhasym.masks`)."""
    n, m = _count("n", n), _count("m", m)
    masks.causal_offset(align)  # rejects an unknown alignment with a one-line error
    f = _causal(align)
    rows, cols = np.arange(n).reshape(n, 1), np.arange(m).reshape(1, m)
    return np.broadcast_to(f(rows, cols, n, m), (n, m)).copy()


def _additive_mask(mask, n: int, m: int) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise MhasymError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
    if mask.shape != (n, m):
        raise MhasymError(f"mask needs shape ({n}, {m}), got {mask.shape}")
    blocked = ~mask.any(axis=1)
    if blocked.any():
        raise MhasymError(f"mask row {int(np.argmax(blocked))} may attend no key")
    return np.asarray(_additive()(mask), dtype=np.float64)


@lru_cache(maxsize=None)
def _sdpa(masked: bool):
    s = attention.Sizes.of()
    Q, K, V = (notation.matrix(x, r, c) for x, r, c in (("Q", s.n, s.d_k), ("K", s.m, s.d_k), ("V", s.m, s.d_v)))
    M = s.mask() if masked else None
    expr = attention.scaled_dot_product(Q, K, V, M)
    return compile_function([Q, K, V, s.d_k] + ([M] if masked else []), expr, "attention")


def scaled_dot_product_attention(q, k, v, mask=None) -> np.ndarray:
    """softmax(q k^T / sqrt(d_k) + M) v with q (n, d_k), k (m, d_k), v (m, d_v)."""
    q, k, v = _array("q", q), _array("k", k), _array("v", v)
    _expect("k", "columns", k.shape[1], q.shape[1], "d_k")
    _expect("v", "rows", v.shape[0], k.shape[0], "m")
    extra = [] if mask is None else [_additive_mask(mask, q.shape[0], k.shape[0])]
    return _sdpa(mask is not None)(q, k, v, q.shape[1], *extra)


@lru_cache(maxsize=64)
def _mha(h: int, masked: bool):
    s = attention.Sizes.of(h=h)
    X_q, X_kv = notation.matrix("X", s.n, s.d_model), notation.matrix("X_kv", s.m, s.d_model)
    M = s.mask() if masked else None
    expr = attention.multi_head(s, X_q, X_kv, M)
    weights = [s.W(kind, i) for kind in "QKV" for i in s.head_indices()]
    args = [X_q, X_kv, *weights, s.W_O(), s.d_k] + ([M] if masked else [])
    return compile_function(args, expr, "multi_head")


def multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, mask=None) -> np.ndarray:
    """Concat(head_1..head_h) w_o; x_q (n, d_model), x_kv (m, d_model),
    w_q, w_k (h, d_model, d_k), w_v (h, d_model, d_v), w_o (h*d_v, d_model)."""
    x_q, x_kv = _array("x_q", x_q), _array("x_kv", x_kv)
    w_q, w_k, w_v = _array("w_q", w_q, 3), _array("w_k", w_k, 3), _array("w_v", w_v, 3)
    w_o = _array("w_o", w_o)
    h, d_model = w_q.shape[0], x_q.shape[1]
    _expect("x_kv", "columns", x_kv.shape[1], d_model, "d_model")
    for name, w in (("w_k", w_k), ("w_v", w_v)):
        _expect(name, "heads", w.shape[0], h, "h")
    for name, w in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v)):
        _expect(name, "rows per head", w.shape[1], d_model, "d_model")
    _expect("w_k", "columns", w_k.shape[2], w_q.shape[2], "d_k")
    _expect("w_o", "rows", w_o.shape[0], h * w_v.shape[2], "h*d_v")
    extra = [] if mask is None else [_additive_mask(mask, x_q.shape[0], x_kv.shape[0])]
    return _mha(h, mask is not None)(x_q, x_kv, *w_q, *w_k, *w_v, w_o, w_q.shape[2], *extra)
