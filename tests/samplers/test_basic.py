import pytest
import torch

import samplers
from pde import Box, Disk, Interval, SpaceTime, TimeInterval
from samplers import REGISTRY, Grid, make


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_registry_names():
    assert set(REGISTRY) == {"uniform", "sobol", "halton", "lhs", "grid", "rad", "rard", "r3", "causal_r3", "aas"}
    for name, cls in REGISTRY.items():
        assert cls.name == name


@pytest.mark.parametrize("name", ["uniform", "sobol", "halton", "lhs", "grid", "rad", "rard", "r3", "aas"])
def test_every_sampler_sets_up_inside_box(name):
    s = make(name, n="64")  # CLI passes strings
    dom = Box([0, -1], [2, 1])
    s.setup(dom, generator=gen())
    p = s.points()
    assert p.ndim == 2 and p.shape[1] == 2 and p.shape[0] > 0
    assert dom.inside(p).all()
    snap = s.snapshot()
    assert snap["points"].shape == p.shape and snap["residual"].shape == (p.shape[0],)


@pytest.mark.parametrize("name,opts", [
    ("uniform", {"n": 0}), ("uniform", {"n": "abc"}), ("r3", {"fitness": "cube"}), ("r3", {"update_every": -1}),
    ("rad", {"k": -1}), ("rad", {"n": 10, "n_candidates": 5}), ("rard", {"n_add": 0}),
    ("causal_r3", {"gate": "step"}), ("causal_r3", {"alpha": 0}), ("aas", {"mix": 1.0}), ("aas", {"beta": "x"}),
    ("grid", {"per_side": 1}), ("r3", {"bogus": 1}), ("nope", {}),
])
def test_bad_options_raise_value_error(name, opts):
    with pytest.raises(ValueError):
        make(name, **opts)


def test_random_presets_redraw_and_methods():
    for cls, method in [(samplers.Uniform, "uniform"), (samplers.Sobol, "sobol"), (samplers.Halton, "halton"),
                        (samplers.LatinHypercube, "lhs")]:
        s = cls(n=32, update_every=10)
        assert s.method == method
        s.setup(Box.cube(3), generator=gen())
        p0 = s.points().clone()
        assert s.wants_update(10) and not s.wants_update(5)
        s.update(10, p0, torch.zeros(32))
        assert not torch.equal(p0, s.points())


def test_grid_restricted_to_domain():
    g = Grid(n=400)
    g.setup(Disk((0.0, 0.0), 1.0), generator=gen())
    p = g.points()
    assert 250 < p.shape[0] < 400  # ~ pi/4 of the 20 x 20 cell centres
    assert (p.norm(dim=1) <= 1).all()
    g2 = Grid(n=10)
    g2.setup(Interval(0, 1), generator=gen())
    assert torch.allclose(g2.points()[:, 0], (torch.arange(10) + 0.5) / 10)


@pytest.mark.parametrize("name", ["uniform", "r3", "causal_r3", "rad", "rard", "aas"])
def test_state_round_trip_continues_identically(name):
    dom = SpaceTime(Interval(0, 1), TimeInterval(0, 1))
    opts = {"n": 50}
    if name in ("rad", "rard"):
        opts["n_candidates"] = 500
    if name == "aas":
        opts.update(flow_steps=3, n_penalty=64, update_every=1)

    def resid(x):
        return (x[:, 0] - 0.3) ** 2 + x[:, 1]

    def run(s, steps):
        for step in range(steps):
            p = s.points()
            s.update(step + 1, p, resid(p))
            if s.needs_model:
                s.update_with_model(step + 1, resid)

    a = make(name, **opts)
    a.setup(dom, generator=gen(3))
    run(a, 2)
    state = {k: (v.clone() if torch.is_tensor(v) else v) for k, v in a.state_dict().items()}
    b = make(name, **opts)
    b.setup(dom, generator=gen(99))
    b.load_state_dict(state)
    assert torch.equal(a.points(), b.points())
    run(a, 2)
    run(b, 2)
    assert torch.equal(a.points(), b.points())
    if name == "causal_r3":
        assert a.beta == b.beta


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_describe_rebuilds_the_sampler(name):
    # the run file stores describe(); resume rebuilds the sampler from it as keyword options
    desc = dict(make(name, n=64).describe())
    assert desc.pop("name") == name
    again = make(name, **desc)
    assert again.describe() == make(name, n=64).describe()
