"""Parameter counts and operation counts as symbolic formulas.

Parameters, as in the paper's formulas: attention projections without biases,
feed-forward layers with biases, two LayerNorm vectors (gamma, beta) per norm,
one embedding matrix shared by the encoder input, the decoder input and the
pre-softmax projection.

>>> parameter_count(512, 8, 2048, 6, 37000)
63045632
>>> parameter_count(1024, 16, 4096, 6, 37000)
214171648
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatMul, MatrixExpr

from mhasym.model import notation
from mhasym.errors import MhasymError
from mhasym.model.shapes import size


def _d(name):
    return notation.dim(name)


def attention_parameters():
    """h heads of W^Q, W^K (d_model x d_k) and W^V (d_model x d_v), plus W^O (h d_v x d_model)."""
    d_model, h, d_k, d_v = _d("d_model"), _d("h"), _d("d_k"), _d("d_v")
    return h * (2 * d_model * d_k + d_model * d_v) + h * d_v * d_model


def ffn_parameters():
    """W_1 (d_model x d_ff), b_1, W_2 (d_ff x d_model), b_2."""
    d_model, d_ff = _d("d_model"), _d("d_ff")
    return 2 * d_model * d_ff + d_ff + d_model


def norm_parameters():
    """gamma and beta of one LayerNorm."""
    return 2 * _d("d_model")


def encoder_layer_parameters():
    return attention_parameters() + ffn_parameters() + 2 * norm_parameters()


def decoder_layer_parameters():
    return 2 * attention_parameters() + ffn_parameters() + 3 * norm_parameters()


def model_parameters():
    """N encoder and N decoder layers plus one shared embedding of |V| x d_model."""
    N, vocab, d_model = _d("N"), _d("vocab"), _d("d_model")
    return N * (encoder_layer_parameters() + decoder_layer_parameters()) + vocab * d_model


def written(name: str):
    """The formula ``name`` as a textbook writes it (same value as the function of that name)."""
    from mhasym.model.expressions import Plus, Times

    d_model, h, d_k, d_v, d_ff = (_d(x) for x in ("d_model", "h", "d_k", "d_v", "d_ff"))
    N, vocab, n = _d("N"), _d("vocab"), _d("n")
    P = notation.scalar
    forms = {
        "attention": lambda: Plus(Times(h, Plus(Times(2, d_model, d_k), Times(d_model, d_v))),
                                  Times(h, d_v, d_model)),
        "ffn": lambda: Plus(Times(2, d_model, d_ff), d_ff, d_model),
        "encoder_layer": lambda: Plus(P("P_attn"), P("P_ffn"), Times(4, d_model)),
        "decoder_layer": lambda: Plus(Times(2, P("P_attn")), P("P_ffn"), Times(6, d_model)),
        "model": lambda: Plus(Times(N, Plus(P("P_enc"), P("P_dec"))), Times(vocab, d_model)),
        "self_attention_operations": lambda: Plus(Times(4, n, d_model**2), Times(2, n**2, d_model)),
    }
    return forms[name]()


def written_value(expr, own=None):
    """The value of a written formula, with P_attn, P_ffn, P_enc, P_dec replaced by their formulas
    (except ``own``, the symbol that the formula itself defines)."""
    from mhasym.model.expressions import value_of

    P = notation.scalar
    parts = {P("P_enc"): encoder_layer_parameters(), P("P_dec"): decoder_layer_parameters(),
             P("P_attn"): attention_parameters(), P("P_ffn"): ffn_parameters()}
    parts.pop(own, None)
    return sp.expand(value_of(expr).xreplace(parts).xreplace(parts))


def parameter_count(d_model, h, d_ff, n_layers, vocab_size, d_k=None, d_v=None) -> int:
    """The number of parameters of the encoder-decoder Transformer (see :func:`model_parameters`).

    ``d_k`` and ``d_v`` default to ``d_model / h``; h must divide d_model then.
    """
    d_model, h, d_ff = size("d_model", d_model), size("h", h), size("d_ff", d_ff)
    n_layers, vocab_size = size("n_layers", n_layers), size("vocab_size", vocab_size)
    values = (d_model, h, d_ff, n_layers, vocab_size)
    if not all(isinstance(v, int) for v in values):
        raise MhasymError("parameter_count needs numeric sizes; use model_parameters() for the formula")
    if d_k is None or d_v is None:
        if d_model % h:
            raise MhasymError(f"h = {h} does not divide d_model = {d_model}; give d_k and d_v")
    d_k = d_model // h if d_k is None else size("d_k", d_k)
    d_v = d_model // h if d_v is None else size("d_v", d_v)
    subs = {_d("d_model"): d_model, _d("h"): h, _d("d_ff"): d_ff, _d("N"): n_layers,
            _d("vocab"): vocab_size, _d("d_k"): d_k, _d("d_v"): d_v}
    return int(model_parameters().xreplace(subs))


def self_attention_operations():
    """Multiply-adds of one self-attention layer on n positions with d_k = d_v = d_model / h:
    projections 3 n d_model^2, scores and weighted sums 2 n^2 d_model, output n d_model^2."""
    n, d_model = _d("n"), _d("d_model")
    return 4 * n * d_model**2 + 2 * n**2 * d_model


def matmul_operations(expr):
    """Multiply-adds of every matrix product in ``expr``: rows x inner x columns for each
    pair multiplied, left to right, as the compiled code evaluates it."""
    total = sp.S.Zero
    seen = set()

    def visit(e):
        if not isinstance(e, sp.Basic) or e in seen:
            return
        seen.add(e)
        if isinstance(e, MatMul):
            mats = [a for a in e.args if isinstance(e, MatrixExpr) and isinstance(a, MatrixExpr)]
            nonlocal total
            rows, inner = mats[0].shape
            for right in mats[1:]:
                total += rows * inner * right.shape[1]
                inner = right.shape[1]
        for a in e.args:
            visit(a)

    visit(expr)
    return sp.expand(total)
