"""The compiled symbolic model (mhasym.numeric) agrees with the NumPy reference."""

import numpy as np
import pytest

from mhasym import MhasymError, numeric, reference

TOL = 1e-10


def inputs(n, m, d_model, h, d_k, d_v, seed):
    g = np.random.default_rng(seed)
    return dict(
        x_q=g.normal(size=(n, d_model)), x_kv=g.normal(size=(m, d_model)),
        w_q=g.normal(size=(h, d_model, d_k)), w_k=g.normal(size=(h, d_model, d_k)),
        w_v=g.normal(size=(h, d_model, d_v)), w_o=g.normal(size=(h * d_v, d_model)),
    )


# n != m (cross-attention), d_k != d_v, h >= 2, and one paper-like case.
CASES = [
    (4, 7, 11, 3, 5, 2, 0),
    (7, 4, 6, 2, 3, 4, 1),
    (5, 5, 8, 4, 2, 3, 2),
    (3, 9, 16, 8, 2, 2, 3),
]


@pytest.mark.parametrize("n,m,d_model,h,d_k,d_v,seed", CASES)
def test_multi_head_attention_agrees(n, m, d_model, h, d_k, d_v, seed):
    x = inputs(n, m, d_model, h, d_k, d_v, seed)
    got = numeric.multi_head_attention(**x)
    want = reference.multi_head_attention(**x)
    assert got.shape == want.shape == (n, d_model)
    assert np.max(np.abs(got - want)) <= TOL


# bottom-right with n > m leaves the first queries no key: tested as an error below.
CAUSAL = [(a, *c) for a in ("top-left", "bottom-right") for c in CASES
          if not (a == "bottom-right" and c[0] > c[1])]


@pytest.mark.parametrize("align,n,m,d_model,h,d_k,d_v,seed", CAUSAL)
def test_causal_multi_head_attention_agrees(align, n, m, d_model, h, d_k, d_v, seed):
    x = inputs(n, m, d_model, h, d_k, d_v, seed)
    mask = reference.causal_mask(n, m, align)
    got = numeric.multi_head_attention(**x, mask=mask)
    want = reference.multi_head_attention(**x, mask=mask)
    assert np.max(np.abs(got - want)) <= TOL
    # the mask matters: the unmasked result is different
    assert np.max(np.abs(got - reference.multi_head_attention(**x))) > 1e-3


@pytest.mark.parametrize("seed", range(4))
def test_masked_scaled_dot_product_attention_agrees(seed):
    g = np.random.default_rng(seed)
    n, m, d_k, d_v = 5, 8, 3, 6
    q, k, v = g.normal(size=(n, d_k)), g.normal(size=(m, d_k)), g.normal(size=(m, d_v))
    mask = g.random((n, m)) < 0.5
    mask[:, 0] = True
    got = numeric.scaled_dot_product_attention(q, k, v, mask)
    want = reference.scaled_dot_product_attention(q, k, v, mask)
    assert np.max(np.abs(got - want)) <= TOL


# Expected masks written out by hand, not computed by either implementation.
@pytest.mark.parametrize("n,m,align,expected", [
    (2, 4, "top-left", [[1, 0, 0, 0], [1, 1, 0, 0]]),
    (2, 4, "bottom-right", [[1, 1, 1, 0], [1, 1, 1, 1]]),
    (3, 2, "top-left", [[1, 0], [1, 1], [1, 1]]),
    (3, 2, "bottom-right", [[0, 0], [1, 0], [1, 1]]),
    (3, 3, "bottom-right", [[1, 0, 0], [1, 1, 0], [1, 1, 1]]),
])
@pytest.mark.parametrize("module", [numeric, reference])
def test_causal_mask_by_hand(module, n, m, align, expected):
    mask = module.causal_mask(n, m, align)
    assert mask.dtype == np.bool_
    assert mask.astype(int).tolist() == expected


def test_attention_by_hand():
    # q k^T / sqrt(1) = [[0, ln 3]] -> weights [1/4, 3/4]; values [10, 20] -> 17.5
    q, k, v = np.array([[1.0]]), np.array([[0.0], [np.log(3)]]), np.array([[10.0], [20.0]])
    for module in (numeric, reference):
        assert module.scaled_dot_product_attention(q, k, v)[0, 0] == pytest.approx(17.5, abs=1e-12)


@pytest.mark.parametrize("module,error", [(numeric, MhasymError), (reference, ValueError)])
def test_fully_masked_row_is_an_error_naming_the_row(module, error):
    g = np.random.default_rng(5)
    q, k, v = g.normal(size=(3, 2)), g.normal(size=(4, 2)), g.normal(size=(4, 3))
    mask = np.ones((3, 4), bool)
    mask[1] = False
    with pytest.raises(error, match=r"^mask row 1 may attend no key$"):
        module.scaled_dot_product_attention(q, k, v, mask)


def test_bottom_right_with_more_queries_than_keys_is_an_error():
    x = inputs(5, 3, 4, 2, 2, 2, 0)
    mask = numeric.causal_mask(5, 3, "bottom-right")
    with pytest.raises(MhasymError, match="mask row 0 may attend no key"):
        numeric.multi_head_attention(**x, mask=mask)


def test_weights_rows_sum_to_one_and_masked_weight_is_zero():
    g = np.random.default_rng(9)
    q, k = g.normal(size=(4, 3)), g.normal(size=(6, 3))
    mask = reference.causal_mask(4, 6, "bottom-right")
    w = reference.attention_weights(q, k, mask)
    assert np.allclose(w.sum(axis=1), 1.0)
    assert np.all(w[~mask] == 0.0)


def test_numeric_does_not_call_the_reference():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(numeric))
    names = {a.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
             for a in node.names}
    assert "reference" not in names


@pytest.mark.parametrize("decoder", [False, True])
def test_every_place_of_the_parameter_layout_is_read_by_both_implementations(decoder):
    """Changing any one entry named by the layout changes the reference's layer, and numeric follows."""
    import copy

    from mhasym.catalog.checks import LAYER_SIZES, layer_parameters
    from mhasym.model import transformer

    g = np.random.default_rng(7)
    x, memory = g.normal(size=(4, LAYER_SIZES["d_model"])), g.normal(size=(6, LAYER_SIZES["d_model"]))
    p = layer_parameters(decoder=decoder)

    def run(module, params):
        if decoder:
            return module.decoder_layer(x, memory, params)
        return module.encoder_layer(x, params)

    before = run(reference, p)
    layout = transformer.parameter_layout(LAYER_SIZES["h"], decoder)
    assert len({path for path, _, _ in layout}) == len(layout)
    for path, key, index in layout:
        q = copy.deepcopy(p)
        node = q
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = node[path[-1]] + 0.5 * g.normal(size=np.shape(node[path[-1]]))  # not a constant: LayerNorm removes those
        after = run(reference, q)
        assert np.abs(after - before).max() > 1e-6, (path, key, index)
        assert np.abs(run(numeric, q) - after).max() < 1e-10, (path, key, index)
