"""The Transformer around multi-head attention, as symbolic matrix expressions.

The lecture notebook describes the architecture in words; the formulas follow
"Attention Is All You Need" (Vaswani et al., 2017):

- embedding scaled by sqrt(d_model), plus the sinusoidal positional encoding;
- ``FFN(x) = max(0, x W_1 + b_1) W_2 + b_2``;
- LayerNorm over the features of each position (biased variance, epsilon
  inside the square root, learned gamma and beta);
- each sublayer wrapped as ``LayerNorm(x + Sublayer(x))`` (post-LN, the
  paper) or ``x + Sublayer(LayerNorm(x))`` (pre-LN, common since);
- encoder layer: self-attention, feed-forward; decoder layer: causal
  self-attention, attention over the encoder output, feed-forward.

>>> s = Sizes.of(n=3, m=5, d_model=8, h=2, d_k=4, d_v=4, d_ff=16)
>>> encoder_layer(s, s.X("X", s.n)).shape
(3, 8)
>>> pe_entry(notation.scalar("pos"), 1, 4)
cos(pos)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions import MatAdd, MatMul

from mhasym.model import attention, notation
from mhasym.errors import MhasymError
from mhasym.model.expressions import Apply, Call, Frac, LayerNorm, Let, ReLU, Residual, RowVector

NORMS = ("post", "pre")

@dataclass(frozen=True)
class Sizes(attention.Sizes):
    """The sizes of a Transformer layer: those of attention plus d_ff."""

    d_ff: object = None

    def X(self, name: str, rows, index=None):
        """A sequence of ``rows`` positions of width d_model."""
        return notation.matrix(name, rows, self.d_model, index)

    def attention(self, n, m) -> attention.Sizes:
        return attention.Sizes(n, m, self.d_model, self.h, self.d_k, self.d_v)

    def ffn_weights(self):
        return (notation.matrix("W", self.d_model, self.d_ff, 1), notation.matrix("b", 1, self.d_ff, 1),
                notation.matrix("W", self.d_ff, self.d_model, 2), notation.matrix("b", 1, self.d_model, 2))

    def norm_weights(self, k: int):
        return notation.matrix("gamma", 1, self.d_model, k), notation.matrix("beta", 1, self.d_model, k)

ATTENTION_BLOCKS = {False: ("self_attn",), True: ("self_attn", "cross_attn")}
ATTENTION_WEIGHTS = (("w_q", "W_Q"), ("w_k", "W_K"), ("w_v", "W_V"))


def parameter_layout(h: int, decoder: bool = False) -> list:
    """Where each parameter of an encoder (or decoder) layer sits in the nested dict ``p`` that
    :mod:`mhasym.numeric` and :mod:`mhasym.reference` take, and which symbol it is: a list of
    ``(path, key, index)``. ``p["self_attn"]["w_q"][k]`` is ``W^Q_{k+1}`` of the self-attention block,
    ``p["ffn"]["b_1"]`` is ``b_1``, ``p["norm_2"]["gamma"]`` is ``gamma_2``.

    >>> parameter_layout(2)[:3]
    [(('self_attn', 'w_q', 0), 'W_Q', 1), (('self_attn', 'w_q', 1), 'W_Q', 2), (('self_attn', 'w_k', 0), 'W_K', 1)]
    """
    out = []
    for block in ATTENTION_BLOCKS[decoder]:
        for field, key in ATTENTION_WEIGHTS:
            out += [((block, field, k), key, k + 1) for k in range(h)]
        out.append(((block, "w_o"), "W_O", None))
    out += [(("ffn", "w_1"), "W", 1), (("ffn", "b_1"), "b", 1), (("ffn", "w_2"), "W", 2), (("ffn", "b_2"), "b", 2)]
    for k in range(1, 4 if decoder else 3):
        out += [((f"norm_{k}", "gamma"), "gamma", k), ((f"norm_{k}", "beta"), "beta", k)]
    return out


def layer_symbols(s: "Sizes", decoder: bool = False) -> list:
    """The symbols of :func:`parameter_layout`, in its order, as the compiled layers take them
    (the cross-attention block's weights are its own, ``W^{Q,cross}``, ...)."""
    out = []
    for path, key, index in parameter_layout(s.h, decoder):
        block = "x" if path[0] == "cross_attn" else ""
        if key in ("W_Q", "W_K", "W_V"):
            out.append(s.W(key[-1], index, block))
        elif key == "W_O":
            out.append(s.W_O(block))
        elif key in ("W", "b"):
            out.append(s.ffn_weights()[2 * (index - 1) + (key == "b")])
        else:
            out.append(s.norm_weights(index)[key == "beta"])
    return out


def check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise MhasymError(f"norm must be 'post' or 'pre', got {norm!r}")

def epsilon():
    return notation.scalar("epsilon")

def feed_forward(s: Sizes, X, *, expand: bool = True):
    """``max(0, X W_1 + b_1) W_2 + b_2`` (or the call ``FFN(X)``)."""
    if not expand:
        return Apply("FFN", *X.shape, X)
    W1, b1, W2, b2 = s.ffn_weights()
    rows = X.shape[0]
    hidden = ReLU(MatAdd(attention.product(X, W1), RowVector(b1, rows)))
    return MatAdd(attention.product(hidden, W2), RowVector(b2, rows))

def layer_norm(s: Sizes, X, k: int, eps=None, *, unbiased=False, eps_inside=True):
    """LayerNorm number ``k`` of a layer (its own gamma_k and beta_k)."""
    gamma, beta = s.norm_weights(k)
    return LayerNorm(X, gamma, beta, epsilon() if eps is None else eps,
                     unbiased=unbiased, eps_inside=eps_inside)

def sublayer(x, f, norm: str, ln, name=None):
    """``LayerNorm(x + f(x))`` (post-LN) or ``x + f(LayerNorm(x))`` (pre-LN).

    ``name`` (an index) names the normalised input of a pre-LN sublayer for display.
    """
    check_norm(norm)
    if norm == "post":
        return ln(Residual(x, f(x)))
    normed = ln(x)
    if name is not None:
        normed = Let(notation.matrix("normed", *x.shape, name), normed)
    return Residual(x, f(normed))

def _self_attention(s: Sizes, X, mask=None, expand=True):
    a = s.attention(X.shape[0], X.shape[0])
    if not expand:
        return Apply("MultiHead", *X.shape, X, X, X, *([] if mask is None else [mask]))
    return attention.multi_head(a, X, X, mask)

def _cross_attention(s: Sizes, X, memory, expand=True):
    a = s.attention(X.shape[0], memory.shape[0])
    if not expand:
        return Apply("MultiHead", *X.shape, X, memory, memory)
    return attention.multi_head(a, X, memory, block="x")

def encoder_layer(s: Sizes, X, norm: str = "post", eps=None, *, expand: bool = True, steps: bool = False):
    """Self-attention then feed-forward, each wrapped in a residual connection and LayerNorm.

    ``steps=True`` names the intermediate result H (for display).
    """
    step = (lambda k: k) if steps else (lambda k: None)
    H = sublayer(X, lambda z: _self_attention(s, z, expand=expand), norm, lambda z: layer_norm(s, z, 1, eps), step(1))
    if steps:
        H = Let(notation.matrix("H", *H.shape), H)
    return sublayer(H, lambda z: feed_forward(s, z, expand=expand), norm, lambda z: layer_norm(s, z, 2, eps),
                    step(2))

def decoder_layer(s: Sizes, Y, memory, norm: str = "post", eps=None, mask=None, *,
                  expand: bool = True, steps: bool = False):
    """Masked self-attention, attention over ``memory`` (the encoder output), feed-forward.

    ``mask`` is the additive causal mask (n, n) for the self-attention.
    """
    def named(H, k):
        return Let(notation.matrix("H", *H.shape, k), H) if steps else H

    step = (lambda k: k) if steps else (lambda k: None)
    H1 = named(sublayer(Y, lambda z: _self_attention(s, z, mask, expand), norm,
                        lambda z: layer_norm(s, z, 1, eps), step(1)), 1)
    H2 = named(sublayer(H1, lambda z: _cross_attention(s, z, memory, expand), norm,
                        lambda z: layer_norm(s, z, 2, eps), step(2)), 2)
    return sublayer(H2, lambda z: feed_forward(s, z, expand=expand), norm, lambda z: layer_norm(s, z, 3, eps),
                    step(3))

def pe_angle(pos, two_i, d_model):
    """The angle ``pos / 10000^(2i / d_model)`` shared by columns 2i and 2i+1."""
    return pos / sp.Integer(10000) ** (two_i / d_model)

def pe_entry(pos, column, d_model):
    """Entry (pos, column) of the sinusoidal encoding: sin in even columns, cos in odd ones."""
    column = sp.sympify(column)
    even = sp.Eq(sp.Mod(column, 2), 0)
    if even in (sp.true, sp.false):
        two_i = column if even == sp.true else column - 1
        return (sp.sin if even == sp.true else sp.cos)(pe_angle(pos, two_i, d_model))
    return sp.Piecewise((sp.sin(pe_angle(pos, column, d_model)), even),
                        (sp.cos(pe_angle(pos, column - 1, d_model)), True))

def pe_definition():
    """``PE(pos, 2i) = sin(pos / 10000^(2i/d_model))`` and ``PE(pos, 2i+1) = cos(...)``, as written."""
    pos, i, d_model = notation.scalar("pos"), notation.scalar("i"), notation.dim("d_model")
    angle = Frac(pos, sp.Pow(10000, Frac(2 * i, d_model), evaluate=False))
    return ((Call("PE", pos, 2 * i), sp.sin(angle)), (Call("PE", pos, 2 * i + 1), sp.cos(angle)))

def embedding_input(s: Sizes, rows):
    """``X = E_x sqrt(d_model) + PE``: the embedding rows of the tokens, scaled, plus positions."""
    E = notation.matrix("E_x", rows, s.d_model)
    PE = notation.matrix("PE", rows, s.d_model)
    return MatAdd(MatMul(sp.sqrt(s.d_model), E), PE)
