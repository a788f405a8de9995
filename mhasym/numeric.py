"""Numbers from the symbolic model: the functions of :mod:`mhasym.reference`,
with the same names, argument layouts and results, computed by NumPy code
compiled from the package's SymPy expressions (:mod:`mhasym.printing.numpy_printer`).

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

from mhasym.model import attention, masks, notation, transformer
from mhasym.printing.numpy_printer import compile_function
from mhasym.errors import MhasymError
from mhasym.model.shapes import size


def _count(name: str, value) -> int:
    value = size(name, value)
    if not isinstance(value, int):
        raise MhasymError(f"{name} must be a positive integer, got {value}")
    return value


def _array(name: str, x, ndim: int = 2) -> np.ndarray:
    """``x`` as a float64 array, refused as :mod:`mhasym.reference` refuses it, with the same words: numbers
    only (not strings of digits, booleans or complex numbers), ``ndim`` dimensions, finite."""
    try:
        x = np.asarray(x)
    except ValueError:  # nested lists of unequal lengths
        raise MhasymError(f"{name} must be a rectangular array, got rows of different lengths") from None
    if x.ndim != ndim:
        raise MhasymError(f"{name} must have {ndim} dimensions, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise MhasymError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise MhasymError(f"{name} contains NaN or infinite values")
    return x.astype(np.float64, copy=False)


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
    """Boolean (n, m), True where query i may attend key j (see :mod:`mhasym.model.masks`)."""
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
    Q, K, V = s.qkv()
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
    args = [X_q, X_kv, *attention.weights(s), s.d_k] + ([M] if masked else [])
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


# Gradients, compiled from the derivations' proven steps (deriv.sdpa_backward, deriv.mha_backward).

def _derived(id: str) -> list:
    """The (left side, right side) pairs of a derivation's steps, in order."""
    from mhasym.catalog.derivation import derivation

    return [(s.lhs, s.rhs) for s in derivation(id).steps]


def _attention_steps(masked: bool, head=None):
    """(symbol, expression) steps of attention's forward pass (S, A; the definitions of deriv.sdpa_backward)
    and backward pass (dV, dA, dS and, with a mask, dS = B o dS: the derivation's steps in order), and
    the results dQ, dK. ``head`` renames Q, K, V, S, A, Z to head ``head``'s Q_k, K_k, ... (Z to head_k)."""
    from sympy.matrices.expressions import ZeroMatrix

    from mhasym.catalog.entries import derivations as d
    from mhasym.model.expressions import Grad

    names = {x: x for x in (d.Q, d.K, d.V, d.S, d.A, d.Z)}
    if head is not None:
        names = {x: notation.matrix("head" if x == d.Z else x.key, *x.shape, head) for x in names}
    table = {**names, **{Grad(x): Grad(y) for x, y in names.items()}}
    if not masked:
        table[d.M] = ZeroMatrix(*d.M.shape)
    rename = lambda e: e.xreplace(table).doit() if not masked else e.xreplace(table)  # noqa: E731
    forward = [(rename(x), rename(e)) for x, e in d.SDPA.definitions]  # S, A and Z
    backward, results = [], {}
    for lhs, rhs in _derived("deriv.sdpa_backward"):
        if lhs in (Grad(d.Q), Grad(d.K)):
            results[rename(lhs)] = rename(rhs)
        elif masked or not rhs.has(d.B):  # without a mask, the masking step dS = B o dS changes nothing
            backward.append((rename(lhs), rename(rhs)))
    return forward, backward, results


@lru_cache(maxsize=None)
def _sdpa_backward(masked: bool):
    from mhasym.catalog.entries import derivations as d
    from mhasym.model.expressions import Grad

    forward, backward, results = _attention_steps(masked)
    args = [d.Q, d.K, d.V, Grad(d.Z), d.d_k, d.m] + ([d.M, d.B] if masked else [])
    out = sp.Tuple(results[Grad(d.Q)], results[Grad(d.K)], Grad(d.V))
    return compile_function(args, out, "attention_backward", steps=forward[:-1] + backward)  # Z is not needed


def _d_out(d_out, shape) -> np.ndarray:
    d_out = _array("d_out", d_out)
    if d_out.shape != shape:
        raise MhasymError(f"d_out must have the output's shape {shape}, got {d_out.shape}")
    return d_out


