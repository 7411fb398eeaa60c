"""DeepXDE 1.15 (PyTorch backend) on its canonical Burgers example; prints one JSON line.

Run by benchmarks/step_speed.py (and burgers_vs_deepxde.py) in a child process (DeepXDE picks its backend at import).
Usage: [SEED=0] python benchmarks/_deepxde_burgers.py ADAM_STEPS [LBFGS_MAX_ITERATIONS]
"""

import json
import os
import sys
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import deepxde as dde  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from pde.metrics import rel_l2  # noqa: E402
from problems import Burgers  # noqa: E402


def main(adam_steps: int = 15000, lbfgs_steps: int = 15000):
    seed = int(os.environ.get("SEED", "0"))
    torch.manual_seed(seed)
    np.random.seed(seed)
    dde.config.set_random_seed(seed)
    nu = 0.01 / np.pi

    def pde(x, y):
        dy_x = dde.grad.jacobian(y, x, i=0, j=0)
        dy_t = dde.grad.jacobian(y, x, i=0, j=1)
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        return dy_t + y * dy_x - nu * dy_xx

    geomtime = dde.geometry.GeometryXTime(dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 0.99))
    bc = dde.icbc.DirichletBC(geomtime, lambda x: 0, lambda _, on_boundary: on_boundary)
    ic = dde.icbc.IC(geomtime, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on_initial: on_initial)
    data = dde.data.TimePDE(geomtime, pde, [bc, ic], num_domain=2540, num_boundary=80, num_initial=160)
    net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    ref = Burgers().reference()
    model.compile("adam", lr=1e-3)
    t0 = time.perf_counter()
    model.train(iterations=adam_steps, display_every=5000)
    t_adam = time.perf_counter() - t0
    err_adam = rel_l2(model.predict(ref.points), ref.values)
    dde.optimizers.config.set_LBFGS_options(maxiter=lbfgs_steps)
    model.compile("L-BFGS")
    t1 = time.perf_counter()
    model.train(display_every=5000)
    t_lbfgs = time.perf_counter() - t1
    err = rel_l2(model.predict(ref.points), ref.values)
    print(json.dumps({"adam_s": t_adam, "lbfgs_s": t_lbfgs, "total_s": t_adam + t_lbfgs,
                      "ms_per_adam_step": 1000 * t_adam / adam_steps, "rel_l2_after_adam": err_adam,
                      "rel_l2": err, "adam_steps": adam_steps}))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
