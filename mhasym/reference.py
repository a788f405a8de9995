"""An independent NumPy reference for attention: the oracle that the symbolic model is checked against.

It imports NumPy only (nothing from SymPy or the rest of this package), so a
mistake in the symbolic model cannot hide in both. Errors are ``ValueError``
with a one-line message.

Conventions as in "Attention Is All You Need":

- row convention: a sequence is a matrix with one row per token;
- ``q`` has n rows, ``k`` and ``v`` have m rows (n may differ from m);
- masked scores are minus infinity before the softmax; ``w_o`` has (h*d_v) rows.

This package's own choices (the paper has neither):

- a boolean mask is True where the query MAY attend the key (as PyTorch's
  ``scaled_dot_product_attention``);
- per-head weights are stacked on the first axis: ``w_q``, ``w_k`` of shape
  (h, d_model, d_k), ``w_v`` (h, d_model, d_v); ``w_o`` has shape (h*d_v, d_model).

>>> causal_mask(2, 3).astype(int).tolist()
[[1, 0, 0], [1, 1, 0]]
>>> causal_mask(2, 3, align="bottom-right").astype(int).tolist()
[[1, 1, 0], [1, 1, 1]]
"""

import numpy as np


def _size(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _matrix(name, x, ndim=2):
    try:
        x = np.asarray(x)
    except ValueError:  # nested lists of unequal lengths
        raise ValueError(f"{name} must be a rectangular array, got rows of different lengths") from None
    if x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x.astype(np.float64, copy=False)


def _mask(mask, n, m):
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise ValueError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
    if mask.shape != (n, m):
        raise ValueError(f"mask must have shape ({n}, {m}), got {mask.shape}")
    empty = np.flatnonzero(~mask.any(axis=1))
    if empty.size:
        raise ValueError(f"mask row {int(empty[0])} may attend no key")
    return mask


def causal_mask(n, m, align="top-left"):
    """Boolean (n, m): True where query i may attend key j.

    ``"top-left"``: j <= i. ``"bottom-right"``: j <= i + (m - n).
    """
    n, m = _size("n", n), _size("m", m)
    if align == "top-left":
        offset = 0
    elif align == "bottom-right":
        offset = m - n
    else:
        raise ValueError(f"align must be 'top-left' or 'bottom-right', got {align!r}")
    rows = np.arange(n).reshape(n, 1)
    cols = np.arange(m).reshape(1, m)
    return cols - rows <= offset


def softmax_rows(scores):
    """Softmax of each row; minus infinity gives weight 0."""
    top = np.max(scores, axis=-1, keepdims=True)
    weights = np.exp(scores - top)
    return weights / np.sum(weights, axis=-1, keepdims=True)


def attention_weights(q, k, mask=None):
    """The (n, m) matrix softmax(q k^T / sqrt(d_k)), masked entries 0."""
    q, k = _matrix("q", q), _matrix("k", k)
    if q.shape[1] != k.shape[1]:
        raise ValueError(f"k must have d_k = {q.shape[1]} columns like q, got {k.shape[1]}")
    scores = (q @ k.T) / np.sqrt(q.shape[1])
    if mask is not None:
        mask = _mask(mask, q.shape[0], k.shape[0])
        scores = np.where(mask, scores, -np.inf)
    return softmax_rows(scores)


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k)) v with q (n, d_k), k (m, d_k), v (m, d_v); returns (n, d_v)."""
    v = _matrix("v", v)
    weights = attention_weights(q, k, mask)
    if v.shape[0] != weights.shape[1]:
        raise ValueError(f"v must have m = {weights.shape[1]} rows like k, got {v.shape[0]}")
    return weights @ v


def multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, mask=None):
    """Concat(head_1, ..., head_h) w_o with head_i = Attention(x_q w_q[i], x_kv w_k[i], x_kv w_v[i]).

    x_q (n, d_model), x_kv (m, d_model); returns (n, d_model).
    """
    x_q, x_kv = _matrix("x_q", x_q), _matrix("x_kv", x_kv)
    w_q, w_k, w_v = _matrix("w_q", w_q, 3), _matrix("w_k", w_k, 3), _matrix("w_v", w_v, 3)
    w_o = _matrix("w_o", w_o)
    h, d_model = w_q.shape[0], x_q.shape[1]
    if x_kv.shape[1] != d_model:
        raise ValueError(f"x_kv must have d_model = {d_model} columns, got {x_kv.shape[1]}")
    for name, w in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v)):
        if w.shape[0] != h or w.shape[1] != d_model:
            raise ValueError(f"{name} must have shape ({h}, {d_model}, ...), got {w.shape}")
    if w_k.shape[2] != w_q.shape[2]:
        raise ValueError(f"w_k must have d_k = {w_q.shape[2]} columns like w_q, got {w_k.shape[2]}")
    d_v = w_v.shape[2]
    if w_o.shape[0] != h * d_v:
        raise ValueError(f"w_o must have h*d_v = {h * d_v} rows, got {w_o.shape[0]}")
    heads = []
    for i in range(h):
        heads.append(scaled_dot_product_attention(x_q @ w_q[i], x_kv @ w_k[i], x_kv @ w_v[i], mask))
    return np.concatenate(heads, axis=1) @ w_o


# The Transformer around attention: positional encoding, layer norm, feed-forward, layers.

def positional_encoding(n_positions, d_model):
    """Sinusoidal encoding, (n_positions, d_model): column 2i is sin(pos / 10000^(2i/d_model)),
    column 2i+1 is cos of the same angle (interleaved, not two blocks)."""
    n_positions, d_model = _size("n_positions", n_positions), _size("d_model", d_model)
    pe = np.zeros((n_positions, d_model))
    for pos in range(n_positions):
        for col in range(d_model):
            two_i = col - col % 2
            angle = pos / 10000.0 ** (two_i / d_model)
            pe[pos, col] = np.sin(angle) if col % 2 == 0 else np.cos(angle)
    return pe


def _vector(name, x, d):
    x = _matrix(name, np.reshape(np.asarray(x), (1, -1)))
    if x.shape[1] != d:
        raise ValueError(f"{name} must have {d} entries, got {x.shape[1]}")
    return x[0]


def layer_norm(x, gamma, beta, eps=1e-5):
    """Normalise each row over its features: gamma * (x - mean) / sqrt(var + eps) + beta,
    with the biased variance (divide by d)."""
    x = _matrix("x", x)
    if not (isinstance(eps, (int, float, np.floating)) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    d = x.shape[1]
    gamma, beta = _vector("gamma", gamma, d), _vector("beta", beta, d)
    mean = np.sum(x, axis=1, keepdims=True) / d
    centred = x - mean
    var = np.sum(centred * centred, axis=1, keepdims=True) / d
    return gamma * centred / np.sqrt(var + eps) + beta


def feed_forward(x, w_1, b_1, w_2, b_2):
    """max(0, x w_1 + b_1) w_2 + b_2 with w_1 (d_model, d_ff), w_2 (d_ff, d_model)."""
    x, w_1, w_2 = _matrix("x", x), _matrix("w_1", w_1), _matrix("w_2", w_2)
    if w_1.shape[0] != x.shape[1]:
        raise ValueError(f"w_1 must have d_model = {x.shape[1]} rows, got {w_1.shape[0]}")
    if w_2.shape[0] != w_1.shape[1]:
        raise ValueError(f"w_2 must have d_ff = {w_1.shape[1]} rows, got {w_2.shape[0]}")
    b_1, b_2 = _vector("b_1", b_1, w_1.shape[1]), _vector("b_2", b_2, w_2.shape[1])
    hidden = x @ w_1 + b_1
    hidden[hidden < 0] = 0.0
    return hidden @ w_2 + b_2


def _get(p, *path):
    node = p
    for k, key in enumerate(path):
        if not isinstance(node, dict) or key not in node:
            where = "p" + "".join(f"[{q!r}]" for q in path[:k])
            raise ValueError(f"{where} is missing {key!r}")
        node = node[key]
    return node


def _attn(x_q, x_kv, p, name, mask=None):
    w = [_get(p, name, key) for key in ("w_q", "w_k", "w_v", "w_o")]
    return multi_head_attention(x_q, x_kv, *w, mask=mask)


def _norm(x, p, name, eps):
    return layer_norm(x, _get(p, name, "gamma"), _get(p, name, "beta"), eps)


def _ffn(x, p):
    return feed_forward(x, *(_get(p, "ffn", key) for key in ("w_1", "b_1", "w_2", "b_2")))


def _sublayer(x, f, p, name, norm, eps):
    if norm == "post":  # the paper: LayerNorm(x + Sublayer(x))
        return _norm(x + f(x), p, name, eps)
    return x + f(_norm(x, p, name, eps))  # pre-LN: x + Sublayer(LayerNorm(x))


def _check_norm(norm, eps):
    if norm not in ("post", "pre"):
        raise ValueError(f"norm must be 'post' or 'pre', got {norm!r}")
    if not (isinstance(eps, (int, float, np.floating)) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")


def encoder_layer(x, p, norm="post", eps=1e-5):
    """Self-attention then feed-forward, each with a residual connection and layer norm."""
    _check_norm(norm, eps)
    x = _matrix("x", x)
    h = _sublayer(x, lambda z: _attn(z, z, p, "self_attn"), p, "norm_1", norm, eps)
    return _sublayer(h, lambda z: _ffn(z, p), p, "norm_2", norm, eps)


def decoder_layer(y, memory, p, norm="post", eps=1e-5):
    """Causal self-attention, attention over the encoder output ``memory``, feed-forward;
    three residual + norm steps. Queries come from the decoder, keys and values from memory."""
    _check_norm(norm, eps)
    y, memory = _matrix("y", y), _matrix("memory", memory)
    causal = causal_mask(y.shape[0], y.shape[0])
    h1 = _sublayer(y, lambda z: _attn(z, z, p, "self_attn", causal), p, "norm_1", norm, eps)
    h2 = _sublayer(h1, lambda z: _attn(z, memory, p, "cross_attn"), p, "norm_2", norm, eps)
    return _sublayer(h2, lambda z: _ffn(z, p), p, "norm_3", norm, eps)


# Around the layers: the output layer, the decoder's input, training (the paper's Sections 3.4, 5.3, 5.4).

def output_probabilities(h, embedding):
    """Next-token probabilities, (n, vocab): softmax of each row of h E^T, with the embedding matrix E
    (vocab, d_model) shared with the pre-softmax linear layer."""
    h, embedding = _matrix("h", h), _matrix("embedding", embedding)
    if embedding.shape[1] != h.shape[1]:
        raise ValueError(f"embedding needs d_model = {h.shape[1]} columns, got {embedding.shape[1]}")
    return softmax_rows(h @ embedding.T)


def shift_right(tokens, start):
    """The decoder's input in training: the start token, then the target tokens but the last."""
    tokens = [int(t) for t in tokens]
    return [int(start)] + tokens[:-1]


