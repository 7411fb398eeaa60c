"""``pde solve``, ``pde show`` and ``pde validate`` print per-field metrics of a multi-field problem."""

import json

from pde.cli import main


def test_per_field_metrics_are_printed_and_stored(tmp_path, capsys):
    out = tmp_path / "k.h5"
    assert main(["solve", "kovasznay", "--steps", "2", "--lbfgs-steps", "0", "--quiet", "--device", "cpu",
                 "--set", "train.n_interior=64", "--set", "train.n_boundary=32", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for f in ("u", "v", "p"):
        assert f"  {f}: relative L2 error" in text
    assert main(["show", str(out)]) == 0
    text = capsys.readouterr().out
    assert "metrics  rel_l2=" in text and "rel_l2/u" not in text.split("metrics  ")[1].splitlines()[0]
    assert any(line.strip().startswith("p ") and "rel_l2=" in line for line in text.splitlines())
    assert main(["validate", str(out)]) == 0
    text = capsys.readouterr().out
    assert any(line.strip().startswith("v ") and "rel_l2" in line for line in text.splitlines())
    assert main(["validate", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res["per_field"]) == {"u", "v", "p"}
