"""Bad input, one table across the command line and the Python API: one line naming the problem,
exit status 2 for the command, a ValueError subclass for the API, no traceback, no hang."""

import subprocess
import sys

import numpy as np
import pytest

import mhasym
from mhasym.model import attention
from mhasym.publish import notes as export
from mhasym import numeric, reference
from mhasym.catalog.checks import layer_parameters

g = np.random.default_rng(1)
Q, K, V = g.normal(size=(3, 4)), g.normal(size=(5, 4)), g.normal(size=(5, 2))
SIZES = {"n": 3, "m": 5, "d_model": 4, "h": 2, "d_k": 2, "d_v": 3, "d_ff": 6}
X = g.normal(size=(3, 4))
W = dict(w_q=g.normal(size=(2, 4, 2)), w_k=g.normal(size=(2, 4, 2)), w_v=g.normal(size=(2, 4, 3)),
         w_o=g.normal(size=(6, 4)))
NAN = np.array([[np.nan, 1.0, 2.0, 3.0]] * 3)

CLI = [
    (["show", "no.such"], "unknown formula id 'no.such'"),
    (["show"], "the following arguments are required: id"),
    (["show", "seed.head_1", "--format", "pdf"], "argument --format: invalid choice"),
    (["show", "seed.head_1", "--lang", "de"], "argument --lang: invalid choice"),
    (["list", "--color"], "unrecognized arguments: --color"),
    (["check", "seed.head_1", "bogus.id"], "unknown formula id 'bogus.id'"),
    (["shape", "--rows", "0", "--cols", "3", "--heads", "2"], "--rows must be a positive integer, got 0"),
    (["shape", "--rows", "-4", "--cols", "3", "--heads", "2"], "--rows must be a positive integer, got -4"),
    (["shape", "--rows", "2", "--cols", "1.5", "--heads", "2"], "--cols must be a positive integer or a symbol name"),
    (["shape", "--rows", "2", "--cols", "3", "--heads", "2**100"], "--heads must be a positive integer or a symbol name"),
    (["shape", "--rows", "2", "--cols", "3", "--heads", ""], "--heads must be a positive integer or a symbol name"),
    (["shape", "--rows", "os.system('x')", "--cols", "3", "--heads", "2"], "--rows must be a positive integer or a symbol name"),
    (["shape", "--cols", "3", "--heads", "2"], "the following arguments are required: --rows"),
    (["shape", "--rows", "2", "--cols", "3", "--heads", "2", "--depth", "4"], "unrecognized arguments: --depth 4"),
    (["export", "latex"], "the following arguments are required: --out"),
    (["export", "html", "--out", "x"], "argument what: invalid choice"),
    (["export", "latex", "--out", "/dev/null"], "--out /dev/null exists and is not a folder"),
    (["export", "latex", "--out", "/dev/null/notes"], "cannot write to /dev/null/notes: /dev/null is not a folder"),
    (["export", "latex", "--out", "/proc/mhasym-notes"], "cannot write to /proc/mhasym-notes"),
    (["nonsense"], "argument COMMAND: invalid choice"),
    ([], "the following arguments are required: COMMAND"),
]