def smoothed_targets(targets, vocab, eps=0.1):
    """Label smoothing, (n, vocab): 1 - eps on each target token plus eps spread evenly over the vocabulary."""
    vocab = _size("vocab", vocab)
    out = np.full((len(targets), vocab), eps / vocab)
    out[np.arange(len(targets)), np.asarray(targets, dtype=int)] += 1.0 - eps
    return out


def cross_entropy(probabilities, targets):
    """The training loss of one sequence: minus the sum over positions t and tokens k of
    targets[t, k] * log(probabilities[t, k]); both (n, vocab), each row of targets a distribution."""
    probabilities, targets = _matrix("probabilities", probabilities), _matrix("targets", targets)
    if probabilities.shape != targets.shape:
        raise ValueError(f"targets need the shape of the probabilities, {targets.shape} != {probabilities.shape}")
    if np.any(probabilities <= 0):
        raise ValueError("probabilities must be positive")
    return float(-np.sum(targets * np.log(probabilities)))


def learning_rate(step, d_model, warmup=4000):
    """The paper's schedule: d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), for step >= 1."""
    step = np.asarray(step, dtype=float)
    if np.any(step < 1):
        raise ValueError("step counts from 1")
    return d_model ** -0.5 * np.minimum(step ** -0.5, step * warmup ** -1.5)


