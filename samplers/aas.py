"""Adversarial adaptive sampling (AAS).

Tang, Zhai, Wan, Yang, "Adversarial adaptive sampling: unify PINN and optimal transport for the
approximation of PDEs", ICLR 2024 (arXiv:2305.18702).

A generative model with a tractable density ``p_alpha`` on the (bounded) domain provides collocation points;
PINN and sampler play the min-max game::

    min_theta max_alpha  J(theta, alpha) = E_{x ~ U}[r^2] + E_{x ~ p_alpha}[r^2] - beta * E_{x ~ U}[|grad_x p_alpha|^2]

The last term is the paper's soft Lipschitz (Sobolev) regularisation of ``p_alpha``: it makes the sampler
step the Kantorovich-Rubinstein dual of the Wasserstein-1 distance between the residual-induced
distribution ``mu_r ∝ r^2`` and the uniform distribution, so the PINN step lowers both the residual and that
distance ("pushes the residual profile toward uniform"). Implementation here:

* ``p_alpha`` is :class:`samplers.flow.CouplingFlow` (affine couplings in logit space, mapped onto the
  bounding box by a sigmoid and an affine map; exact log-density; uniform at initialisation). The
  gradient penalty is computed in unit-cube coordinates, ``|grad_u p|^2 = p^2 |grad_u log p|^2``.
* The training set (``points()``) is a mixture: ``round(mix * n)`` uniform points and the rest drawn from
  ``p_alpha`` (the two expectations of ``J``); the PINN minimises the mean squared residual over it.
* Every ``update_every`` PINN steps (alternating schedule) ``update_with_model`` runs ``flow_steps`` Adam
  steps (``flow_lr``) of gradient *ascent* on ``E_{p_alpha}[r̂^2] - beta E_U[|grad p_alpha|^2]``, then redraws
  the flow part of the training set. ``r̂^2 = r^2 / ∫ r^2`` is the normalised residual density.
  ``E_{p_alpha}[r̂^2]`` is estimated by importance sampling on one batch ``x_i ~ q`` from the previous
  mixture ``q = mix U + (1 - mix) p_alpha_old``: ``mean_i r̂^2(x_i) p_alpha(x_i) / q(x_i)`` (ratios clipped at
  ``ratio_clip``); its gradient at ``alpha_old`` is the score-function (REINFORCE) gradient. So each sampler
  update costs one residual evaluation at ``n`` points, not one per flow step.
* Non-box domains: the flow lives on the bounding box; draws outside the domain are rejected.

Options: ``n`` (1000), ``update_every`` (500), ``flow_steps`` (100), ``flow_lr`` (1e-3), ``beta`` (0.01),
``mix`` (0.5), ``n_layers`` (6), ``hidden`` (32), ``n_penalty`` (1000), ``ratio_clip`` (20), ``chunk`` (16384),
``base`` (``"logistic"``: the flow starts uniform; ``"gaussian"``: KRnet's Gaussian prior, the flow starts
concentrated about the centre of the box, as in the paper) and ``base_scale`` (1, its standard deviation in
logit space).
The paper's exact sizes are not all reproduced here; see the project report.
"""

from __future__ import annotations

import torch

from ._common import StatefulSampler, as_choice, as_float, as_int, residual_in_chunks
from .flow import CouplingFlow

__all__ = ["AAS"]


