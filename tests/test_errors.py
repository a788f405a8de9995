"""User mistakes give one clear line: exact messages, one table."""

import numpy as np
import pytest

import mhasym
from mhasym import MhasymError, numeric, reference
from mhasym.model import attention
from mhasym.model.notation import matrix

g = np.random.default_rng(0)
Q, K, V = g.normal(size=(2, 3)), g.normal(size=(4, 3)), g.normal(size=(4, 5))
X_Q, X_KV = g.normal(size=(2, 6)), g.normal(size=(4, 6))
W_Q, W_K, W_V, W_O = g.normal(size=(2, 6, 3)), g.normal(size=(2, 6, 3)), g.normal(size=(2, 6, 5)), g.normal(size=(10, 6))
S = attention.Sizes.of(n=4, m=6, d_model=24, h=8, d_k=5, d_v=3)


@pytest.mark.parametrize("call,message", [
    (lambda: mhasym.formula("nope"), r"unknown formula id 'nope'"),
    (lambda: mhasym.head_outputs(0, 2, 3), r"heads must be a positive integer, got 0"),
    (lambda: mhasym.head_outputs(2, -1, 3), r"rows must be a positive integer, got -1"),
    (lambda: mhasym.head_outputs(2.5, 2, 3), r"heads must be a positive integer, got 2.5"),
    (lambda: mhasym.head_outputs(True, 2, 3), r"heads must be a positive integer, got True"),
    (lambda: mhasym.head_outputs("2+2", 2, 3), r"heads must be a positive integer or a symbol name, got '2\+2'"),
    (lambda: mhasym.head_outputs(8, 10**6, 3),
     r"8 head outputs of 1000000 x 3: 24000000 entries exceeds the explicit expansion limit of 10000; "
     r"use symbolic shapes \(concat_shape\) instead"),
    (lambda: mhasym.head_outputs("h", 2, 3),
     r"h head outputs of 2 x 3: explicit entries need numeric sizes, got 6h entries"),
    (lambda: mhasym.concat_shape(0, 3, 8), r"n must be a positive integer, got 0"),
    (lambda: mhasym.concat([matrix("Z", 2, 3, 1), matrix("Z", 3, 3, 2)]), r"Concat block 2 has 3 rows, block 1 has 2"),
    (lambda: attention.multi_head(S, W_O=S.matrix("W_O", 20, 24)), r"W\^O needs h\*d_v = 24 rows, got 20"),
    (lambda: attention.scaled_dot_product(matrix("Q", 4, 5), matrix("K", 6, 4), matrix("V", 6, 3)),
     r"K needs d_k = 5 columns \(as Q\), got 4"),
    (lambda: attention.scaled_dot_product(matrix("Q", 4, 5), matrix("K", 6, 5), matrix("V", 7, 3)),
     r"V needs m = 6 rows \(as K\), got 7"),
    (lambda: attention.Sizes.of(q=3), r"unknown size 'q'; known: n, m, d_model, h, d_k, d_v"),
    (lambda: numeric.causal_mask(0, 3), r"n must be a positive integer, got 0"),
    (lambda: numeric.causal_mask(2, 3, "left"), r"align must be 'top-left' or 'bottom-right', got 'left'"),
    (lambda: numeric.scaled_dot_product_attention(Q, K[:, :2], V), r"k needs d_k = 3 columns, got 2"),
    (lambda: numeric.scaled_dot_product_attention(Q, K, V[:3]), r"v needs m = 4 rows, got 3"),
    (lambda: numeric.scaled_dot_product_attention(Q, K, V, np.ones((2, 4))),
     r"mask must be boolean \(True = may attend\), got dtype float64"),
    (lambda: numeric.scaled_dot_product_attention(Q, K, V, np.ones((4, 2), bool)), r"mask needs shape \(2, 4\), got \(4, 2\)"),
    (lambda: numeric.scaled_dot_product_attention(np.full((2, 3), np.nan), K, V), r"q contains NaN or infinite values"),
    (lambda: numeric.scaled_dot_product_attention(Q[0], K, V), r"q must have 2 dimensions, got shape \(3,\)"),
    (lambda: numeric.multi_head_attention(X_Q, X_KV, W_Q, W_K, W_V, W_O[:9]), r"w_o needs h\*d_v = 10 rows, got 9"),
    (lambda: numeric.multi_head_attention(X_Q, X_KV[:, :5], W_Q, W_K, W_V, W_O), r"x_kv needs d_model = 6 columns, got 5"),
    (lambda: numeric.multi_head_attention(X_Q, X_KV, W_Q, W_K[:1], W_V, W_O), r"w_k needs h = 2 heads, got 1"),
    (lambda: mhasym.formula("seed.head_1").title["fr"], r"unknown language 'fr'; use 'en' or 'zh'"),
])
def test_one_line_error(call, message):
    with pytest.raises(MhasymError, match=f"^{message}$") as info:
        call()
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("call,message", [
    (lambda: reference.causal_mask(0, 2), r"n must be a positive integer, got 0"),
    (lambda: reference.causal_mask(2, 2, "up"), r"align must be 'top-left' or 'bottom-right', got 'up'"),
    (lambda: reference.scaled_dot_product_attention(Q, K, V, np.ones((2, 4), int)),
     r"mask must be boolean \(True = may attend\), got dtype int64"),
    (lambda: reference.multi_head_attention(X_Q, X_KV, W_Q, W_K, W_V, W_O[:9]), r"w_o must have h\*d_v = 10 rows, got 9"),
    (lambda: reference.scaled_dot_product_attention(Q, K, np.full((4, 5), np.inf)), r"v contains NaN or infinite values"),
])
def test_reference_errors_are_one_line_value_errors(call, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        call()


from mhasym.catalog.checks import layer_parameters  # noqa: E402

LS = {"n": 3, "m": 5, "d_model": 4, "h": 2, "d_k": 2, "d_v": 3, "d_ff": 6}
X4 = g.normal(size=(3, 4))


def _without(path, decoder=False):
    p = layer_parameters(LS, decoder=decoder)
    node = p
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return p


def _reshaped(path, shape):
    p = layer_parameters(LS)
    node = p
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = np.zeros(shape)
    return p


@pytest.mark.parametrize("call,message", [
    (lambda: numeric.encoder_layer(X4, layer_parameters(LS), norm="middle"), r"norm must be 'post' or 'pre', got 'middle'"),
    (lambda: numeric.encoder_layer(X4, layer_parameters(LS), eps=0), r"eps must be a positive number, got 0.0"),
    (lambda: numeric.encoder_layer(X4, layer_parameters(LS), eps=-1e-5), r"eps must be a positive number, got -1e-05"),
    (lambda: numeric.encoder_layer(X4, _without(("ffn",))), r"p is missing 'ffn'"),
    (lambda: numeric.encoder_layer(X4, _without(("ffn", "b_2"))), r"p\['ffn'\] is missing 'b_2'"),
    (lambda: numeric.encoder_layer(X4, _without(("norm_2", "gamma"))), r"p\['norm_2'\] is missing 'gamma'"),
    (lambda: numeric.decoder_layer(X4, X4, _without(("cross_attn",), decoder=True)), r"p is missing 'cross_attn'"),
    (lambda: numeric.decoder_layer(X4, X4, _without(("norm_3",), decoder=True)), r"p is missing 'norm_3'"),
    (lambda: numeric.encoder_layer(X4, _reshaped(("ffn", "w_1"), (5, 6))),
     r"p\['ffn'\]\['w_1'\] needs shape \(4, \?\), got \(5, 6\)"),
    (lambda: numeric.encoder_layer(X4, _reshaped(("self_attn", "w_o"), (5, 4))),
     r"p\['self_attn'\]\['w_o'\] needs shape \(6, 4\), got \(5, 4\)"),
    (lambda: numeric.encoder_layer(X4, _reshaped(("norm_1", "beta"), (3,))), r"p\['norm_1'\]\['beta'\] needs shape \(4,\), got \(3,\)"),
    (lambda: numeric.encoder_layer(X4, "weights"), r"p must be a dict of layer parameters, got str"),
    (lambda: numeric.decoder_layer(X4, g.normal(size=(5, 3)), layer_parameters(LS, decoder=True)),
     r"memory needs d_model = 4 columns, got 3"),
    (lambda: numeric.positional_encoding(0, 4), r"n_positions must be a positive integer, got 0"),
    (lambda: numeric.positional_encoding(10**6, 10**6), r"positional encoding of 1000000 x 1000000 is too large \(over 10\^8 entries\)"),
    (lambda: numeric.layer_norm(X4, np.ones(3), np.zeros(4)), r"gamma needs 4 entries, got shape \(1, 3\)"),
    (lambda: numeric.feed_forward(X4, np.ones((5, 6)), np.ones(6), np.ones((6, 4)), np.ones(4)),
     r"w_1 needs d_model = 4 rows, got 5"),
])
def test_layer_errors(call, message):
    with pytest.raises(MhasymError, match=f"^{message}$"):
        call()


_RNG = np.random.default_rng(7)
_GOOD = {"q": _RNG.normal(size=(3, 4)), "k": _RNG.normal(size=(5, 4)), "v": _RNG.normal(size=(5, 2))}


@pytest.mark.parametrize("bad", [
    np.array([["0.5", "1.0", "2", "3"]] * 3),  # numeric strings: numbers to the eye, text to NumPy
    np.ones((3, 4), dtype=bool),
    np.ones((3, 4), dtype=complex),
    np.array([[1.0, 2.0, 3.0, 4.0]] * 3, dtype=object),
    [[1.0, 2.0, 3.0, 4.0], [1.0, 2.0], [1.0, 2.0, 3.0, 4.0]],  # ragged rows
    np.ones(4),
    np.full((3, 4), np.nan),
])
def test_numeric_refuses_what_the_reference_refuses_in_the_same_words(bad):
    """mhasym.numeric is not more lenient than the oracle: the same bad query gives the same one line."""
    with pytest.raises(ValueError) as ref:
        reference.scaled_dot_product_attention(bad, _GOOD["k"], _GOOD["v"])
    with pytest.raises(mhasym.MhasymError) as num:
        numeric.scaled_dot_product_attention(bad, _GOOD["k"], _GOOD["v"])
    assert str(num.value) == str(ref.value)
    assert "\n" not in str(num.value)
