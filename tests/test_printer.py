"""Expected LaTeX of the printer, as a table of objects and their textbook form."""

import pytest
import sympy as sp
from sympy.matrices.expressions import MatAdd, MatMul, Transpose

import mhasym
from mhasym.model import attention
from mhasym.model.expressions import Concat, Elided, Relation, Scaled, Shape, ShapeOf, Softmax, Space
from mhasym.model.notation import dim, matrix, scalar

n, m, d_k, d_v, d_model, h = (dim(x) for x in ("n", "m", "d_k", "d_v", "d_model", "h"))
Q, K, V = matrix("Q", n, d_k), matrix("K", m, d_k), matrix("V", m, d_v)
X = matrix("X", n, d_model)
i = scalar("i")
W_Q = matrix("W_Q", d_model, d_k, i)
W_K = matrix("W_K", d_model, d_k, i)


@pytest.mark.parametrize("expr,latex", [
    (Q, "Q"),
    (W_Q, "W_{i}^{Q}"),
    (matrix("W_O", h * d_v, d_model), "W^{O}"),
    (matrix("Z_concat", 2, 6), r"Z_{\text{concatenated}}"),
    (Transpose(K), r"K^{\top}"),
    (Transpose(MatMul(X, W_K)), r"\left(X W_{i}^{K}\right)^{\top}"),
    (Scaled(MatMul(Q, Transpose(K)), sp.sqrt(d_k)), r"\frac{Q K^{\top}}{\sqrt{d_k}}"),
    (Softmax(Scaled(MatMul(Q, Transpose(K)), sp.sqrt(d_k))),
     r"\operatorname{softmax}\left(\frac{Q K^{\top}}{\sqrt{d_k}}\right)"),
    (Softmax(Q, axis=0), r"\operatorname{softmax}_{\text{col}}\left(Q\right)"),
    (MatAdd(Scaled(MatMul(Q, Transpose(K)), sp.sqrt(d_k)), matrix("M", n, m)),
     r"\frac{Q K^{\top}}{\sqrt{d_k}} + M"),
    (Concat(matrix("head", n, d_v, 1), Elided(n, (h - 2) * d_v), matrix("head", n, d_v, h)),
     r"\operatorname{Concat}\left(\mathrm{head}_{1}, \ldots, \mathrm{head}_{h}\right)"),
    (Space(h * d_v, d_model), r"\mathbb{R}^{h d_v \times d_{\text{model}}}"),
    (Shape(2, 3 * h), "(2, 3 h)"),
    (ShapeOf(Q), r"\operatorname{shape}\left(Q\right)"),
    (Relation(Q, Space(n, d_k), "in"), r"Q \in \mathbb{R}^{n \times d_k}"),
    (sp.sqrt(d_model), r"\sqrt{d_{\text{model}}}"),
])
def test_latex(expr, latex):
    assert mhasym.latex(expr) == latex


def test_textbook_form_is_not_sympys_canonical_form():
    s = attention.Sizes.of()
    tex = mhasym.latex(attention.head(s, i))
    assert r"\left(K W_{i}^{K}\right)^{\top}" in tex  # not W^T K^T
    assert r"\frac{1}{\sqrt{d_k}}" not in tex  # the scale stays a fraction under Q K^T
    assert tex.index(r"\operatorname{softmax}") == 0


@pytest.mark.parametrize("settings,latex", [
    ({"transpose": "T"}, "K^{T}"),
    ({"transpose": r"\intercal"}, r"K^{\intercal}"),
])
def test_settings(settings, latex):
    assert mhasym.latex(Transpose(K), **settings) == latex


def test_matrix_environment_setting():
    Z = mhasym.head_outputs(1, 1, 2)[0]
    assert mhasym.latex(Z, matrix_env="bmatrix") == r"\begin{bmatrix} z_{11} & z_{12} \end{bmatrix}"


def test_unknown_setting_is_refused():
    with pytest.raises(TypeError):
        mhasym.latex(Q, no_such_setting=1)


def test_objects_display_as_math_in_jupyter():
    assert Softmax(Q)._repr_latex_() == r"$\displaystyle \operatorname{softmax}\left(Q\right)$"
    assert mhasym.head_outputs(1, 1, 1)[0]._repr_latex_() == r"$\displaystyle \begin{pmatrix} z_{11} \end{pmatrix}$"
    assert mhasym.formula("attention.sdpa")._repr_latex_().startswith(r"$\displaystyle \operatorname{Attention}")


def test_sympys_own_printer_also_writes_entries_unambiguously():
    Z = mhasym.head_outputs(10, 1, 1)[9]
    assert sp.latex(Z[0, 0]) == "z_{10,1}"