def attention_backward(q, k, v, d_out, mask=None):
    """Gradients (dq, dk, dv) of L = sum(d_out * scaled_dot_product_attention(q, k, v, mask)), computed by
    the formulas of the derivation deriv.sdpa_backward (compiled, not differentiated numerically)."""
    out = scaled_dot_product_attention(q, k, v, mask)  # validates q, k, v and the mask
    q, k, v = _array("q", q), _array("k", k), _array("v", v)
    d_out = _d_out(d_out, out.shape)
    extra = []
    if mask is not None:
        extra = [_additive_mask(mask, q.shape[0], k.shape[0]), np.asarray(mask, dtype=np.float64)]
    return _sdpa_backward(mask is not None)(q, k, v, d_out, q.shape[1], k.shape[0], *extra)


@lru_cache(maxsize=64)
def _mha_backward(h: int, masked: bool):
    from mhasym.catalog.entries import derivations as d
    from mhasym.model.expressions import Grad

    steps = dict(_derived("deriv.mha_backward"))
    i = notation.scalar("i")
    at = lambda e, k: e.xreplace({i: sp.Integer(k), d.h: sp.Integer(h)}).doit()  # noqa: E731
    W = {name: [d._w(name, k) for k in range(1, h + 1)] for name in ("Q", "K", "V", "O")}
    W_O = notation.matrix("W_O", d.h * d.d_v, d.d_model)
    definitions = d._mha_definitions({"h": h})  # Q_k = X W^Q_k, K_k = X_kv W^K_k, V_k = X_kv W^V_k, ...
    program = []
    for k in range(1, h + 1):
        forward, backward, results = _attention_steps(masked, head=k)
        own = {d._head(x, k) for x in ("Q", "K", "V")}
        program += [(x, e) for x, e in definitions if x in own] + forward
        program.append((Grad(d._head("head", k)), at(steps[Grad(d._head("head", i))], k)))
        program += backward
        program += [(Grad(d._head("Q", k)), results[Grad(d._head("Q", k))]),
                    (Grad(d._head("K", k)), results[Grad(d._head("K", k))])]
    grads = [at(steps[Grad(x)], k) for x in (d.X, d.X_kv)]
    for name in ("Q", "K", "V"):
        grads += [at(steps[Grad(d._w(name, i))], k) for k in range(1, h + 1)]
    grads.append(at(steps[Grad(W_O)], 1))
    args = [d.X, d.X_kv, *W["Q"], *W["K"], *W["V"], *W["O"], Grad(d.O), d.d_k, d.m] + ([d.M, d.B] if masked else [])
    return compile_function(args, sp.Tuple(*grads), "multi_head_attention_backward", steps=program)


def multi_head_attention_backward(x_q, x_kv, w_q, w_k, w_v, w_o, d_out, mask=None) -> dict:
    """Gradients of L = sum(d_out * multi_head_attention(...)) with respect to every input, as a dict with
    the keys x_q, x_kv, w_q, w_k, w_v, w_o, each shaped like its input; computed by the formulas of the
    derivations deriv.mha_backward and deriv.sdpa_backward (compiled)."""
    out = multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, mask)  # validates every input
    x_q, x_kv = _array("x_q", x_q), _array("x_kv", x_kv)
    w_q, w_k, w_v = _array("w_q", w_q, 3), _array("w_k", w_k, 3), _array("w_v", w_v, 3)
    w_o = _array("w_o", w_o)
    d_out = _d_out(d_out, out.shape)
    h, d_v = w_q.shape[0], w_v.shape[2]
    blocks = [w_o[k * d_v:(k + 1) * d_v] for k in range(h)]
    extra = []
    if mask is not None:
        extra = [_additive_mask(mask, x_q.shape[0], x_kv.shape[0]), np.asarray(mask, dtype=np.float64)]
    got = _mha_backward(h, mask is not None)(x_q, x_kv, *w_q, *w_k, *w_v, *blocks, d_out, w_q.shape[2],
                                             x_kv.shape[0], *extra)
    return {"x_q": got[0], "x_kv": got[1], "w_q": np.stack(got[2:2 + h]), "w_k": np.stack(got[2 + h:2 + 2 * h]),
            "w_v": np.stack(got[2 + 2 * h:2 + 3 * h]), "w_o": got[-1]}


# The Transformer around attention.

