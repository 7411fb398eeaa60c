"""``pde solve --data FILE --set NAME.init=VALUE``: an inverse run from the shell, its printout and run file."""

from __future__ import annotations

import math

import numpy as np

import pde
from pde.cli import main


def test_solve_with_data_and_an_unknown_prints_the_identified_value(tmp_path, capsys):
    x, t = np.meshgrid(np.linspace(-1, 1, 9), np.linspace(0, 0.99, 5), indexing="ij")
    u = -np.sin(math.pi * x) * np.exp(-t)  # any data: the check is the plumbing, not the fit
    np.savetxt(tmp_path / "obs.csv", np.stack([x.ravel(), t.ravel(), u.ravel()], 1), delimiter=",",
               header="x,t,u", comments="")
    out = tmp_path / "run.h5"
    code = main(["solve", "burgers", "--data", str(tmp_path / "obs.csv"), "--set", "nu.init=0.05",
                 "--set", "nu.positive=true", "--set", "nu.true=0.01", "--set", "data.subset=20",
                 "--set", "data.noise=0.01", "--steps", "4", "--lbfgs-steps", "0", "--set", "n_interior=32",
                 "--out", str(out), "--quiet", "--device", "cpu"])
    text = capsys.readouterr().out
    assert code == 0, text
    run = pde.load(out)
    nu = run.unknowns["nu"]
    assert nu != 0.05 and f"identified nu = {nu:.6g}  (true 0.01, relative error" in text
    assert run.config["data"][0]["subset"] == 20 and run.config["data"][0]["noise"] == 0.01
    assert len(run.history["param/nu"]) == len(run.history["step"])
    assert run.metrics["param/nu/rel_error"] == abs(nu - 0.01) / 0.01
    assert "data/data/u/rel_l2" in run.metrics
    assert main(["show", str(out)]) == 0
    assert "unknowns nu=" in capsys.readouterr().out
