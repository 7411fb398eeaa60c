"""Tiny training runs for tests: problems and ``solve`` options that train in well under a second on a CPU.

``heat1()`` is a registered problem (a run file of it reloads, with its model and problem); ``constant1d``
a defined one with a loss that barely moves at a tiny learning rate, so that term ratios are set by the
weights; ``small(**kw)`` the ``solve`` keywords of a few-step CPU run.
"""

import torch

from pde import Dirichlet, Interval, define


def heat1():
    """``Heat(d=1)`` of the problem registry (reloadable from a run file by name)."""
    from problems import Heat

    return Heat(d=1)


def constant1d(value: float = 1.0, boundary: float = 1.0):
    """``u - value = 0`` on [0, 1] with ``u = boundary`` at both ends (a problem defined here, not registered).

    A model near zero has ``L_pde ~ value^2`` and ``L_bc ~ boundary^2``: equal values give comparable terms.
    """
    return define("constant1d", Interval(0, 1), lambda d, value: d("u") - value,
                  conditions=[Dirichlet(float(boundary))], params={"value": float(value)},
                  exact=lambda p, value: torch.full((p.shape[0],), value, dtype=p.dtype))


def small(**kw) -> dict:
    """``solve`` keywords of a short CPU run (12 Adam steps, logged every 4), updated with ``kw``."""
    base = dict(steps=12, lbfgs_steps=0, device="cpu", quiet=True, log_every=4, n_interior=32, n_boundary=8,
                n_initial=8)
    base.update(kw)
    return base
