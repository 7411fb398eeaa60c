"""`pde show` and `pde plot` diagnostics: per-term losses, balance weights, warnings, the residual picture."""

from __future__ import annotations

import json

import pytest
from tiny_runs import constant1d, heat1, small

from pde.cli import main
from pde.models import MLP
from pde.solve import solve


@pytest.fixture(scope="module")
def balanced_run(tmp_path_factory):
    """Heat(d=1) with gradient-norm balancing and a bc weight (1e9) far above the residual: weights and a warning."""
    out = tmp_path_factory.mktemp("diag") / "bal.h5"
    solve(heat1(), MLP(width=8, depth=2), out=out, weights={"bc": 1e9}, lr=1e-7,
          balancing={"name": "gradient_norm", "update_every": 50}, **small(steps=24))
    return out


@pytest.fixture
def figure_titles(monkeypatch):
    """The panel titles of every figure saved while the test runs."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    seen: list[list[str]] = []
    save = Figure.savefig

    def spy(fig, *a, **k):
        seen.append([ax.get_title() for ax in fig.axes if ax.get_title()])
        return save(fig, *a, **k)

    monkeypatch.setattr(Figure, "savefig", spy)
    return seen


def test_show_prints_a_line_per_term_and_the_warnings(balanced_run, capsys):
    assert main(["show", str(balanced_run)]) == 0
    out = capsys.readouterr().out.splitlines()
    head = next(i for i, ln in enumerate(out) if ln.startswith("terms "))
    assert "start / middle / end" in out[head] and "final weight" in out[head]
    pde_line, bc_line = out[head + 1], out[head + 2]
    assert pde_line.split()[0] == "pde" and bc_line.split()[0] == "bc"
    assert "min " in bc_line and "weight 1e+09" in bc_line  # balancing not yet updated (every 50 steps): w = fixed
    warnings = [ln for ln in out if ln.startswith("warning ")]
    assert len(warnings) == 1 and "'bc'" in warnings[0] and "x the residual's" in warnings[0]
    # balancing is already on: the advice is the weight alone
    assert warnings[0].endswith("try a larger weight on 'pde'") and "balancing=" not in warnings[0]


def test_show_json_has_the_terms_and_warnings(balanced_run, capsys):
    assert main(["show", str(balanced_run), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert set(s["terms"]) == {"pde", "bc"}
    bc = s["terms"]["bc"]
    assert set(bc) == {"start", "middle", "end", "min", "weight"} and bc["weight"] == pytest.approx(1e9)
    assert bc["min"] <= min(bc["start"], bc["middle"], bc["end"])
    assert len(s["warnings"]) == 1 and s["warnings"][0].startswith("warning: weighted loss term 'bc'")


def test_plot_draws_weights_and_the_residual(balanced_run, tmp_path, capsys, figure_titles):
    out = tmp_path / "bal.png"
    assert main(["plot", str(balanced_run), "--out", str(out)]) == 0
    assert out.stat().st_size > 0 and "note:" not in capsys.readouterr().err
    titles = figure_titles[-1]
    for t in ("loss history", "balance weights", "PDE residual log10 |r|"):
        assert t in titles, titles


def test_plot_without_a_rebuildable_problem_leaves_the_residual_out(tmp_path, capsys, figure_titles):
    run = tmp_path / "c.h5"
    solve(constant1d(), MLP(width=8, depth=2), out=run, **small())  # a defined problem: not rebuildable by name
    assert main(["plot", str(run), "--out", str(tmp_path / "c.png")]) == 0
    err = capsys.readouterr().err
    assert "note: no residual panel" in err and "cannot be rebuilt" in err
    assert "PDE residual log10 |r|" not in figure_titles[-1] and "balance weights" not in figure_titles[-1]
    assert (tmp_path / "c.png").stat().st_size > 0

