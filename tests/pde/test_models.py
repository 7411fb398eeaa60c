"""Tests of pde.models: shapes, build rules, serialisation, exact constraints and fitting a known function."""

from __future__ import annotations

import json
import math

import pytest
import torch

from pde.domain import Box, Interval, SpaceTime, TimeInterval
from pde.models import (
    ACTIVATIONS,
    MLP,
    MODELS,
    PINN,
    FourierFeatures,
    ModifiedMLP,
    OutputTransform,
    PeriodicEmbedding,
    from_architecture,
)

SQUARE = Box([-1.0, -1.0], [1.0, 1.0])
RECT = Box([0.0, -2.0], [3.0, 5.0])  # not centred, not unit: exercises normalisation


def factories():
    return {
        "mlp": lambda: MLP(width=16, depth=2),
        "modified": lambda: ModifiedMLP(width=16, depth=3),
        "fourier": lambda: MLP(width=16, depth=2, embedding=FourierFeatures(n_features=8, scale=2.0)),
        "fourier_y": lambda: ModifiedMLP(width=16, depth=2, embedding=FourierFeatures(8, coords=["y"])),
        "periodic": lambda: MLP(width=16, depth=2, embedding=PeriodicEmbedding({"x": 3.0}, n_harmonics=2)),
        "periodic+fourier": lambda: PINN(width=16, depth=2, periodic={"x": 3.0}, fourier_features=4),
        "unnormalized": lambda: MLP(width=8, depth=1, normalize=False, activation="sin"),
        "transform": lambda: OutputTransform(MLP(width=8, depth=2), "zero_on_box_boundary"),
    }


FACTORIES = factories()


