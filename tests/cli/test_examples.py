"""The PINN examples run end to end with a few steps and store their run file."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name, kwargs", [
    ("burgers", {"steps": 10, "lbfgs_steps": 5, "quiet": True}),
    ("allen_cahn_causal", {"steps": 10, "lbfgs_steps": 5, "quiet": True}),
    ("sampler_r3_convection", {"steps": 10}),
    ("sampler_aas_peak", {"steps": 10}),
    ("inverse_burgers", {"steps": 10, "lbfgs_steps": 5, "n": 100, "quiet": True}),
    ("inverse_coefficient", {"steps": 10, "lbfgs_steps": 5, "quiet": True}),
])
def test_example_runs(name, kwargs, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _load(name).main(**kwargs)
    assert "relative L2" in capsys.readouterr().out  # each example prints its error
    assert list(tmp_path.glob("*.h5")), "the example stores its run file"