def _positive(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise MhasymError(f"{name} must be a positive number, got {value!r}") from None
    if not value > 0 or not np.isfinite(value):
        raise MhasymError(f"{name} must be a positive number, got {value!r}")
    return value


@lru_cache(maxsize=None)
def _pe():
    pos, col, d_model = sp.Symbol("pos"), sp.Symbol("col"), notation.dim("d_model")
    return compile_function([pos, col, d_model], transformer.pe_entry(pos, col, d_model), "positional_encoding")


def positional_encoding(n_positions, d_model) -> np.ndarray:
    """(n_positions, d_model): sin in even columns, cos in odd ones (interleaved)."""
    n_positions, d_model = _count("n_positions", n_positions), _count("d_model", d_model)
    if n_positions * d_model > 10**8:
        raise MhasymError(f"positional encoding of {n_positions} x {d_model} is too large (over 10^8 entries)")
    pos = np.arange(n_positions, dtype=np.float64).reshape(-1, 1)
    col = np.arange(d_model).reshape(1, -1)
    return np.broadcast_to(_pe()(pos, col, d_model), (n_positions, d_model)).astype(np.float64)


def _row(name: str, x, d: int) -> np.ndarray:
    """A vector of d entries, given as (d,) or (1, d), returned as (1, d)."""
    x = _array(name, x, 2 if np.ndim(x) == 2 else 1)
    x = x.reshape(1, -1) if x.ndim == 1 else x
    if x.shape != (1, d):
        raise MhasymError(f"{name} needs {d} entries, got shape {x.shape}")
    return x


@lru_cache(maxsize=None)
def _layer_norm():
    s = transformer.Sizes.of()
    X = s.X("X", s.n)
    expr = transformer.layer_norm(s, X, 1)
    return compile_function([X, *s.norm_weights(1), transformer.epsilon()], expr, "layer_norm")


def layer_norm(x, gamma, beta, eps=1e-5) -> np.ndarray:
    """Normalise each row over its features: biased variance, eps inside the square root."""
    x = _array("x", x)
    eps = _positive("eps", eps)
    d = x.shape[1]
    return _layer_norm()(x, _row("gamma", gamma, d), _row("beta", beta, d), eps)


@lru_cache(maxsize=None)
def _ffn():
    s = transformer.Sizes.of()
    X = s.X("X", s.n)
    return compile_function([X, *s.ffn_weights()], transformer.feed_forward(s, X), "feed_forward")


def feed_forward(x, w_1, b_1, w_2, b_2) -> np.ndarray:
    """max(0, x w_1 + b_1) w_2 + b_2 with w_1 (d_model, d_ff) and w_2 (d_ff, d_model)."""
    x, w_1, w_2 = _array("x", x), _array("w_1", w_1), _array("w_2", w_2)
    _expect("w_1", "rows", w_1.shape[0], x.shape[1], "d_model")
    _expect("w_2", "rows", w_2.shape[0], w_1.shape[1], "d_ff")
    _expect("w_2", "columns", w_2.shape[1], x.shape[1], "d_model")
    return _ffn()(x, w_1, _row("b_1", b_1, w_1.shape[1]), w_2, _row("b_2", b_2, w_2.shape[1]))


def _part(p, path):
    node = p
    for k, key in enumerate(path):
        if not isinstance(node, dict):
            where = "p" + "".join(f"[{q!r}]" for q in path[:k])
            raise MhasymError(f"{where} must be a dict, got {type(node).__name__}")
        if key not in node:
            where = "p" + "".join(f"[{q!r}]" for q in path[:k])
            raise MhasymError(f"{where} is missing {key!r}")
        node = node[key]
    return node


def _param(p, path, shape):
    """The array at ``p[path...]``, checked against ``shape`` (ints; None for any size)."""
    name = "p" + "".join(f"[{q!r}]" for q in path)
    x = _array(name, _part(p, path), len(shape))
    if any(want is not None and got != want for got, want in zip(x.shape, shape)):
        want = str(tuple("?" if w is None else w for w in shape)).replace("'?'", "?")
        raise MhasymError(f"{name} needs shape {want}, got {x.shape}")
    return x


def _vector_param(p, path, d: int):
    """A vector of ``p`` given as (d,) or (1, d); returned as (1, d)."""
    x = _part(p, path)
    if np.ndim(x) == 2 and np.shape(x)[0] == 1:
        return _param(p, path, (1, d))
    return _param(p, path, (d,))[None, :]


def _attention_params(p, block: str, d_model: int):
    w_q = _param(p, (block, "w_q"), (None, d_model, None))
    h, d_k = w_q.shape[0], w_q.shape[2]
    w_k = _param(p, (block, "w_k"), (h, d_model, d_k))
    w_v = _param(p, (block, "w_v"), (h, d_model, None))
    w_o = _param(p, (block, "w_o"), (h * w_v.shape[2], d_model))
    return [*w_q, *w_k, *w_v, w_o], (h, d_k, w_v.shape[2])


def _layer_params(p, d_model: int, decoder: bool):
    """The arrays of ``p``, checked, in the order of :func:`mhasym.model.transformer.parameter_layout`,
    and each attention block's (h, d_k, d_v)."""
    if not isinstance(p, dict):
        raise MhasymError(f"p must be a dict of layer parameters, got {type(p).__name__}")
    found, heads = {}, []
    for block in transformer.ATTENTION_BLOCKS[decoder]:
        (*per_head, w_o), dims = _attention_params(p, block, d_model)
        h = dims[0]
        for n, (field, _) in enumerate(transformer.ATTENTION_WEIGHTS):
            found.update({(block, field, k): per_head[n * h + k] for k in range(h)})
        found[(block, "w_o")] = w_o
        heads.append(dims)
    w_1 = _param(p, ("ffn", "w_1"), (d_model, None))
    d_ff = w_1.shape[1]
    found.update({("ffn", "w_1"): w_1, ("ffn", "b_1"): _vector_param(p, ("ffn", "b_1"), d_ff),
                  ("ffn", "w_2"): _param(p, ("ffn", "w_2"), (d_ff, d_model)),
                  ("ffn", "b_2"): _vector_param(p, ("ffn", "b_2"), d_model)})
    for k in range(1, 4 if decoder else 3):
        for field in ("gamma", "beta"):
            found[(f"norm_{k}", field)] = _vector_param(p, (f"norm_{k}", field), d_model)
    if decoder and heads[0] != heads[1]:
        raise MhasymError(f"p['cross_attn'] needs (h, d_k, d_v) = {heads[0]} like p['self_attn'], got {heads[1]}")
    layout = transformer.parameter_layout(heads[0][0], decoder)
    return [found[path] for path, _, _ in layout], heads[0]


@lru_cache(maxsize=32)
def _encoder(h: int, norm: str):
    s = transformer.Sizes.of(h=h)
    X = s.X("X", s.n)
    expr = transformer.encoder_layer(s, X, norm)
    args = [X, *transformer.layer_symbols(s), s.d_k, transformer.epsilon()]
    return compile_function(args, expr, "encoder_layer")


def _layer_options(norm, eps):
    transformer.check_norm(norm)
    return _positive("eps", eps)


def encoder_layer(x, p, norm: str = "post", eps=1e-5) -> np.ndarray:
    """Self-attention and feed-forward, each with residual + LayerNorm ("post": the paper, or "pre")."""
    eps = _layer_options(norm, eps)
    x = _array("x", x)
    values, (h, d_k, _) = _layer_params(p, x.shape[1], decoder=False)
    return _encoder(h, norm)(x, *values, d_k, eps)


@lru_cache(maxsize=32)
def _decoder(h: int, norm: str):
    s = transformer.Sizes.of(h=h)
    Y, memory = s.X("Y", s.n), notation.matrix("memory", s.m, s.d_model)
    M = notation.matrix("M", s.n, s.n)
    expr = transformer.decoder_layer(s, Y, memory, norm, mask=M)
    args = [Y, memory, *transformer.layer_symbols(s, decoder=True), M, s.d_k, transformer.epsilon()]
    return compile_function(args, expr, "decoder_layer")


def decoder_layer(y, memory, p, norm: str = "post", eps=1e-5) -> np.ndarray:
    """Causal self-attention, attention over ``memory`` (queries from y), feed-forward;
    each with residual + LayerNorm."""
    eps = _layer_options(norm, eps)
    y, memory = _array("y", y), _array("memory", memory)
    _expect("memory", "columns", memory.shape[1], y.shape[1], "d_model")
    values, (h, d_k, _) = _layer_params(p, y.shape[1], decoder=True)
    n = y.shape[0]
    mask = _additive_mask(causal_mask(n, n), n, n)
    return _decoder(h, norm)(y, memory, *values, mask, d_k, eps)
