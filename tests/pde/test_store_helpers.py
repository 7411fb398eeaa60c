"""Shared pieces for the run-store tests (no tests here): a tiny heat problem and a short run.

Importable as ``test_store_helpers`` (tests/pde is on sys.path under pytest; subprocesses
get it through PYTHONPATH), so runs made from it can be rebuilt and resumed.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from pde import AbstractProblem, Dirichlet, Initial, Interval, SpaceTime, TimeInterval

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass
class TinyHeat(AbstractProblem):
    """u_t = kappa u_xx on [0, 1] x [0, 1], u(x, 0) = sin(pi x), u = 0 at x = 0, 1."""

    name = "tiny_heat"
    eval_points = 21
    kappa: float = 0.1

    @property
    def domain(self):
        return SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 1.0))

    def residual(self, d):
        return d("u", "t") - self.kappa * d("u", "x", "x")

    def conditions(self):
        return [Initial(lambda p: torch.sin(math.pi * p[:, 0])), Dirichlet(0.0)]

    def exact(self, p):
        return (torch.exp(-self.kappa * math.pi ** 2 * p[:, 1]) * torch.sin(math.pi * p[:, 0]))[:, None]


@dataclass
class NoRefHeat(TinyHeat):
    """TinyHeat without an exact solution or reference solver (like a user's own new problem)."""

    name = "tiny_heat_noref"

    def exact(self, p):
        return None


SHORT = dict(steps=60, lbfgs_steps=4, checkpoint_every=5, snapshot_every=20, history_every=5, log_every=20,
             n_interior=64, n_boundary=32, n_initial=32, seed=3, quiet=True)


def short_run(out, **kw):
    """Train TinyHeat briefly (about a second) and store the run at ``out``."""
    from pde.models import MLP
    from pde.solve import solve

    return solve(TinyHeat(), model=MLP(width=16, depth=2), out=str(out), **{**SHORT, **kw})


_CACHE: dict = {}


def cached_run(tmp_path_factory) -> Path:
    """One finished short run per test session, shared by the test modules that only read it."""
    if "run" not in _CACHE:
        path = tmp_path_factory.mktemp("shared_run") / "heat.h5"
        short_run(path)
        _CACHE["run"] = path
    return _CACHE["run"]


def subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env


if __name__ == "__main__":  # python test_store_helpers.py OUT [steps]: the run the kill tests interrupt
    import test_store_helpers  # classes must come from the importable module, not __main__, to be resumable

    test_store_helpers.short_run(sys.argv[1], **({"steps": int(sys.argv[2])} if len(sys.argv) > 2 else {}))
