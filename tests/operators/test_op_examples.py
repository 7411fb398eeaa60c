"""The operator examples run end to end at tiny sizes."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))


def test_operator_darcy_example(tmp_path):
    import operator_darcy

    m = operator_darcy.main(epochs=2, samples=12, out=str(tmp_path / "r.h5"), data=str(tmp_path / "d.h5"), quiet=True)
    assert m["zero_shot_resolution"] == 33 and m["test_l2"] < 2


def test_operator_nsm_example():
    import operator_nsm_poisson

    assert operator_nsm_poisson.main(steps=5, quiet=True)["test_rel_l2"] < 2


def test_operator_nsm_reaction_diffusion_example():
    import operator_nsm_reaction_diffusion

    # the untrained model returns u = u0 (error about 0.47); 100 steps reach about 0.05
    assert operator_nsm_reaction_diffusion.main(steps=100, quiet=True)["test_rel_l2"] < 0.15