def dropout(x, keep, p):
    """Inverted dropout with a given keep mask (True where an entry is kept): kept entries are divided by
    1 - p, so that the mean over masks drawn with rate p is x."""
    x, keep = _matrix("x", x), np.asarray(keep, dtype=bool)
    if keep.shape != x.shape:
        raise ValueError(f"keep must have shape {x.shape}, got {keep.shape}")
    return np.where(keep, x / (1.0 - p), 0.0)


# Gradients (written by hand from the chain rule; the tests compare them with finite differences).

def _d_out(d_out, shape):
    d_out = _matrix("d_out", d_out)
    if d_out.shape != shape:
        raise ValueError(f"d_out must have the output's shape {shape}, got {d_out.shape}")
    return d_out


def attention_backward(q, k, v, d_out, mask=None):
    """Gradients (dq, dk, dv) of L = sum(d_out * scaled_dot_product_attention(q, k, v, mask)).

    With S = q k^T / sqrt(d_k), A = softmax(S) and Z = A v: dv = A^T d_out, dA = d_out v^T,
    dS = A * (dA - rowsum(dA * A)) (0 where masked), dq = dS k / sqrt(d_k), dk = dS^T q / sqrt(d_k).
    """
    q, k, v = _matrix("q", q), _matrix("k", k), _matrix("v", v)
    a = attention_weights(q, k, mask)
    if v.shape[0] != a.shape[1]:
        raise ValueError(f"v must have m = {a.shape[1]} rows like k, got {v.shape[0]}")
    d_out = _d_out(d_out, (q.shape[0], v.shape[1]))
    dv = a.T @ d_out
    da = d_out @ v.T
    ds = a * (da - np.sum(da * a, axis=1, keepdims=True))
    scale = 1.0 / np.sqrt(q.shape[1])
    return ds @ k * scale, ds.T @ q * scale, dv


