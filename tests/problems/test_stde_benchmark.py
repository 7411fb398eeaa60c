"""benchmarks/stde_inseparable.py: the training step rate is reported apart from setup, compilation and evaluation."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "stde_inseparable.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_stde_inseparable", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_training_rate_leaves_out_warmup():
    # 1000 steps logged every 100; the first 100 steps took 30 s (compilation), then 10 ms a step
    hist = {"step": list(range(100, 1001, 100)), "wall_time": [30.0 + 0.01 * (s - 100) for s in range(100, 1001, 100)]}
    r = _bench().training_rate(hist, train_wall=39.0, steps=1000)
    assert r["train_steps_per_s"] == pytest.approx(100.0)  # 900 steps in 9 s
    assert r["train_wall_s"] == 39.0
    assert r["train_steps_per_s_incl_warmup"] == pytest.approx(1000 / 39.0, abs=0.1)
    assert _bench().training_rate({"step": [5], "wall_time": [1.0]}, 1.0, 5)["train_steps_per_s"] is None


def test_run_reports_both_rates():
    r = _bench().run("poisson", 5, 20, directions=2, points=16, quiet=True, eval_points=200)
    assert r["eval_points"] == 200 and r["steps"] == 20
    for key in ("total_steps_per_s", "train_steps_per_s", "train_wall_s", "wall_s"):
        assert key in r
    assert "steps_per_s" not in r  # the old ambiguous name is gone
    assert r["train_wall_s"] <= r["wall_s"]
    assert r["train_steps_per_s"] is None or r["train_steps_per_s"] >= r["total_steps_per_s"]