@pytest.mark.parametrize("kind", sorted(FACTORIES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shapes_and_dtype(kind, dtype):
    torch.manual_seed(0)
    model = FACTORIES[kind]().build(RECT, 3).to(dtype=dtype)
    x = RECT.sample_interior(11, dtype=dtype)
    y = model(x)
    assert y.shape == (11, 3) and y.dtype == dtype
    assert torch.isfinite(y).all()
    assert model.built and model.names == ("x", "y") and model.n_fields == 3


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation(name):
    model = MLP(width=8, depth=2, activation=name).build(SQUARE, 1)
    assert model(torch.rand(5, 2)).shape == (5, 1)


def test_glorot_init_and_zero_bias():
    torch.manual_seed(0)
    model = MLP(width=256, depth=2).build(SQUARE, 1)
    w = model.hidden[1].weight
    assert torch.all(model.hidden[1].bias == 0) and torch.all(model.out.bias == 0)
    assert abs(w.std().item() - math.sqrt(2.0 / (256 + 256))) < 0.005


@pytest.mark.parametrize("cls", [MLP, ModifiedMLP])
def test_init_options(cls):
    torch.manual_seed(0)
    uni = cls(width=256, depth=2, init="xavier_uniform").build(SQUARE, 1)
    bound = math.sqrt(6.0 / (256 + 256))
    w = uni.hidden[1].weight
    assert torch.all(uni.hidden[1].bias == 0) and w.abs().max() <= bound and w.abs().max() > 0.95 * bound
    tor = cls(width=256, depth=2, init="torch").build(SQUARE, 1)
    w, b = tor.hidden[1].weight, tor.hidden[1].bias
    # nn.Linear's default: weights and biases uniform in +-1/sqrt(fan_in)
    assert w.abs().max() <= 1 / 16 and w.abs().max() > 0.95 / 16 and b.abs().max() > 0.9 / 16
    assert from_architecture(json.loads(json.dumps(tor.architecture()))).init == "torch"
    assert PINN(width=8, depth=2, init="torch").init == "torch"
    with pytest.raises(ValueError, match="init must be one of"):
        cls(init="he")


def test_normalisation_maps_bounds_to_unit_cube():
    model = MLP(width=4, depth=1).build(RECT, 1)
    lo, hi = RECT.bounds
    xn = model.input(torch.tensor([lo, hi]))
    assert torch.allclose(xn, torch.tensor([[-1.0, -1.0], [1.0, 1.0]]))


def test_build_errors():
    model = MLP(width=8, depth=2)
    assert not model.built
    with pytest.raises(RuntimeError, match="not built"):
        model(torch.rand(3, 2))
    model.build(SQUARE, 1)
    params = [p.data_ptr() for p in model.parameters()]
    assert model.build(Box([-1.0, -1.0], [1.0, 1.0]), 1) is model  # same dims: no-op
    assert [p.data_ptr() for p in model.parameters()] == params
    with pytest.raises(ValueError, match="already built"):
        model.build(SQUARE, 2)
    with pytest.raises(ValueError, match="already built"):
        model.build(Box([0, 0, 0], [1, 1, 1]), 1)
    with pytest.raises(ValueError, match="n_fields"):
        MLP().build(SQUARE, 0)
    with pytest.raises(ValueError, match="activation"):
        MLP(activation="sigmoidal")
    with pytest.raises(ValueError, match="depth"):
        ModifiedMLP(depth=1)
    with pytest.raises(ValueError, match="width"):
        MLP(width=0)
    with pytest.raises(ValueError, match="coordinate 'z'"):
        MLP(embedding=PeriodicEmbedding({"z": 1.0})).build(SQUARE, 1)
    with pytest.raises(ValueError, match="claimed by two"):
        MLP(embedding=[PeriodicEmbedding({"x": 1.0}), FourierFeatures(4, coords=["x"])]).build(SQUARE, 1)
    with pytest.raises(ValueError, match="period"):
        PeriodicEmbedding({"x": -1.0})
    with pytest.raises(ValueError, match="arch"):
        PINN(arch="resnet")


class _Problem:
    """Stands in for a problem with an initial condition u(x, 0) = sin(pi x) enforced exactly."""

    name = "toy"
    hard_satisfies = ("ic",)

    def output_transform(self, p, raw):
        return torch.sin(math.pi * p[:, :1]) + p[:, 1:2] * raw


def _roundtrip_cases():
    st = SpaceTime(Interval(-1.0, 1.0), TimeInterval(0.0, 2.0))
    cases = {k: (f, RECT) for k, f in FACTORIES.items()}
    cases["problem_transform"] = (lambda: OutputTransform.from_problem(PINN(width=8, depth=2), _Problem()), st)
    return cases


ROUNDTRIP = _roundtrip_cases()


@pytest.mark.parametrize("kind", sorted(ROUNDTRIP))
def test_architecture_roundtrip_is_bitwise(kind):
    make, domain = ROUNDTRIP[kind]
    torch.manual_seed(1)
    model = make().build(domain, 2)
    arch = json.loads(json.dumps(model.architecture()))
    torch.manual_seed(2)  # different random init and Fourier matrix before loading
    copy = from_architecture(arch, problem=_Problem())
    assert copy.built and type(copy) is type(model)
    copy.load_state_dict(model.state_dict())
    x = domain.sample_interior(50, generator=torch.Generator().manual_seed(3))
    assert torch.equal(copy(x), model(x))
    assert copy.architecture() == arch
    assert copy.satisfies == model.satisfies


def test_architecture_errors():
    model = OutputTransform.from_problem(PINN(width=8, depth=1), _Problem()).build(
        SpaceTime(Interval(0, 1), TimeInterval(0, 1)), 1)
    with pytest.raises(ValueError, match="problem=..."):
        from_architecture(model.architecture())
    plain = OutputTransform(PINN(width=8, depth=1), lambda p, r: r).build(SQUARE, 1)
    with pytest.raises(ValueError, match="cannot be serialised"):
        plain.architecture()
    with pytest.raises(ValueError, match="unknown model type"):
        from_architecture({"type": "Transformer", "names": ["x"], "lower": [0], "upper": [1], "n_fields": 1})
    with pytest.raises(RuntimeError, match="not built"):
        MLP().architecture()
    assert MODELS["mlp"] is MLP and MODELS["modified_mlp"] is ModifiedMLP and "output_transform" not in MODELS


@pytest.mark.parametrize("arch", ["mlp", "modified"])
def test_periodic_embedding_is_exact(arch):
    torch.manual_seed(0)
    period = 2.5
    dom = SpaceTime(Interval(0.0, 2 * period), TimeInterval(0.0, 1.0))
    model = PINN(width=16, depth=3, arch=arch, periodic={"periods": {"x": period}, "n_harmonics": 3},
                 fourier_features=8).build(dom, 2).double()
    assert model.satisfies == ("periodic_x",)
    x = dom.sample_interior(200, dtype=torch.float64).requires_grad_(True)
    shifted = x + torch.tensor([period, 0.0], dtype=torch.float64)
    u, v = model(x), model(shifted)
    assert torch.allclose(u, v, atol=1e-12, rtol=0)
    gu = torch.autograd.grad(u[:, 0].sum(), x, create_graph=True)[0]
    gv = torch.autograd.grad(v[:, 0].sum(), x, create_graph=True)[0]
    assert torch.allclose(gu, gv, atol=1e-11, rtol=0)
    # a period that does not divide the domain is not claimed
    other = PINN(width=8, depth=1, periodic={"x": 1.5}).build(Interval(0.0, 2.0), 1)
    assert other.satisfies == ()


def test_fourier_features_reproducible_under_seed():
    def make(seed):
        torch.manual_seed(seed)
        return MLP(width=8, depth=1, embedding=FourierFeatures(16, scale=3.0)).build(SQUARE, 1)

    a, b, c = make(5), make(5), make(6)
    assert a.input.embeddings[0].B.shape == (16, 2)
    assert torch.equal(a.input.embeddings[0].B, b.input.embeddings[0].B)
    assert not torch.equal(a.input.embeddings[0].B, c.input.embeddings[0].B)
    x = torch.rand(9, 2)
    assert torch.equal(a(x), b(x))
    # B ~ N(0, scale^2)
    torch.manual_seed(0)
    big = MLP(width=4, depth=1, embedding=FourierFeatures(4000, scale=3.0)).build(SQUARE, 1)
    assert abs(big.input.embeddings[0].B.std().item() - 3.0) < 0.1


def test_output_transforms_satisfy_constraints_exactly():
    torch.manual_seed(0)
    box = Box([0.0, -1.0], [2.0, 3.0])
    model = OutputTransform(PINN(width=16, depth=2), "zero_on_box_boundary", satisfies=("bc",)).build(box, 2)
    pts, _ = box.sample_boundary(300)
    assert torch.all(model(pts) == 0)
    assert model(box.sample_interior(100)).abs().max() > 1e-3
    assert model.satisfies == ("bc",)

    st = SpaceTime(Interval(-1.0, 1.0), TimeInterval(0.0, 1.0))
    hard = OutputTransform.from_problem(PINN(width=16, depth=2), _Problem()).build(st, 1).double()
    p0 = st.sample_initial(100, dtype=torch.float64)
    assert torch.equal(hard(p0)[:, 0], torch.sin(math.pi * p0[:, 0]))
    assert hard.satisfies == ("ic",)


def test_forward_uses_only_out_of_place_torch_functions():
    """A __torch_function__ tensor sees every op of the forward pass; none may be in-place."""
    seen = set()

    class Spy(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.add(getattr(func, "__name__", str(func)))
            return super().__torch_function__(func, types, args, kwargs or {})

    for make in FACTORIES.values():
        model = make().build(RECT, 2)
        out = model(torch.rand(4, 2).as_subclass(Spy))
        assert isinstance(out, Spy)
    inplace = {n for n in seen if n.endswith("_") and not n.startswith("__")}
    assert not inplace, inplace
    assert "linear" in seen


def test_taylor_mode_jets_flow_through_every_model():
    """The Taylor engine (jets via __torch_function__) agrees with autograd through every model, float64."""
    from pde.derivatives import Autograd, Taylor

    x = RECT.sample_interior(16, dtype=torch.float64)
    requests = [("u", ()), ("u", ("x",)), ("u", ("x", "x")), ("u", ("x", "y")), ("u", ("y", "y", "y"))]
    for kind, make in FACTORIES.items():
        model = make().build(RECT, 1).double()
        a = Autograd().derivatives(model, x, ("x", "y"), ("u",))
        t = Taylor().derivatives(model, x, ("x", "y"), ("u",), requests=set(requests))
        for f, wrt in requests:
            assert torch.allclose(t.derivative(f, wrt), a.derivative(f, wrt), atol=1e-10, rtol=1e-10), (kind, wrt)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_cuda(kind):
    model = FACTORIES[kind]().build(RECT, 2).to("cuda", torch.float64)
    x = RECT.sample_interior(10, dtype=torch.float64)
    cpu = FACTORIES[kind]().build(RECT, 2).double()
    cpu.load_state_dict({k: v.cpu() for k, v in model.state_dict().items()})
    assert torch.allclose(model(x.cuda()).cpu(), cpu(x), atol=1e-12)


# (model, Adam steps, bound on the relative L2 error); achieved errors are about half the bounds,
# an untrained model is at about 1, and the tanh MLP alone needs the longer run.
FIT = {
    "mlp_tanh": (lambda: PINN(width=32, depth=3), 1000, 0.12),
    "mlp_sin": (lambda: PINN(width=32, depth=2, activation="sin"), 500, 0.1),
    "modified": (lambda: PINN(width=32, depth=3, arch="modified"), 500, 0.08),
    "fourier": (lambda: PINN(width=32, depth=1, fourier_features={"n_features": 16, "scale": 0.5}), 500, 0.1),
    "periodic": (lambda: PINN(width=32, depth=2, periodic={"x": 2.0}), 500, 0.06),
}


@pytest.fixture
def one_thread():
    """Small dense problems run fastest (and fairest to parallel jobs) on one thread."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("kind", sorted(FIT))
def test_every_model_learns_a_known_solution(kind, one_thread):
    """Regression of u = sin(pi x) cos(pi y) on [-1, 1]^2 with Adam; relative L2 on fresh points."""
    make, steps, bound = FIT[kind]
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = make().build(SQUARE, 1)

    def target(p):
        return (torch.sin(math.pi * p[:, 0]) * torch.cos(math.pi * p[:, 1]))[:, None]

    x = SQUARE.sample_interior(256, generator=g)
    y = target(x)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        sched.step()
    xt = SQUARE.sample_interior(2000, generator=g)
    with torch.no_grad():
        err = ((model(xt) - target(xt)).norm() / target(xt).norm()).item()
    assert err < bound, f"{kind}: relative L2 {err:.3g} >= {bound}"
