"""`pde solve --recipe` on a user's problem file, and the rules in `pde show`."""

import textwrap

from pde.cli import main

USER_PROBLEM = textwrap.dedent('''
    import math
    import torch
    from pde import AbstractProblem, Dirichlet, Initial, Interval, SpaceTime, TimeInterval


    class Cooling(AbstractProblem):
        """u_t = 0.1 u_xx, u = 0 at both ends, u(x, 0) = sin(pi x): no defaults of its own."""

        name = "cooling"

        @property
        def domain(self):
            return SpaceTime(Interval(0, 1), TimeInterval(0, 1))

        def residual(self, d):
            return d("u", "t") - 0.1 * d("u", "x", "x")

        def conditions(self):
            return [Initial(lambda p: torch.sin(math.pi * p[:, 0])), Dirichlet(0.0)]

        def exact(self, p):
            return (torch.exp(-0.1 * math.pi ** 2 * p[:, 1]) * torch.sin(math.pi * p[:, 0]))[:, None]
''')


def _solve(tmp_path, capsys, *extra):
    (tmp_path / "cooling.py").write_text(USER_PROBLEM)
    out = tmp_path / f"run{len(extra)}.h5"
    code = main(["solve", f"{tmp_path / 'cooling.py'}:Cooling", "--steps", "3", "--lbfgs-steps", "0",
                 "--set", "n_interior=64", "--out", str(out), "--quiet", *extra])
    assert code == 0, capsys.readouterr()
    capsys.readouterr()
    assert main(["show", str(out)]) == 0
    return capsys.readouterr().out


def test_a_user_problem_gets_the_generic_recipe_and_show_lists_its_rules(tmp_path, capsys):
    text = _solve(tmp_path, capsys)
    line = next(ln for ln in text.splitlines() if ln.startswith("recipe"))
    assert "generic" in line and "hard initial value of 'u'" in line and "hard Dirichlet value of 'u'" in line
    assert "HardConditions" in text


def test_recipe_options_are_recorded_and_none_gives_the_plain_settings(tmp_path, capsys):
    text = _solve(tmp_path, capsys, "--recipe", "generic:causal=true")
    line = next(ln for ln in text.splitlines() if ln.startswith("recipe"))
    assert "(causal=True)" in line and "causal weighting" in line
    plain = _solve(tmp_path, capsys, "--recipe", "none", "--seed", "1")
    assert not any(ln.startswith("recipe") for ln in plain.splitlines())
