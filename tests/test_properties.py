"""Property tests over random sizes and values (hypothesis)."""

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import mhasym
from mhasym import numeric, reference

dims = st.integers(min_value=1, max_value=6)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
SETTINGS = settings(max_examples=40, deadline=None)


def _weights(q, k, mask=None):
    """Attention weights from the compiled model: attention with V = I gives the weight matrix."""
    return numeric.scaled_dot_product_attention(q, k, np.eye(k.shape[0]), mask)


@SETTINGS
@given(n=dims, m=dims, d_k=dims, seed=seeds)
def test_rows_sum_to_one_and_masked_keys_get_zero(n, m, d_k, seed):
    g = np.random.default_rng(seed)
    q, k = g.normal(size=(n, d_k)) * 3, g.normal(size=(m, d_k)) * 3
    mask = g.random((n, m)) < 0.5
    mask[np.arange(n), g.integers(0, m, n)] = True
    w = _weights(q, k, mask)
    assert np.allclose(w.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(w[~mask] == 0.0)
    assert np.all(w >= 0)


@SETTINGS
@given(n=st.integers(2, 6), d_model=st.sampled_from([2, 4, 6]), h=st.sampled_from([1, 2]), seed=seeds,
       cut=st.integers(0, 5))
def test_causal_output_ignores_later_positions(n, d_model, h, seed, cut):
    cut = cut % n
    g = np.random.default_rng(seed)
    d = d_model // h
    x = g.normal(size=(n, d_model))
    w = [g.normal(size=(h, d_model, d)) for _ in range(3)]
    w_o = g.normal(size=(h * d, d_model))
    mask = numeric.causal_mask(n, n)
    out = numeric.multi_head_attention(x, x, *w, w_o, mask)
    x2 = x.copy()
    x2[cut + 1:] = g.normal(size=x2[cut + 1:].shape)
    out2 = numeric.multi_head_attention(x2, x2, *w, w_o, mask)
    assert np.allclose(out[: cut + 1], out2[: cut + 1], atol=1e-12, rtol=0)


@SETTINGS
@given(n=st.integers(1, 6), d_model=st.sampled_from([2, 3, 6]), h=st.integers(1, 3), seed=seeds)
def test_self_attention_is_permutation_equivariant(n, d_model, h, seed):
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, d_model))
    w = [g.normal(size=(h, d_model, 2)) for _ in range(3)]
    w_o = g.normal(size=(h * 2, d_model))
    perm = g.permutation(n)
    out = numeric.multi_head_attention(x, x, *w, w_o)
    out_p = numeric.multi_head_attention(x[perm], x[perm], *w, w_o)
    assert np.allclose(out_p, out[perm], atol=1e-10)


@SETTINGS
@given(n=dims, d=st.integers(2, 8), shift=st.floats(-50, 50), scale=st.floats(0.1, 20), seed=seeds)
def test_layer_norm_ignores_shift_and_scale(n, d, shift, scale, seed):
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, d))
    gamma, beta = g.normal(size=d), g.normal(size=d)
    base = numeric.layer_norm(x, gamma, beta, eps=1e-12)
    moved = numeric.layer_norm(x * scale + shift, gamma, beta, eps=1e-12)
    assert np.allclose(base, moved, atol=1e-6)


@SETTINGS
@given(n=st.integers(1, 10**12), d_v=st.integers(1, 10**6), h=st.integers(1, 10**4))
def test_concat_shape_law(n, d_v, h):
    assert mhasym.concat_shape(n, d_v, h) == (n, h * d_v)


@settings(max_examples=25, deadline=None)
@given(n=dims, d_v=dims, h=st.integers(1, 4))
def test_explicit_concatenation_has_the_shape_law(n, d_v, h):
    assert mhasym.concat(mhasym.head_outputs(h, n, d_v)).shape == (n, h * d_v)


def test_symbolic_concat_shape_law():
    n, d_v, h = sp.symbols("n d_v h", positive=True, integer=True)
    assert mhasym.concat_shape(n, d_v, h) == (n, h * d_v)


@SETTINGS
@given(n=dims, m=dims, d_model=st.integers(1, 6), h=st.integers(1, 3), d_k=dims, d_v=dims, seed=seeds,
       masked=st.booleans())
def test_numeric_agrees_with_reference(n, m, d_model, h, d_k, d_v, seed, masked):
    g = np.random.default_rng(seed)
    args = (g.normal(size=(n, d_model)), g.normal(size=(m, d_model)), g.normal(size=(h, d_model, d_k)),
            g.normal(size=(h, d_model, d_k)), g.normal(size=(h, d_model, d_v)), g.normal(size=(h * d_v, d_model)))
    mask = None
    if masked:
        mask = g.random((n, m)) < 0.5
        mask[:, -1] = True
    got = numeric.multi_head_attention(*args, mask=mask)
    want = reference.multi_head_attention(*args, mask=mask)
    assert np.max(np.abs(got - want)) <= 1e-10
