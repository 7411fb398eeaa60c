"""Retain-Resample-Release (R3) sampling and its causal extension.

Daw, Bu, Wang, Perdikaris, Karpatne, "Mitigating propagation failures in physics-informed neural
networks using retain-resample-release (R3) sampling", ICML 2023 (arXiv:2207.02338), Algorithm 1
and Section 5; defaults follow the authors' reference code (github.com/arkadaw9/r3_sampling_icml2023).

R3 (population ``P`` of fixed size ``n``, updated every ``update_every`` steps, 1 in the paper):

* fitness ``F(x) = |r(x)|`` (the absolute PDE residual; the loop passes ``r^2`` and we take the root,
  ``fitness="squared"`` uses ``r^2`` instead);
* **retain** ``P_r = {x in P : F(x) > tau}`` with ``tau = mean_{x in P} F(x)``;
* **release** the others and **resample** ``n - |P_r|`` points uniformly from the domain;
* ``P <- P_r  ∪  P_s`` (each released slot gets a fresh point, so the retained points keep their slots).

It reuses the residuals the training loop already computed: no extra forward pass, O(n) work, and no
host-device synchronisation (the shift of causal R3 also stays a device tensor).

Causal R3 (time-dependent domains, time is the last coordinate, ``t̂ = (t - t0) / (t1 - t0)``):

* causal gate ``g(t) = (1 - tanh(alpha (t̂ - beta))) / 2`` (``gate="tanh"``), or
  ``1 - sigmoid(alpha (t̂ - beta))`` (``"sigmoid"``), or ``relu(-tanh(alpha (t̂ - beta)))`` (``"relu_tanh"``);
* fitness ``F(x) = |r(x)| g(t)``; retain/resample as in R3 (resampled points are uniform in the domain,
  as in the reference code);
* the training loss must be gated too: ``L_r = mean((r g)^2)``, i.e. per-point weights ``g(t)^2``, available
  from :meth:`CausalR3.residual_weights` (the loop multiplies the squared residual by them);
* after each update the shift grows as the gated residual falls:
  ``beta <- beta + eta_g * min(exp(-epsilon * mean((|r| g)^2)), clip)``.

Defaults (reference code, convection): ``beta=-0.5, alpha=5, gate="tanh", beta_lr=1e-3, tol=20, grad_clip=0.1``.
"""

from __future__ import annotations

import torch

from ._common import StatefulSampler, as_bool, as_choice, as_float, as_int, check_residual

__all__ = ["R3", "CausalR3"]


