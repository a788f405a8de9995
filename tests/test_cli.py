"""The mhasym command: output, exit codes, one-line errors."""

import shutil
import subprocess
import sys

import pytest

import mhasym
from mhasym.cli import main


def run(*args, timeout=20):
    return subprocess.run([sys.executable, "-m", "mhasym", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_console_script_is_installed():
    exe = shutil.which("mhasym")
    assert exe, "the mhasym console script is not on PATH (pip install -e .)"
    r = subprocess.run([exe, "shape", "--rows", "2", "--cols", "3", "--heads", "2"], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (0, "(2, 6)\n")


@pytest.mark.parametrize("args,out", [
    (["shape", "--rows", "100", "--cols", "3", "--heads", "8"], "(100, 24)\n"),
    (["shape", "--rows", "2", "--cols", "3", "--heads", "h"], "(2, 3h)\n"),
    (["shape", "--rows", "2", "--cols", "3", "--heads", "2"], "(2, 6)\n"),
    (["shape", "--rows", "n", "--cols", "3", "--heads", "8"], "(n, 24)\n"),
    (["shape", "--rows", "1000000000000", "--cols", "1000000", "--heads", "1000"], "(1000000000000, 1000000000)\n"),
])
def test_shape(capsys, args, out):
    assert main(args) == 0
    assert capsys.readouterr().out == out


def test_show_prints_the_catalog_latex(capsys):
    assert main(["show", "seed.concat_2"]) == 0
    assert capsys.readouterr().out == mhasym.formula("seed.concat_2").latex + "\n"


@pytest.mark.parametrize("lang,words", [
    ("en", "A equals softmax of Q K transpose over the square root of d k"),
    ("zh", "A 等于 Q 乘 K 的转置除以根号 d k 的 softmax"),
])
def test_show_speech_says_the_formula(capsys, lang, words):
    assert main(["show", "attention.weights", "--speech", "--lang", lang]) == 0
    assert capsys.readouterr().out == words + "\n"


def test_show_snippet_in_chinese(capsys):
    assert main(["show", "seed.head_1", "--format", "snippet", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("% seed.head_1: 头1的输出\n\\[\n") and mhasym.formula("seed.head_1").latex in out


def test_list_has_every_formula(capsys):
    assert main(["list", "--lang", "zh"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines] == [f.id for f in mhasym.formulas()] + [d.id for d in mhasym.derivations()]
    assert mhasym.formulas()[0].title.zh in lines[0] and mhasym.formulas()[0].section == "attention"  # one head first


@pytest.mark.parametrize("lang,words", [("en", ("Setting:", "why:", "proven:")), ("zh", ("设定:", "理由:", "已证明:"))])
def test_derive_prints_every_step_with_why_and_its_proof(capsys, lang, words):
    d = mhasym.derivation("deriv.sdpa_backward")
    assert main(["derive", d.id, "--lang", lang]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{d.id}: {d.title.plain(lang)}\n")
    for k, step in enumerate(d.steps, 1):
        assert f"({k}) {step.latex()}\n" in out
    for word in words:
        assert out.count(word) >= 1
    assert out.count(words[2]) == len(d.steps)
    assert out.rstrip().endswith(f"{d.id}: ok, {len(d.steps)} steps proven")


def test_derive_unknown_id_is_one_line_and_exit_2():
    r = run("derive", "deriv.sdpa_backwards")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == ("mhasym: error: unknown derivation id 'deriv.sdpa_backwards' "
                        "(did you mean 'deriv.sdpa_backward'?)\n")


def test_check_all_passes(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert f"{len(mhasym.formulas())} passed, 0 failed" in out


def test_check_fails_with_exit_1_when_a_check_fails(capsys, monkeypatch):
    f = mhasym.formula("attention.sdpa")
    from mhasym.catalog.checks import CheckResult
    monkeypatch.setattr(f, "_check", lambda f: CheckResult(f.id, "numeric", "forced failure", False, max_error=1.0))
    assert main(["check", "attention.sdpa", "seed.head_1"]) == 1
    out = capsys.readouterr().out
    assert "1 passed, 1 failed" in out and "attention.sdpa: FAILED" in out


@pytest.mark.parametrize("args,message", [
    (["show", "nope"], "unknown formula id 'nope'"),
    (["show"], "the following arguments are required: id"),
    (["show", "seed.head_1", "--lang", "fr"], "argument --lang: invalid choice: 'fr' (choose from 'en', 'zh')"),
    (["shape", "--rows", "0", "--cols", "3", "--heads", "2"], "--rows must be a positive integer, got 0"),
    (["shape", "--rows", "2", "--cols", "-3", "--heads", "2"], "--cols must be a positive integer, got -3"),
    (["shape", "--rows", "2", "--cols", "3", "--heads", "2.5"], "--heads must be a positive integer or a symbol name, got '2.5'"),
    (["shape", "--rows", "__import__('os')", "--cols", "3", "--heads", "2"],
     "--rows must be a positive integer or a symbol name, got \"__import__('os')\""),
    (["shape", "--rows", "2", "--cols", "3"], "the following arguments are required: --heads"),
    (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate' (choose from 'list', 'show', 'derive', 'shape', 'check', 'export')"),
    (["check", "nope"], "unknown formula id 'nope'"),
    (["list", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "the following arguments are required: COMMAND"),
])
def test_user_mistakes_give_one_line_and_exit_2(args, message):
    r = run(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    # argparse quotes choices differently across Python versions: compare without quotes there
    assert [ln.replace("'", "") for ln in r.stderr.splitlines()] == [f"mhasym: error: {message}".replace("'", "")]


def test_help_on_each_command():
    for args in ([], ["list"], ["show"], ["shape"], ["check"]):
        r = run(*args, "--help")
        assert r.returncode == 0 and "usage: mhasym" in r.stdout


def test_huge_explicit_request_is_refused():
    # how fast: benchmarks/run.py ("refusing an explicit expansion of 3e24 entries")
    with pytest.raises(mhasym.MhasymError, match="exceeds the explicit expansion limit"):
        mhasym.head_outputs(10**6, 10**6, 10**6)


def test_output_to_a_closed_pipe_ends_quietly():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "mhasym", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written, as with `| head -0`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and err == "", err
