"""The Transformer layers: compiled symbolic model (numeric) vs the NumPy reference, and parameter counts."""

import numpy as np
import pytest

import mhasym
from mhasym import MhasymError, numeric, reference
from mhasym.catalog.checks import layer_parameters

TOL = 1e-10
SIZES = [
    {"n": 4, "m": 7, "d_model": 8, "h": 2, "d_k": 3, "d_v": 5, "d_ff": 11},
    {"n": 6, "m": 3, "d_model": 12, "h": 3, "d_k": 4, "d_v": 2, "d_ff": 7},
    {"n": 5, "m": 9, "d_model": 16, "h": 4, "d_k": 4, "d_v": 4, "d_ff": 32},
]


def seqs(sizes, seed):
    g = np.random.default_rng(seed)
    return g.normal(size=(sizes["n"], sizes["d_model"])), g.normal(size=(sizes["m"], sizes["d_model"]))


@pytest.mark.parametrize("norm", ["post", "pre"])
@pytest.mark.parametrize("k,sizes", list(enumerate(SIZES)))
def test_encoder_layer_agrees(norm, k, sizes):
    x, _ = seqs(sizes, k)
    p = layer_parameters(sizes, seed=100 + k)
    assert np.max(np.abs(numeric.encoder_layer(x, p, norm) - reference.encoder_layer(x, p, norm))) <= TOL


@pytest.mark.parametrize("norm", ["post", "pre"])
@pytest.mark.parametrize("k,sizes", list(enumerate(SIZES)))
def test_decoder_layer_agrees(norm, k, sizes):
    y, memory = seqs(sizes, k)
    p = layer_parameters(sizes, seed=200 + k, decoder=True)
    got = numeric.decoder_layer(y, memory, p, norm, eps=1e-6)
    want = reference.decoder_layer(y, memory, p, norm, eps=1e-6)
    assert got.shape == (sizes["n"], sizes["d_model"])
    assert np.max(np.abs(got - want)) <= TOL


@pytest.mark.parametrize("n_positions,d_model", [(1, 2), (9, 8), (50, 16), (7, 5)])
def test_positional_encoding_agrees(n_positions, d_model):
    got = numeric.positional_encoding(n_positions, d_model)
    assert got.shape == (n_positions, d_model)
    assert np.max(np.abs(got - reference.positional_encoding(n_positions, d_model))) <= TOL


def test_positional_encoding_by_hand():
    pe = reference.positional_encoding(2, 4)
    # position 1: columns sin(1), cos(1), sin(1/100), cos(1/100) (10000^(2/4) = 100)
    assert pe[1].tolist() == pytest.approx([np.sin(1), np.cos(1), np.sin(0.01), np.cos(0.01)], abs=1e-15)
    assert numeric.positional_encoding(2, 4)[1].tolist() == pytest.approx(pe[1].tolist(), abs=1e-15)


@pytest.mark.parametrize("seed", range(3))
def test_layer_norm_and_feed_forward_agree(seed):
    g = np.random.default_rng(seed)
    x = g.normal(size=(5, 6)) * 4 + 2
    gamma, beta = g.normal(size=6), g.normal(size=6)
    assert np.max(np.abs(numeric.layer_norm(x, gamma, beta) - reference.layer_norm(x, gamma, beta))) <= TOL
    w_1, b_1, w_2, b_2 = g.normal(size=(6, 9)), g.normal(size=9), g.normal(size=(9, 6)), g.normal(size=6)
    got = numeric.feed_forward(x, w_1, b_1, w_2, b_2)
    assert np.max(np.abs(got - reference.feed_forward(x, w_1, b_1, w_2, b_2))) <= TOL


def test_layer_norm_by_hand():
    # row (1, 3): mean 2, biased variance 1, so (x - 2) / sqrt(1 + eps) = (-1, 1) / sqrt(1 + eps)
    out = reference.layer_norm(np.array([[1.0, 3.0]]), [1.0, 1.0], [0.0, 0.0], eps=0.25)
    assert out[0].tolist() == pytest.approx([-1 / np.sqrt(1.25), 1 / np.sqrt(1.25)])
    got = numeric.layer_norm(np.array([[1.0, 3.0]]), [1.0, 1.0], [0.0, 0.0], eps=0.25)
    assert got[0].tolist() == pytest.approx(out[0].tolist())


def test_post_and_pre_ln_differ():
    x, _ = seqs(SIZES[0], 0)
    p = layer_parameters(SIZES[0])
    assert np.max(np.abs(numeric.encoder_layer(x, p, "post") - numeric.encoder_layer(x, p, "pre"))) > 1e-2


def test_decoder_is_causal():
    """Changing decoder inputs after position i leaves outputs up to i unchanged."""
    sizes = SIZES[0]
    y, memory = seqs(sizes, 3)
    p = layer_parameters(sizes, decoder=True)
    out = numeric.decoder_layer(y, memory, p)
    y2 = y.copy()
    y2[2:] += 5.0
    out2 = numeric.decoder_layer(y2, memory, p)
    assert np.max(np.abs(out[:2] - out2[:2])) <= 1e-12
    assert np.max(np.abs(out[2:] - out2[2:])) > 1e-3


# Parameter counts, worked out by hand from the layer sizes (not by the formula):
#   base: attention 4*512^2 = 1,048,576; FFN 2*512*2048 + 2048 + 512 = 2,099,712;
#   encoder layer 1,048,576 + 2,099,712 + 2*1,024 = 3,150,336;
#   decoder layer 2*1,048,576 + 2,099,712 + 3*1,024 = 4,199,936;
#   embedding 37,000*512 = 18,944,000; total 6*(3,150,336 + 4,199,936) + 18,944,000.
#   big: attention 4*1024^2 = 4,194,304; FFN 2*1024*4096 + 4096 + 1024 = 8,393,728.
BASE = 6 * (3_150_336 + 4_199_936) + 18_944_000
BIG = 6 * ((4_194_304 + 8_393_728 + 2 * 2048) + (2 * 4_194_304 + 8_393_728 + 3 * 2048)) + 37_000 * 1024


def test_parameter_count_base_and_big():
    assert mhasym.parameter_count(512, 8, 2048, 6, 37000) == BASE == 63_045_632
    assert mhasym.parameter_count(1024, 16, 4096, 6, 37000) == BIG == 214_171_648


def test_parameter_count_matches_real_arrays():
    sizes = {"n": 2, "m": 2, "d_model": 6, "h": 2, "d_k": 3, "d_v": 3, "d_ff": 10}
    from mhasym.catalog.checks import count_parameters
    enc, dec = layer_parameters(sizes), layer_parameters(sizes, decoder=True)
    assert mhasym.parameter_count(6, 2, 10, 1, 20) == count_parameters(enc) + count_parameters(dec) + 20 * 6
    assert mhasym.parameter_count(6, 2, 10, 1, 20, d_k=4, d_v=5) != mhasym.parameter_count(6, 2, 10, 1, 20)


@pytest.mark.parametrize("call,message", [
    (lambda: mhasym.parameter_count(512, 7, 2048, 6, 37000), r"h = 7 does not divide d_model = 512; give d_k and d_v"),
    (lambda: mhasym.parameter_count(0, 8, 2048, 6, 37000), r"d_model must be a positive integer, got 0"),
    (lambda: mhasym.parameter_count(512, 8, 2048, -1, 37000), r"n_layers must be a positive integer, got -1"),
])
def test_parameter_count_errors(call, message):
    with pytest.raises(MhasymError, match=f"^{message}$"):
        call()