class R3(StatefulSampler):
    """Retain-Resample-Release sampling (Daw et al., ICML 2023); see the module docstring for the rules.

    Options: ``n`` population size, ``update_every`` (1: every step, as in the paper),
    ``fitness`` ``"abs"`` (``|r|``, the paper's) or ``"squared"`` (``r^2``).
    """

    name = "r3"

    def __init__(self, n: int = 1000, update_every: int = 1, fitness: str = "abs"):
        super().__init__(as_int("n", n, minimum=1), as_int("update_every", update_every, minimum=0))
        self.fitness = as_choice("fitness", fitness, ("abs", "squared"))
        self._retained: torch.Tensor | None = None

    def _fitness(self, points: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return residual.clamp_min(0).sqrt() if self.fitness == "abs" else residual

    def retain_mask(self, points: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """Boolean ``(n,)``: the points whose fitness exceeds the population mean."""
        f = self._fitness(points, check_residual(points, residual))
        return f > f.mean()

    def update(self, step, points, residual):
        """Retain the points above the mean fitness in place; replace the others by fresh uniform draws.

        No host synchronisation: ``n`` uniform candidates are drawn and ``torch.where`` picks, per slot, the
        retained point or the fresh one (the population keeps its size and its slots), so the update stays on
        the device inside a CUDA training loop. ``last_retained`` is read lazily.
        """
        residual = check_residual(points, residual)
        points = points.detach().to(self.device, self.dtype)
        residual = residual.to(self.device)
        keep = self.retain_mask(points, residual)
        self._retained = keep.sum()
        self._points = torch.where(keep[:, None], points, self._uniform(self.n))
        self._residual = torch.where(keep, residual, torch.full_like(residual, float("nan")))
        self._after_update(points, residual)

    @property
    def last_retained(self) -> int:
        """Number of points retained by the last update (reading it synchronises with the device)."""
        return int(self._retained) if self._retained is not None else 0

    def _after_update(self, points, residual):
        pass

    def describe(self):
        return {**super().describe(), "fitness": self.fitness}


class CausalR3(R3):
    """Causal R3 (Daw et al., ICML 2023, Section 5): R3 with a causal gate over time that opens as the
    gated residual falls. See the module docstring for the gate, the fitness and the shift update.

    Options: ``n``, ``update_every`` (1), ``beta`` initial shift (-0.5), ``alpha`` steepness (5),
    ``gate`` (``"tanh"``, ``"sigmoid"``, ``"relu_tanh"``), ``beta_lr`` (1e-3), ``tol`` (20),
    ``grad_clip`` (0.1), ``fitness`` as R3, ``gated_input`` (False): set it when the loop already
    multiplies the squared residual by :meth:`residual_weights` before passing it to ``update``
    (then ``F = sqrt(residual)`` and the shift update uses ``mean(residual)``).
    """

    name = "causal_r3"

    def __init__(self, n: int = 1000, update_every: int = 1, beta: float = -0.5, alpha: float = 5.0,
                 gate: str = "tanh", beta_lr: float = 1e-3, tol: float = 20.0, grad_clip: float = 0.1,
                 fitness: str = "abs", gated_input: bool = False):
        super().__init__(n, update_every, fitness)
        self.gated_input = as_bool("gated_input", gated_input)
        self.beta0 = as_float("beta", beta)
        self._beta = torch.tensor(self.beta0, dtype=torch.float64)
        self.alpha = as_float("alpha", alpha, minimum=0.0, strict=True)
        self.gate_type = as_choice("gate", gate, ("tanh", "sigmoid", "relu_tanh"))
        self.beta_lr = as_float("beta_lr", beta_lr, minimum=0.0)
        self.tol = as_float("tol", tol, minimum=0.0)
        self.grad_clip = as_float("grad_clip", grad_clip, minimum=0.0)

    def setup(self, domain, *, generator, device=None, dtype=torch.float32):
        if not domain.time_dependent:
            raise ValueError(f"causal_r3 needs a time-dependent domain (SpaceTime); got {type(domain).__name__} "
                             f"with coordinates {', '.join(domain.names)}; use sampler r3")
        super().setup(domain, generator=generator, device=device, dtype=dtype)
        self._beta = torch.tensor(self.beta0, dtype=torch.float64, device=self.device)

    @property
    def beta(self) -> float:
        """Current gate shift (reading it synchronises with the device)."""
        return float(self._beta)

    @beta.setter
    def beta(self, value: float) -> None:
        self._beta = torch.tensor(float(value), dtype=torch.float64, device=self._beta.device)

    def gate(self, t: torch.Tensor) -> torch.Tensor:
        """Causal gate ``g(t)`` in [0, 1] for times ``t`` ``(n,)``."""
        t0, t1 = self.domain.t0, self.domain.t1
        z = self.alpha * ((t - t0) / (t1 - t0) - self._beta.to(t.device, t.dtype))
        if self.gate_type == "tanh":
            return 0.5 * (1.0 - torch.tanh(z))
        if self.gate_type == "sigmoid":
            return 1.0 - torch.sigmoid(z)
        return torch.relu(-torch.tanh(z))

    def residual_weights(self, points: torch.Tensor) -> torch.Tensor:
        """Per-point weights ``g(t)^2`` ``(n,)`` for the training loss ``mean(g^2 r^2)`` (detached)."""
        return self.gate(points[:, -1].detach()) ** 2

    @property
    def gate_opened(self) -> bool:
        """True once the gate is (numerically) open at the final time: ``g(t1) > 0.99``."""
        return float(self.gate(torch.tensor([self.domain.t1]))[0]) > 0.99

    def _gated(self, points, residual):
        """``(|r| g)^2`` from the squared residual the loop passed (already gated if ``gated_input``)."""
        if self.gated_input:
            return residual.clamp_min(0)
        return residual.clamp_min(0) * self.gate(points[:, -1].to(residual.dtype)) ** 2

    def _fitness(self, points, residual):
        gated = self._gated(points, residual)
        return gated.sqrt() if self.fitness == "abs" else gated

    def _after_update(self, points, residual):
        gated = self._gated(points, residual)
        g = torch.exp(-self.tol * gated.mean().to(torch.float64)).clamp(max=self.grad_clip)
        self._beta = self._beta + self.beta_lr * g

    def _extra_state(self):
        return {"beta": self._beta.detach().clone()}

    def _load_extra_state(self, state):
        if "beta" in state:
            self._beta = state["beta"].to(torch.float64).to(self._beta.device).clone()

    def describe(self):
        return {**super().describe(), "beta": self.beta0, "alpha": self.alpha,
                "gate": self.gate_type, "beta_lr": self.beta_lr, "tol": self.tol, "grad_clip": self.grad_clip,
                "gated_input": self.gated_input}
