import subprocess
import sys
import textwrap

import pytest

from pde.cli import main


def run_cli(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_registry(capsys):
    code, out, _ = run_cli(["list"], capsys)
    assert code == 0
    for word in ("problems:", "models:", "samplers:", "engines:", "burgers", "allen_cahn", "mlp", "uniform",
                 "autograd"):
        assert word in out


@pytest.mark.parametrize("args, needle", [
    (["solve", "nosuch"], "unknown problem 'nosuch'"),
    (["solve", "burgers", "--set", "nu=-1"], "nu"),
    (["solve", "burgers", "--set", "nu=abc"], "nu='abc'"),
    (["solve", "burgers", "--set", "colour=3"], "unknown parameter 'colour'"),
    (["solve", "burgers", "--set", "n_interior=0"], "number of collocation points"),
    (["solve", "burgers", "--set", "train.lr=-1"], "lr must be > 0"),
    (["solve", "burgers", "--sampler", "nosuch"], "unknown sampler 'nosuch'"),
    (["solve", "burgers", "--derivatives", "nosuch"], "unknown engine 'nosuch'"),
    (["solve", "burgers", "--steps", "-5"], "steps must be an integer >= 0"),
])
def test_bad_input_is_one_line_exit_2(args, needle, capsys, tmp_path):
    code, out, err = run_cli(args + ["--out", str(tmp_path / "r.h5"), "--quiet"], capsys)
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_input_from_the_shell_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pde.cli", "solve", "burgers", "--set", "nu=-0.1"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "nu" in proc.stderr


def test_solve_small_run_prints_error(capsys, tmp_path):
    out_file = tmp_path / "heat.h5"
    code, out, err = run_cli(["solve", "heat", "--steps", "30", "--device", "cpu", "--quiet", "--out",
                              str(out_file), "--set", "train.log_every=10", "--set", "n_interior=64"], capsys)
    assert code == 0, err
    assert "relative L2 error" in out and err == ""
    assert out_file.exists()


def test_set_steps_is_the_same_as_the_flag_and_a_conflict_is_refused(capsys, tmp_path):
    out_file = tmp_path / "heat.h5"
    code, out, err = run_cli(["solve", "heat", "--set", "steps=12", "--set", "lbfgs_steps=0", "--device", "cpu",
                              "--quiet", "--out", str(out_file), "--set", "n_interior=32",
                              "--sampler", "aas", "--set", "sampler.base=gaussian",
                              "--set", "sampler.update_every=5"], capsys)
    assert code == 0, err
    from pde.store import load

    run = load(out_file)
    assert run.config["settings"]["steps"] == 12 and run.config["settings"]["lbfgs_steps"] == 0
    assert run.config["sampler"]["base"] == "gaussian"
    code, _, err = run_cli(["solve", "heat", "--steps", "5", "--set", "steps=7", "--out", str(tmp_path / "x.h5")],
                           capsys)
    assert code == 2 and "disagree" in err


def test_users_own_problem_class_from_a_file(capsys, tmp_path):
    src = tmp_path / "myproblem.py"
    src.write_text(textwrap.dedent('''
        import math
        from dataclasses import dataclass
        import torch
        from pde import AbstractProblem, Dirichlet, Interval

        @dataclass
        class Bump(AbstractProblem):
            """-u'' = pi^2 sin(pi x) on [0, 1], u = 0 at both ends."""
            name = "bump"
            a: float = 1.0

            @property
            def domain(self):
                return Interval(0, 1)

            def residual(self, d):
                return d("u", "x", "x") + self.a * math.pi ** 2 * torch.sin(math.pi * d.coord("x"))

            def conditions(self):
                return [Dirichlet(0.0)]

            def exact(self, p):
                return self.a * torch.sin(math.pi * p[:, :1])
    '''))
    code, out, err = run_cli(["solve", f"{src}:Bump", "--steps", "20", "--device", "cpu", "--quiet", "--set",
                              "a=2.0", "--out", str(tmp_path / "bump.h5")], capsys)
    assert code == 0, err
    assert "bump: relative L2 error" in out
