"""Bad command-line input: every option of every ``pde`` command, one line on stderr, exit 2, nothing written.

Each row of ``ROWS`` is ``(argv, needle)``: ``argv`` may hold placeholders filled per test
(``{run}`` a real run file, ``{data}`` an operator dataset, ``{text}`` a text file named ``.h5``,
``{empty}`` an empty file, ``{h5}`` an HDF5 file that is neither, ``{dir}`` a directory,
``{missing}`` a path that does not exist, ``{badpy}`` a Python file with a syntax error,
``{tmp}`` the test's own empty directory). Every row must fail before any training starts
(a global optimiser pre-step hook records any step) and leave no file behind.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from pde.cli import build_parser, main

NOT_A_DIR = "{nodir}"  # a folder inside the inputs folder that does not exist (checked unchanged after each row)

ROWS = [
    # the top-level parser
    ([], "required: COMMAND"),
    (["nosuch"], "invalid choice: 'nosuch'"),
    (["--bogus", "list"], "unrecognized arguments: --bogus"),
    (["list", "extra"], "unrecognized arguments: extra"),
    # solve: the problem
    (["solve"], "required: problem"),
    (["solve", "nosuch"], "unknown problem 'nosuch'"),
    (["solve", "poisson2d", "--scaling", "linear"], "--scaling: invalid choice: 'linear'"),
    (["solve", "{missing}.py:Thing"], "no such file"),
    (["solve", "{badpy}:Thing"], "cannot load"),
    (["solve", "problems:NoSuchClass"], "no attribute 'NoSuchClass'"),
    (["solve", "nosuchmodule_xyz:Thing"], "cannot import module 'nosuchmodule_xyz'"),
    (["solve", "pde:solve"], "not a problem class"),
    # solve: integers
    (["solve", "burgers", "--steps", "abc"], "--steps: invalid int value: 'abc'"),
    (["solve", "burgers", "--steps", "1.5"], "--steps: invalid int value: '1.5'"),
    (["solve", "burgers", "--steps", "-5"], "steps must be an integer >= 0"),
    (["solve", "burgers", "--time", "0"], "time budget must be > 0"),
    (["solve", "burgers", "--time", "soon"], "time budget 'soon': expected seconds"),
    (["solve", "burgers", "--set", "plateau=3"], "parameter plateau='3': expected dict | bool | None"),
    (["solve", "burgers", "--set", "balancing=magic"], "unknown balancing 'magic'"),
    (["solve", "burgers", "--lbfgs-steps", "-1"], "--lbfgs-steps must be an integer >= 0, got -1"),
    (["solve", "burgers", "--lbfgs-steps", "x"], "--lbfgs-steps: invalid int value: 'x'"),
    (["solve", "burgers", "--directions", "0"], "--directions must be an integer >= 1, got 0"),
    (["solve", "burgers", "--directions", "two"], "--directions: invalid int value: 'two'"),
    (["solve", "burgers", "--seed", "-1"], "--seed must be an integer in [0, 2**64), got -1"),
    (["solve", "burgers", "--seed", str(2 ** 64)], "--seed must be an integer in [0, 2**64)"),
    (["solve", "burgers", "--seed", "x"], "--seed: invalid int value: 'x'"),
    # solve: names and choices
    (["solve", "burgers", "--model", "nosuch"], "unknown model 'nosuch'"),
    (["solve", "burgers", "--sampler", "nosuch"], "unknown sampler 'nosuch'"),
    (["solve", "burgers", "--derivatives", "nosuch"], "unknown engine 'nosuch'"),
    (["solve", "burgers", "--hard", "maybe"], "--hard: invalid choice: 'maybe'"),
    (["solve", "burgers", "--recipe", "magic"], "unknown recipe 'magic'"),
    (["solve", "burgers", "--recipe", "generic:causal=maybe"], "recipe option causal: expected true or false"),
    (["solve", "burgers", "--recipe", "generic:nosuch=1"], "unknown recipe option 'nosuch'"),
    (["solve", "burgers", "--model", "mlp", "--recipe", "generic"], "a recipe chooses the model"),
    (["solve", "burgers", "--dtype", "float16"], "--dtype: invalid choice: 'float16'"),
    (["solve", "burgers", "--compile", "nosuch"], "--compile: invalid choice: 'nosuch'"),
    # solve: devices
    (["solve", "burgers", "--device", "tpu"], "device 'tpu'"),
    (["solve", "burgers", "--device", "cuda:abc"], "device 'cuda:abc'"),
    (["solve", "burgers", "--device", "cuda:-1"], "device 'cuda:-1'"),
    (["solve", "burgers", "--device", "cpu:1"], "device 'cpu:1'"),
    (["solve", "burgers", "--device", ""], "device ''"),
    (["solve", "burgers", "--device", "cuda:99"], "cuda:99"),
    # solve: the output file
    (["solve", "burgers", "--out", NOT_A_DIR + "/x.h5"], "no-such-dir' does not exist"),
    (["solve", "burgers", "--out", "{dir}"], "is a directory"),
    (["solve", "burgers", "--out", ""], "--out ''"),
    (["solve", "burgers", "--out", "{text}/x.h5"], "is not a directory"),
    (["solve", "burgers", "--out", "{text}"], "not a pdekit run file; refusing to overwrite"),
    # solve: --set
    (["solve", "burgers", "--set", "nu"], "--set expects NAME=VALUE, got 'nu'"),
    (["solve", "burgers", "--set", "=3"], "--set expects NAME=VALUE"),
    (["solve", "burgers", "--set", "nu=abc"], "nu='abc'"),
    (["solve", "burgers", "--set", "nu=-1"], "nu"),
    (["solve", "burgers", "--set", "colour=3"], "unknown parameter 'colour'"),
    (["solve", "lid_driven_cavity", "--set", "lid=wavy"], "lid must be one of constant, smooth, got 'wavy'"),
    (["solve", "poisson_holes", "--set", "radius=0.3"], "radius must be < 0.25"),
    (["solve", "gray_scott", "--set", "Du=0"], "Du must be > 0"),
    (["solve", "burgers", "--set", "steps=abc"], "steps='abc': expected a value of type int"),
    (["solve", "burgers", "--set", "steps=-2"], "steps must be an integer >= 0"),
    (["solve", "burgers", "--set", "train.lr=-1"], "lr must be > 0"),
    (["solve", "burgers", "--set", "train.lr=fast"], "train.lr='fast': expected a value of type float"),
    (["solve", "burgers", "--set", "train.nosuch=1"], "unknown training setting 'nosuch'"),
    (["solve", "burgers", "--set", "n_interior=0"], "number of collocation points"),
    (["solve", "burgers", "--set", "n_interior=many"], "n_interior='many': expected a value of type int"),
    (["solve", "burgers", "--set", "sampler.nosuch=1"], "unknown sampler option 'nosuch'"),
    (["solve", "burgers", "--sampler", "uniform", "--set", "sampler.n=abc"], "sampler.n='abc'"),
    (["solve", "burgers", "--set", "model.width=abc"], "model.width='abc': expected a value of type int"),
    (["solve", "burgers", "--set", "model.nosuch=1"], "unknown model option 'nosuch'"),
    (["solve", "burgers", "--set", "engine.nosuch=1"], "unknown engine option 'nosuch'"),
    (["solve", "burgers", "--derivatives", "stde", "--set", "engine.n_directions=abc"], "engine.n_directions='abc'"),
    (["solve", "burgers", "--set", "train.weights=abc"], "train.weights='abc': expected a value of type dict"),
    (["solve", "burgers", "--set", "train.causal=abc"], "train.causal='abc': expected CausalWeighting | dict"),
    (["solve", "burgers", "--set", "train.compile=maybe"], "train.compile='maybe': expected a value of type bool"),
    (["solve", "burgers", "--derivatives", "taylor", "--directions", "3"],
     "engine 'taylor' draws no random directions"),
    # show
    (["show"], "required: run"),
    (["show", "{missing}"], "does not exist"),
    (["show", "{text}"], "not an HDF5 file"),
    (["show", "{empty}"], "not an HDF5 file"),
    (["show", "{dir}"], "is a directory"),
    (["show", "{h5}"], "not a pdekit run"),
    (["show", "{data}"], "not a pdekit run"),
    (["show", "{run}", "--bogus"], "unrecognized arguments: --bogus"),
    # validate
    (["validate", "{missing}"], "does not exist"),
    (["validate", "{text}"], "not an HDF5 file"),
    (["validate", "{run}", "--reference", "{missing}"], "--reference"),
    (["validate", "{run}", "--reference", "{dir}"], "is a directory"),
    (["validate", "{run}", "--reference", "{text}"], "not an HDF5 file"),
    (["validate", "{run}", "--reference", "{tmp}/../ref.txt"], "does not exist"),
    (["validate", "{run}", "--reference", "{txtref}"], "unsupported reference file type '.txt'"),
    (["validate", "{run}", "--reference", "{fakenpz}"], "not a .npz file"),
    (["validate", "{run}", "--reference", "{fakemat}"], "not a MATLAB file"),
    (["validate", "{run}", "--arrays", "x"], "--arrays takes NAME=ARRAY pairs"),
    (["validate", "{run}", "--u", "uu"], "need --reference FILE"),
    (["validate", "{run}", "--dims", ",t"], "--dims"),
    (["validate", "{run}", "--device", "tpu"], "device 'tpu'"),
    (["validate", "{run}", "--field", "nosuch"], "unknown field 'nosuch'"),
    # export
    (["export", "{run}"], "required: --out"),
    (["export", "{missing}", "--out", "{tmp}/x.vtu"], "does not exist"),
    (["export", "{text}", "--out", "{tmp}/x.vtu"], "not an HDF5 file"),
    (["export", "{run}", "--out", NOT_A_DIR + "/x.vtu"], "no-such-dir' does not exist"),
    (["export", "{run}", "--out", "{tmp}/x.nosuchext"], "unknown mesh format '.nosuchext'"),
    (["export", "{run}", "--out", "{tmp}/x"], "unknown mesh format ''"),
    (["export", "{run}", "--out", "{dir}"], "is a directory"),
    (["export", "{run}", "--out", "{tmp}/x.vtu", "--mesh", "{missing}"], "--mesh"),
    (["export", "{run}", "--out", "{tmp}/x.vtu", "--mesh", "{text}"], "cannot read mesh"),
    (["export", "{run}", "--out", "{tmp}/x.vtu", "--device", "cuda:abc"], "device 'cuda:abc'"),
    # plot
    (["plot", "{missing}"], "does not exist"),
    (["plot", "{text}"], "not an HDF5 file"),
    (["plot", "{run}", "--out", NOT_A_DIR + "/x.png"], "no-such-dir' does not exist"),
    (["plot", "{run}", "--out", "{tmp}/x.nosuch"], "unknown image format '.nosuch'"),
    (["plot", "{run}", "--out", "{tmp}/x.png", "--field", "nosuch"], "unknown field 'nosuch'"),
    (["plot", "{run}", "--field", "nosuch"], "unknown field 'nosuch'"),
    # resume
    (["resume", "{missing}"], "does not exist"),
    (["resume", "{text}"], "not an HDF5 file"),
    (["resume", "{h5}"], "not a pdekit run"),
    (["resume", "{data}"], "not a pdekit run"),
    (["resume", "{run}", "--steps", "-1"], "--steps must be an integer >= 0, got -1"),
    (["resume", "{run}", "--steps", "x"], "--steps: invalid int value: 'x'"),
    (["resume", "{run}", "--device", "tpu"], "device 'tpu'"),
    (["resume", "{run}", "--device", "cuda:abc"], "device 'cuda:abc'"),
    # train (operators)
    (["train"], "required: dataset"),
    (["train", "{missing}"], "does not exist"),
    (["train", "{text}"], "not an HDF5 file"),
    (["train", "{empty}"], "not an HDF5 file"),
    (["train", "{dir}"], "is a directory"),
    (["train", "{h5}"], "not a pdekit operator dataset"),
    (["train", "{run}"], "not a pdekit operator dataset"),
    (["train", "{data}", "--epochs", "0"], "--epochs must be an integer >= 1, got 0"),
    (["train", "{data}", "--epochs", "x"], "--epochs: invalid int value: 'x'"),
    (["train", "{data}", "--model", "nosuch"], "unknown model 'nosuch'"),
    (["train", "{data}", "--out", NOT_A_DIR + "/r.h5"], "no-such-dir' does not exist"),
    (["train", "{data}", "--out", "{dir}"], "is a directory"),
    (["train", "{data}", "--out", "{text}"], "refusing to overwrite"),
    (["train", "{data}", "--device", "tpu"], "device 'tpu'"),
    (["train", "{data}", "--options", "{not json"], "--options"),
    (["train", "{data}", "--options", "[1, 2]"], "--options"),
    (["train", "{data}", "--model-options", "nope"], "--model-options"),
    (["train", "{data}", "--set", "model.nosuch=1"], "unknown model option(s) ['nosuch'] for --model fno"),
    (["train", "{data}", "--model-options", '{"width": 8}'], "unknown model option(s) ['width']"),
    (["train", "{data}", "--set", "nosuch=1"], "nosuch"),
    (["train", "{data}", "--set", "lr"], "NAME=VALUE"),
    (["train", "{data}", "--set", "batch_size=0"], "batch_size must be an integer >= 1, got 0"),
    (["train", "{data}", "--set", "lr=0"], "lr must be a number > 0"),
    (["train", "{data}", "--options", '{"nosuch": 1}'], "--options: unknown training option(s) ['nosuch']"),
    (["train", "{data}", "--options", '{"batch_size": 0}'], "batch_size must be an integer >= 1, got 0"),
    # dataset (operators)
    (["dataset"], "required: name"),
    (["dataset", "nosuch"], "invalid choice: 'nosuch'"),
    (["dataset", "darcy", "--samples", "0"], "--samples must be an integer >= 1, got 0"),
    (["dataset", "darcy", "--samples", "x"], "--samples: invalid int value: 'x'"),
    (["dataset", "darcy", "--resolution", "2"], "--resolution must be an integer >= 4, got 2"),
    (["dataset", "darcy", "--seed", "-1"], "--seed must be an integer in [0, 2**64), got -1"),
    (["dataset", "darcy", "--workers", "0"], "--workers must be an integer >= 1, got 0"),
    (["dataset", "darcy", "--out", NOT_A_DIR + "/d.h5"], "no-such-dir' does not exist"),
    (["dataset", "darcy", "--out", "{dir}"], "is a directory"),
    # list
    (["list", "--bogus"], "unrecognized arguments: --bogus"),
    # solve: inverse problems (unknown parameters and observation data)
    (["solve", "burgers", "--data", "{missing}"], "--data"),
    (["solve", "burgers", "--data", "{dir}"], "is a directory"),
    (["solve", "burgers", "--data", "{obsnan}"], "contain 1 NaN/Inf value(s)"),
    (["solve", "burgers", "--data", "{obsout}"], "observation points of 'data' lie outside the domain"),
    (["solve", "burgers", "--data", "{obsshape}"], "reference values 'usol' have axes of lengths (4, 3)"),
    (["solve", "burgers", "--data", "{obsok}", "--set", "data.fields=v"], "has no column(s) v"),
    (["solve", "burgers", "--data", "{obsok}", "--set", "data.names=u=nosuch"], "has no column(s) nosuch"),
    (["solve", "burgers", "--data", "{obsok}", "--set", "data.subset=0"], "subset must be an integer in [1, 2]"),
    (["solve", "burgers", "--data", "{obsok}", "--set", "data.nosuch=1"], "unknown data option 'nosuch'"),
    (["solve", "burgers", "--data", "{obsok}", "--set", "data.noise=x"], "data.noise='x': expected a number"),
    (["solve", "burgers", "--set", "data.subset=5"], "needs --data FILE"),
    (["solve", "burgers", "--set", "nu.init=abc"], "nu.init='abc': expected a number"),
    (["solve", "burgers", "--set", "nu.init=0.5", "--set", "nu.bounds=(0,0.1)"],
     "bounds (0, 0.1) exclude its initial value 0.5"),
    (["solve", "burgers", "--set", "nu.init=-1", "--set", "nu.positive=true"], "needs init > 0"),
    (["solve", "burgers", "--set", "nu.bounds=x"], "expected a pair lo,hi"),
    (["solve", "burgers", "--set", "nu.nosuch=1"], "unknown option 'nosuch' for the unknown parameter 'nu'"),
]


def _has_option(command: str, flag: str) -> bool:
    """Whether ``pde COMMAND`` takes ``flag`` (rows for options a command lacks are skipped)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices.get(command)
    return sub is not None and any(flag in a.option_strings for a in sub._actions)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A real run file, an operator dataset and assorted bad files, in a directory of their own."""
    import h5py

    from operators import generate_dataset
    from pde import solve

    d = tmp_path_factory.mktemp("inputs")
    solve("heat", steps=2, lbfgs_steps=0, n_interior=16, device="cpu", out=d / "run.h5", quiet=True)
    generate_dataset("darcy", 2, 8, d / "data.h5", quiet=True)
    (d / "text.h5").write_text("this is not HDF5\n")
    (d / "empty.h5").write_bytes(b"")
    (d / "ref.txt").write_text("1 2 3\n")
    (d / "fake.npz").write_text("not a zip\n")
    (d / "fake.mat").write_text("not a MATLAB file\n")
    (d / "bad.py").write_text("def broken(:\n")
    with h5py.File(d / "other.h5", "w") as f:
        f["x"] = [1.0, 2.0]
    (d / "adir").mkdir()
    (d / "obs_ok.csv").write_text("x,t,u\n0.1,0.2,0.3\n-0.5,0.5,0.1\n")
    (d / "obs_nan.csv").write_text("x,t,u\n0.1,0.2,nan\n-0.5,0.5,0.1\n")
    (d / "obs_out.csv").write_text("x,t,u\n0.1,0.2,0.3\n1.5,0.5,0.1\n")
    import numpy as np

    np.savez(d / "obs_shape.npz", x=np.linspace(-1, 1, 5), t=np.linspace(0, 0.5, 3), usol=np.zeros((4, 3)))
    return d


def _snapshot(path) -> dict:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.rglob("*"))}


@pytest.fixture
def no_training(monkeypatch):
    """Record every optimiser step: a bad-input row must never reach training."""
    steps = []
    handle = register_optimizer_step_pre_hook(lambda opt, a, k: steps.append(type(opt)))
    yield steps
    handle.remove()


def _fill(argv, files, tmp_path):
    names = {"run": files / "run.h5", "data": files / "data.h5", "text": files / "text.h5",
             "empty": files / "empty.h5", "h5": files / "other.h5", "dir": files / "adir",
             "missing": files / "missing.h5", "badpy": files / "bad.py", "tmp": tmp_path,
             "txtref": files / "ref.txt", "nodir": files / "no-such-dir", "fakenpz": files / "fake.npz",
             "fakemat": files / "fake.mat", "obsok": files / "obs_ok.csv", "obsnan": files / "obs_nan.csv",
             "obsout": files / "obs_out.csv", "obsshape": files / "obs_shape.npz"}
    out = []
    for a in argv:
        for k, v in names.items():
            a = a.replace("{" + k + "}", str(v))
        out.append(a)
    return out


@pytest.mark.parametrize("argv, needle", ROWS, ids=[" ".join(r[0]) or "(none)" for r in ROWS])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(argv, needle, files, tmp_path, monkeypatch, capsys,
                                                         no_training):
    if len(argv) > 1 and argv[0] in ("train", "dataset", "solve"):
        for flag in (a for a in argv[1:] if a.startswith("--")):
            if not _has_option(argv[0], flag):
                pytest.skip(f"pde {argv[0]} has no {flag} option")
    monkeypatch.chdir(tmp_path)
    before = _snapshot(files)
    code = main(_fill(argv, files, tmp_path))
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("pde: error: "), err
    assert "Traceback" not in err
    assert needle in err, err
    assert out == ""
    assert not no_training, f"training started: {no_training}"
    assert list(tmp_path.iterdir()) == [], "a bad-input row wrote a file"
    assert _snapshot(files) == before, "a bad-input row changed an input file"


def test_cuda_without_a_gpu_is_one_line(files, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.chdir(tmp_path)
    for argv in (["solve", "burgers", "--device", "cuda"], ["resume", str(files / "run.h5"), "--device", "cuda:0"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "CUDA is not available" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_unreadable_and_unwritable_paths(files, tmp_path, monkeypatch, capsys):
    """Permissions are checked before any work (``os.access`` faked: the tests may run as root)."""
    import pde.commands.checks as checks

    real = os.access

    def access(path, mode, *a, **k):  # tmp_path: nothing writable; secret.h5: not readable either
        if str(path).startswith(str(tmp_path)) and (mode & os.W_OK or os.path.basename(path) == "secret.h5"):
            return False
        return real(path, mode, *a, **k)

    monkeypatch.setattr(checks.os, "access", access)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    ro_run = tmp_path / "run.h5"
    ro_run.write_bytes((files / "run.h5").read_bytes())
    secret = tmp_path / "secret.h5"
    secret.write_bytes(ro_run.read_bytes())
    cases = [(["solve", "burgers", "--out", str(tmp_path / "sub" / "x.h5")], "not writable"),
             (["show", str(secret)], "not readable"),
             (["train", str(secret)], "not readable"),
             (["resume", str(ro_run)], "not writable"),
             (["train", str(files / "data.h5"), "--out", str(tmp_path / "sub" / "r.h5")], "not writable"),
             (["plot", str(ro_run)], "not writable")]
    for argv, needle in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert needle in err and err.count("\n") == 1, (argv, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.h5", "secret.h5", "sub"]
    assert list((tmp_path / "sub").iterdir()) == []


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="tpu"):
        main(["--debug", "solve", "burgers", "--device", "tpu"])


def test_unexpected_errors_are_one_line_with_a_debug_hint(monkeypatch, capsys):
    import pde.cli as cli

    def boom(args):
        raise RuntimeError("something broke\nsecond line")

    monkeypatch.setattr(cli, "cmd_list", boom)
    assert main(["list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "something broke" in err and "--debug" in err and "Traceback" not in err


def test_help_still_exits_0(capsys):
    with pytest.raises(SystemExit) as e:
        main(["solve", "--help"])
    assert e.value.code == 0
    assert "--device" in capsys.readouterr().out


def test_bad_input_from_the_shell_is_one_line(tmp_path):
    """Subprocess smoke row: the installed entry point behaves as main() does."""
    proc = subprocess.run([sys.executable, "-m", "pde.cli", "solve", "burgers", "--device", "cuda:abc"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "cuda:abc" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_property_any_device_string_is_accepted_or_one_line(tmp_path_factory):
    """Hypothesis: resolve_device either returns a cpu/cuda device or raises ValueError naming the string."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    from pde.solve import resolve_device

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(st.one_of(st.text(max_size=12), st.from_regex(r"(cpu|cuda|tpu|mps)(:-?[0-9a-z]{0,3})?",
                                                                     fullmatch=True)))
    def check(text):
        try:
            dev = resolve_device(text)
        except ValueError as e:
            assert repr(text) in str(e) and "\n" not in str(e)
        else:
            assert dev.type in ("cpu", "cuda")

    check()


def test_property_integer_options_refuse_out_of_range(tmp_path_factory):
    """Hypothesis: any integer for --steps/--seed/--directions is accepted by the checks or refused naming it."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    from pde.commands import checks

    @hypothesis.settings(max_examples=100, deadline=None)
    @hypothesis.given(st.integers(min_value=-2 ** 70, max_value=2 ** 70))
    def check(n):
        for fn, ok in ((checks.nonneg_int, n >= 0), (checks.positive_int, n >= 1), (checks.seed, 0 <= n < 2 ** 64)):
            try:
                fn("--flag", n)
            except checks.UsageError as e:
                assert not ok and str(n) in str(e)
            else:
                assert ok

    check()