def multi_head_attention_backward(x_q, x_kv, w_q, w_k, w_v, w_o, d_out, mask=None):
    """Gradients of L = sum(d_out * multi_head_attention(...)) with respect to every input, as a dict with
    the keys x_q, x_kv, w_q, w_k, w_v, w_o, each shaped like its input."""
    out = multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, mask)  # validates every input
    x_q, x_kv = _matrix("x_q", x_q), _matrix("x_kv", x_kv)
    w_q, w_k, w_v = _matrix("w_q", w_q, 3), _matrix("w_k", w_k, 3), _matrix("w_v", w_v, 3)
    w_o = _matrix("w_o", w_o)
    d_out = _d_out(d_out, out.shape)
    h, d_v = w_v.shape[0], w_v.shape[2]
    heads = [scaled_dot_product_attention(x_q @ w_q[i], x_kv @ w_k[i], x_kv @ w_v[i], mask) for i in range(h)]
    grads = {"x_q": np.zeros_like(x_q), "x_kv": np.zeros_like(x_kv), "w_q": np.zeros_like(w_q),
             "w_k": np.zeros_like(w_k), "w_v": np.zeros_like(w_v), "w_o": np.concatenate(heads, axis=1).T @ d_out}
    d_concat = d_out @ w_o.T
    for i in range(h):
        d_head = d_concat[:, i * d_v:(i + 1) * d_v]
        qi, ki, vi = x_q @ w_q[i], x_kv @ w_k[i], x_kv @ w_v[i]
        dq, dk, dv = attention_backward(qi, ki, vi, d_head, mask)
        grads["w_q"][i], grads["w_k"][i], grads["w_v"][i] = x_q.T @ dq, x_kv.T @ dk, x_kv.T @ dv
        grads["x_q"] += dq @ w_q[i].T
        grads["x_kv"] += dk @ w_k[i].T + dv @ w_v[i].T
    return grads