class AAS(StatefulSampler):
    """Adversarial adaptive sampling (Tang et al., ICLR 2024) with a coupling flow on the box."""

    name = "aas"
    needs_model = True

    def __init__(self, n: int = 1000, update_every: int = 500, flow_steps: int = 100, flow_lr: float = 1e-3,
                 beta: float = 0.01, mix: float = 0.5, n_layers: int = 6, hidden: int = 32, n_penalty: int = 1000,
                 ratio_clip: float = 20.0, chunk: int = 16384, base: str = "logistic", base_scale: float = 1.0):
        super().__init__(as_int("n", n, minimum=2), as_int("update_every", update_every, minimum=0))
        self.flow_steps = as_int("flow_steps", flow_steps, minimum=0)
        self.flow_lr = as_float("flow_lr", flow_lr, minimum=0.0, strict=True)
        self.beta = as_float("beta", beta, minimum=0.0)
        self.mix = as_float("mix", mix, minimum=0.0, maximum=1.0)
        if self.mix == 1.0:
            raise ValueError("sampler option mix must be < 1 (mix=1 means no flow points; use sampler uniform)")
        self.n_layers = as_int("n_layers", n_layers, minimum=1)
        self.hidden = as_int("hidden", hidden, minimum=1)
        self.n_penalty = as_int("n_penalty", n_penalty, minimum=1)
        self.ratio_clip = as_float("ratio_clip", ratio_clip, minimum=1.0)
        self.chunk = as_int("chunk", chunk, minimum=1)
        self.base = as_choice("base", base, CouplingFlow.BASES)
        self.base_scale = as_float("base_scale", base_scale, minimum=0.0, strict=True)
        self.n_uniform = int(round(self.mix * self.n))
        self.flow: CouplingFlow | None = None
        self.optimizer: torch.optim.Adam | None = None
        self._last_objective: torch.Tensor | None = None

    @property
    def last_objective(self) -> float:
        """Sampler objective ``J`` at the last flow step (NaN before any; reading it synchronises)."""
        return float("nan") if self._last_objective is None else float(self._last_objective)

    # --- geometry -----------------------------------------------------------------------------------
    def _box(self, like: torch.Tensor):
        """Bounding-box corner ``lo`` and widths ``w`` ``(d,)`` on ``like``'s device/dtype (cached on the domain)."""
        lo = self.domain._constant("aas_lower", lambda: self.domain.bounds[0], like.device, like.dtype)
        w = self.domain._constant("aas_width", lambda: [b - a for a, b in zip(*self.domain.bounds)], like.device,
                                  like.dtype)
        return lo, w

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        lo, w = self._box(x)
        return (x - lo) / w

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        """Flow log-density ``(m,)`` on the bounding box at ``x`` ``(m, d)`` (normalised on the box)."""
        lo, w = self._box(x)
        lp = self.flow.log_prob(((x - lo) / w).to(self._flow_dtype()))
        return lp.to(x.dtype) - torch.log(w).sum()

    def _flow_dtype(self):
        return next(self.flow.parameters()).dtype

    def sample_flow(self, m: int) -> torch.Tensor:
        """``m`` points ``(m, d)`` from the flow, inside the domain.

        A domain that fills its bounding box (``Box``, a box in space-time) takes the ``m`` draws as they are,
        on the device; any other domain rejects the draws outside it (data-dependent sizes: a host read per
        round).
        """
        if getattr(self.domain, "fills_bounding_box", False):
            with torch.no_grad():
                u, _ = self.flow.sample(m, self.generator)
            u = u.to(self.device, self.dtype)
            lo, w = self._box(u)
            hi = self.domain._constant("aas_upper", lambda: self.domain.bounds[1], u.device, u.dtype)
            return torch.clamp(lo + w * u, min=lo, max=hi)  # rounding never leaves the closed box
        out, have = [], 0
        lo_hi = None
        for _ in range(100):
            with torch.no_grad():
                u, _ = self.flow.sample(max(m - have, 16) if have else m, self.generator)
            u = u.to(self.device, self.dtype)
            if lo_hi is None:
                lo_hi = self._box(u)
            x = lo_hi[0] + lo_hi[1] * u
            x = x[self.domain.inside(x)]
            out.append(x)
            have += x.shape[0]
            if have >= m:
                break
        if have < m:
            raise RuntimeError(f"aas: could not draw {m} flow points inside the domain (got {have})")
        return torch.cat(out)[:m]

    # --- interface ----------------------------------------------------------------------------------
    def setup(self, domain, *, generator, device=None, dtype=torch.float32):
        self.domain, self.generator = domain, generator
        self.device = torch.device(device) if device is not None else generator.device
        self.dtype = dtype
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator, device=generator.device))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.flow = CouplingFlow(domain.dim, self.n_layers, self.hidden, base=self.base,
                                     base_scale=self.base_scale).to(self.device)
        self.optimizer = torch.optim.Adam(self.flow.parameters(), lr=self.flow_lr)
        self._points = self._draw_training_set()
        self._residual = None

    def _draw_training_set(self) -> torch.Tensor:
        return torch.cat([self._uniform(self.n_uniform), self.sample_flow(self.n - self.n_uniform)])

    def update(self, step, points, residual):
        self._residual = residual.detach().reshape(-1).to(self.device)

    def update_with_model(self, step, residual_fn):
        x = self._draw_training_set()
        with torch.enable_grad():
            r2 = residual_in_chunks(residual_fn, x, self.chunk).to(self.device).double()
        fd = self._flow_dtype()
        lo, w = self._box(x)
        u = ((x - lo) / w).to(fd)
        with torch.no_grad():
            log_q = torch.log(self.mix + (1 - self.mix) * self.flow.log_prob(u).double().exp())
        # normalised residual density on the unit cube: r̂^2 = r^2 / ∫ r^2 du, ∫ r^2 du ≈ mean(r^2 / q)
        r2n = (r2 / (r2 / log_q.exp()).mean().clamp_min(1e-300)).to(fd)
        log_q = log_q.to(fd)
        for _ in range(self.flow_steps):
            ratio = torch.exp(self.flow.log_prob(u) - log_q).clamp(max=self.ratio_clip)
            gain = (r2n * ratio).mean()
            penalty = self._penalty()
            obj = gain - self.beta * penalty
            self.optimizer.zero_grad(set_to_none=True)
            (-obj).backward()
            self.optimizer.step()
            self._last_objective = obj.detach()  # on the device; read by ``last_objective``
        self._points = self._draw_training_set()
        self._residual = None

    def _penalty(self) -> torch.Tensor:
        """``E_U[|grad_u p|^2] = E_U[p^2 |grad_u log p|^2]`` on unit-cube coordinates (differentiable in alpha)."""
        fd = self._flow_dtype()
        dev = next(self.flow.parameters()).device
        u = torch.rand(self.n_penalty, self.domain.dim, generator=self.generator, device=self.generator.device,
                       dtype=fd).to(dev).requires_grad_(True)
        lp = self.flow.log_prob(u)
        (g,) = torch.autograd.grad(lp.sum(), u, create_graph=True)
        return (torch.exp(2 * lp) * (g ** 2).sum(1)).mean()

    # --- state ----------------------------------------------------------------------------------------
    def _extra_state(self):
        out = {f"flow.{k}": v.detach().clone() for k, v in self.flow.state_dict().items()}
        opt = self.optimizer.state_dict()
        for i, st in opt["state"].items():
            for k, v in st.items():
                out[f"opt.{i}.{k}"] = v.detach().clone() if torch.is_tensor(v) else torch.tensor(v)
        return out

    def _load_extra_state(self, state):
        self.flow.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("flow.")})
        opt = self.optimizer.state_dict()
        new_state: dict = {}
        for key, v in state.items():
            if key.startswith("opt."):
                _, i, k = key.split(".", 2)
                new_state.setdefault(int(i), {})[k] = v.clone()
        opt["state"] = new_state
        self.optimizer.load_state_dict(opt)

    def snapshot(self):
        snap = super().snapshot()
        with torch.no_grad():
            snap["log_density"] = self.log_density(snap["points"])
        return snap

    def describe(self):
        return {**super().describe(), "flow_steps": self.flow_steps, "flow_lr": self.flow_lr, "beta": self.beta,
                "mix": self.mix, "n_layers": self.n_layers, "hidden": self.hidden, "n_penalty": self.n_penalty,
                "ratio_clip": self.ratio_clip, "base": self.base, "base_scale": self.base_scale}
