"""The reference's gradients of attention against central finite differences (float64), at sizes that
expose mistakes: n != m, d_k != d_v, h = 3, random masks."""

import numpy as np
import pytest

from mhasym import reference


def _mask(g, n, m):
    mask = g.random((n, m)) < 0.6
    mask[np.arange(n), g.integers(0, m, n)] = True  # every row may attend a key
    return mask


def _numeric_gradient(loss, x, step=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + step
        up = loss()
        x[index] = old - step
        down = loss()
        x[index] = old
        grad[index] = (up - down) / (2 * step)
    return grad


@pytest.mark.parametrize("masked", [False, True])
def test_attention_backward_agrees_with_finite_differences(masked):
    g = np.random.default_rng(11)
    n, m, d_k, d_v = 4, 6, 3, 5
    q, k, v, d_out = g.normal(size=(n, d_k)), g.normal(size=(m, d_k)), g.normal(size=(m, d_v)), g.normal(size=(n, d_v))
    mask = _mask(g, n, m) if masked else None
    dq, dk, dv = reference.attention_backward(q, k, v, d_out, mask)

    def loss():
        return float(np.sum(d_out * reference.scaled_dot_product_attention(q, k, v, mask)))

    for got, x in ((dq, q), (dk, k), (dv, v)):
        assert got.shape == x.shape
        assert np.abs(got - _numeric_gradient(loss, x)).max() < 1e-7


@pytest.mark.parametrize("masked", [False, True])
def test_multi_head_attention_backward_agrees_with_finite_differences(masked):
    g = np.random.default_rng(12)
    n, m, d_model, h, d_k, d_v = 3, 5, 4, 3, 2, 3
    x = {"x_q": g.normal(size=(n, d_model)), "x_kv": g.normal(size=(m, d_model)),
         "w_q": g.normal(size=(h, d_model, d_k)), "w_k": g.normal(size=(h, d_model, d_k)),
         "w_v": g.normal(size=(h, d_model, d_v)), "w_o": g.normal(size=(h * d_v, d_model))}
    d_out = g.normal(size=(n, d_model))
    mask = _mask(g, n, m) if masked else None
    grads = reference.multi_head_attention_backward(**x, d_out=d_out, mask=mask)
    assert set(grads) == set(x)

    def loss():
        return float(np.sum(d_out * reference.multi_head_attention(**x, mask=mask)))

    for name, value in x.items():
        assert grads[name].shape == value.shape, name
        assert np.abs(grads[name] - _numeric_gradient(loss, value)).max() < 1e-6, name


def test_masked_positions_get_no_gradient_through_the_scores():
    g = np.random.default_rng(13)
    q, k, v, d_out = g.normal(size=(2, 3)), g.normal(size=(4, 3)), g.normal(size=(4, 2)), g.normal(size=(2, 2))
    mask = np.array([[True, False, False, False], [True, True, False, True]])
    _, dk, dv = reference.attention_backward(q, k, v, d_out, mask)
    assert np.all(dk[2] == 0) and np.all(dv[2] == 0)  # key 3 is masked for every query


@pytest.mark.parametrize("call,message", [
    (lambda: reference.attention_backward(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2)), np.ones((2, 5))),
     r"d_out must have the output's shape \(2, 2\), got \(2, 5\)"),
    (lambda: reference.attention_backward(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2)), np.ones((2, 2)),
                                          np.zeros((2, 4), bool)), "mask row 0 may attend no key"),
    (lambda: reference.attention_backward(np.ones((2, 3)), np.ones((4, 2)), np.ones((4, 2)), np.ones((2, 2))),
     "k must have d_k = 3 columns like q, got 2"),
])
def test_bad_inputs_give_the_forward_functions_one_line_errors(call, message):
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


# mhasym.numeric computes the same gradients from the derivations' steps (compiled, never differentiated
# numerically, never calling the reference).

from mhasym import numeric  # noqa: E402


@pytest.mark.parametrize("masked", [False, True])
def test_numeric_attention_backward_agrees_with_finite_differences_and_the_reference(masked):
    g = np.random.default_rng(21)
    n, m, d_k, d_v = 3, 5, 4, 2
    q, k, v, d_out = g.normal(size=(n, d_k)), g.normal(size=(m, d_k)), g.normal(size=(m, d_v)), g.normal(size=(n, d_v))
    mask = _mask(g, n, m) if masked else None
    got = numeric.attention_backward(q, k, v, d_out, mask)
    want = reference.attention_backward(q, k, v, d_out, mask)

    def loss():
        return float(np.sum(d_out * numeric.scaled_dot_product_attention(q, k, v, mask)))

    for a, b, x in zip(got, want, (q, k, v)):
        assert a.shape == x.shape
        assert np.abs(a - b).max() < 1e-10
        assert np.abs(a - _numeric_gradient(loss, x)).max() < 1e-7


@pytest.mark.parametrize("masked", [False, True])
def test_numeric_multi_head_attention_backward_agrees_with_finite_differences_and_the_reference(masked):
    g = np.random.default_rng(22)
    n, m, d_model, h, d_k, d_v = 4, 2, 5, 3, 3, 2
    x = {"x_q": g.normal(size=(n, d_model)), "x_kv": g.normal(size=(m, d_model)),
         "w_q": g.normal(size=(h, d_model, d_k)), "w_k": g.normal(size=(h, d_model, d_k)),
         "w_v": g.normal(size=(h, d_model, d_v)), "w_o": g.normal(size=(h * d_v, d_model))}
    d_out = g.normal(size=(n, d_model))
    mask = _mask(g, n, m) if masked else None
    got = numeric.multi_head_attention_backward(**x, d_out=d_out, mask=mask)
    want = reference.multi_head_attention_backward(**x, d_out=d_out, mask=mask)
    assert set(got) == set(x)

    def loss():
        return float(np.sum(d_out * numeric.multi_head_attention(**x, mask=mask)))

    for name, value in x.items():
        assert got[name].shape == value.shape, name
        assert np.abs(got[name] - want[name]).max() < 1e-10, name
        assert np.abs(got[name] - _numeric_gradient(loss, value)).max() < 1e-6, name


def test_numeric_gradients_are_compiled_from_the_derivations_steps():
    source = numeric._sdpa_backward(True).source
    assert "sum(axis=1, keepdims=True)" in source  # rowsum(dA o A), deriv.sdpa_backward step 3
    assert "reference" not in source


@pytest.mark.parametrize("call,message", [
    (lambda: numeric.attention_backward(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2)), np.ones((2, 5))),
     r"d_out must have the output's shape \(2, 2\), got \(2, 5\)"),
    (lambda: numeric.attention_backward(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2)), np.ones((2, 2)),
                                        np.zeros((2, 4), bool)), "mask row 0 may attend no key"),
    (lambda: numeric.attention_backward(np.ones((2, 3)), np.ones((4, 2)), np.ones((4, 2)), np.ones((2, 2))),
     "k needs d_k = 3 columns, got 2"),
    (lambda: numeric.multi_head_attention_backward(np.ones((2, 4)), np.ones((3, 4)), np.ones((2, 4, 1)),
                                                   np.ones((2, 4, 1)), np.ones((2, 4, 2)), np.ones((4, 4)),
                                                   np.ones((3, 4))),
     r"d_out must have the output's shape \(2, 4\), got \(3, 4\)"),
])
def test_numeric_bad_inputs_give_the_forward_functions_one_line_errors(call, message):
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert "\n" not in str(info.value)
