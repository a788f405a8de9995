"""The seed notebook's display formulas come out of the catalog token for token."""

import pytest
import sympy as sp

import mhasym
from conftest import tokens

SEED_IDS = ["seed.head_1", "seed.head_2", "seed.concat_2", "seed.head_i", "seed.concat_h"]


def test_the_seed_has_five_display_formulas(seed_formulas):
    assert len(seed_formulas) == 5


@pytest.mark.parametrize("position,fid", list(enumerate(SEED_IDS)))
def test_seed_formula_matches_token_for_token(seed_formulas, position, fid):
    assert tokens(mhasym.formula(fid).latex) == tokens(seed_formulas[position])


def test_tokenizer_ignores_single_character_braces_only():
    assert tokens("Z_{1} = z_{11}") == tokens("Z_1 = z_{11}")
    assert tokens("z_{11}") != tokens("z_1 1")


@pytest.mark.parametrize("fid", SEED_IDS)
def test_seed_formulas_are_sympy_objects_not_strings(fid):
    f = mhasym.formula(fid)
    assert isinstance(f.expr, sp.Basic)
    assert isinstance(f.expr.rhs, sp.MatrixBase) or hasattr(f.expr.rhs, "blocks")


def test_seed_shapes_are_computed():
    Z = mhasym.head_outputs(2, 2, 3)
    assert mhasym.concat(Z).shape == (2, 6)
    h = sp.Symbol("h", positive=True, integer=True)
    assert mhasym.concat_shape(2, 3, h) == (2, 3 * h)
    assert mhasym.concat_shape(100, 3, 8) == (100, 24)
    assert mhasym.concat(mhasym.head_outputs(8, 100, 3)).shape == (100, 24)


def test_general_concatenation_width_is_3h():
    f = mhasym.formula("seed.concat_h")
    h = sp.Symbol("h", positive=True, integer=True)
    assert sp.simplify(f.expr.rhs.shape[1] - 3 * h) == 0


@pytest.mark.parametrize("fid,shape", [("seed.shape_2", "(2, 6)"), ("seed.shape_h", "(2, 3 h)"),
                                       ("seed.shape_100", "(100, 24)")])
def test_seed_shape_formulas(fid, shape):
    assert mhasym.formula(fid).latex.endswith("= " + shape)


def test_entries_from_head_10_on_keep_a_comma():
    Z10 = mhasym.head_outputs(10, 2, 3)[9]
    assert mhasym.latex(Z10[0, 0]) == "z_{10,1}"
    Z1 = mhasym.head_outputs(1, 4, 3)[0]
    assert mhasym.latex(Z1[3, 2]) == "z_{1,12}"
    assert mhasym.latex(Z1[2, 2]) == "z_{19}"