API = [
    (lambda: mhasym.formula("seed.head_0"), "unknown formula id 'seed.head_0'"),
    (lambda: mhasym.formula(42), "unknown formula id 42"),
    (lambda: mhasym.head_outputs(0, 2, 3), "heads must be a positive integer, got 0"),
    (lambda: mhasym.head_outputs(2, 2.5, 3), "rows must be a positive integer, got 2.5"),
    (lambda: mhasym.head_outputs(2, 2, "3*x"), "cols must be a positive integer or a symbol name"),
    (lambda: mhasym.head_outputs(10**6, 10**6, 10**6), "exceeds the explicit expansion limit of 10000"),
    (lambda: mhasym.head_outputs("h", 2, 3), "explicit entries need numeric sizes"),
    (lambda: mhasym.concat_shape(2, -3, 4), "d_v must be a positive integer, got -3"),
    (lambda: mhasym.parameter_count(512, 7, 2048, 6, 37000), "h = 7 does not divide d_model = 512"),
    (lambda: mhasym.parameter_count(512, 8, 0, 6, 37000), "d_ff must be a positive integer, got 0"),
    (lambda: attention.multi_head(attention.Sizes.of(n=4, m=6, d_model=24, h=8, d_k=5, d_v=3),
                                  W_O=attention.Sizes.of().matrix("W_O", 20, 24)), "W\\^O needs h\\*d_v = 24 rows, got 20"),
    (lambda: attention.Sizes.of(h=0), "h must be a positive integer, got 0"),
    (lambda: numeric.scaled_dot_product_attention(Q, K[:, :3], V), "k needs d_k = 4 columns, got 3"),
    (lambda: numeric.scaled_dot_product_attention(Q, K, V, np.ones((3, 5), dtype=int)), "mask must be boolean"),
    (lambda: numeric.scaled_dot_product_attention(Q, K, V, np.ones((5, 3), bool)), "mask needs shape \\(3, 5\\)"),
    (lambda: numeric.scaled_dot_product_attention(Q, K, V, np.zeros((3, 5), bool)), "mask row 0 may attend no key"),
    (lambda: numeric.scaled_dot_product_attention(Q * np.inf, K, V), "q contains NaN or infinite values"),
    (lambda: numeric.scaled_dot_product_attention([["a"]], K, V), "q must hold real numbers, got dtype <U1"),
    (lambda: numeric.multi_head_attention(NAN, X, **W), "x_q contains NaN or infinite values"),
    (lambda: numeric.multi_head_attention(X, X, **{**W, "w_o": W["w_o"][:5]}), "w_o needs h\\*d_v = 6 rows, got 5"),
    (lambda: numeric.causal_mask(3, 0), "m must be a positive integer, got 0"),
    (lambda: numeric.causal_mask(3, 4, "middle"), "align must be 'top-left' or 'bottom-right'"),
    (lambda: numeric.positional_encoding(2.5, 4), "n_positions must be a positive integer, got 2.5"),
    (lambda: numeric.positional_encoding(10**9, 10**9), "too large"),
    (lambda: numeric.layer_norm(X, np.ones(4), np.zeros(4), eps=-1), "eps must be a positive number"),
    (lambda: numeric.layer_norm(X, np.ones(4), np.zeros(4), eps=float("nan")), "eps must be a positive number"),
    (lambda: numeric.encoder_layer(X, layer_parameters(SIZES), norm="sandwich"), "norm must be 'post' or 'pre'"),
    (lambda: numeric.encoder_layer(X, {"self_attn": W}), "p is missing 'ffn'"),
    (lambda: numeric.decoder_layer(X, X, layer_parameters(SIZES)), "p is missing 'cross_attn'"),
    (lambda: reference.scaled_dot_product_attention(Q, K, V, np.zeros((3, 5), bool)), "mask row 0 may attend no key"),
    (lambda: reference.layer_norm(X, np.ones(4), np.zeros(4), eps=0), "eps must be a positive number"),
    (lambda: export.export_latex("/tmp/mhasym-bad", lang="fr"), "unknown language 'fr'"),
]


@pytest.mark.parametrize("args,message", CLI, ids=[" ".join(a) or "(nothing)" for a, _ in CLI])
def test_command_line(args, message):
    r = subprocess.run([sys.executable, "-m", "mhasym", *args], capture_output=True, text=True, timeout=120)
    lines = r.stderr.splitlines()
    assert r.returncode == 2 and r.stdout == "" and len(lines) == 1, r.stderr
    assert lines[0].startswith("mhasym: error: ") and message.replace("'", "") in lines[0].replace("'", "")
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("call,message", API, ids=[m[:40] for _, m in API])
def test_python_api(call, message):
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_the_table_has_at_least_40_rows():
    assert len(CLI) + len(API) >= 40
