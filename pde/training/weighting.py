"""Loss weightings: how the loop weighs the loss terms ``L = sum_k w_k L_k`` against each other.

* :class:`FixedWeights`: the weights of :class:`~pde.training.trainer.Settings` ``weights`` (term name ->
  weight) and the conditions' own ``weight``, fixed for the run (the default).
* :class:`GradientNormBalancing`: the weights follow the gradient norms of the terms (Wang, Teng and
  Perdikaris 2023, "An expert's guide to training physics-informed neural networks", section on loss
  balancing; a variant of Wang, Teng and Perdikaris 2021, "Understanding and mitigating gradient flow
  pathologies"): every ``update_every`` Adam steps,

      w_hat_k = (sum_j ||grad L_j||) / ||grad L_k||,      w_k <- alpha w_k + (1 - alpha) w_hat_k,

  so every weighted term pulls the parameters with the same gradient norm. The fixed weights multiply the
  balanced ones (``w_k * fixed_k``), so a user's preference still counts.

A weighting is a loop part (:class:`~pde.training.callbacks.AbstractCallback`) that also owns the weight
vector the loss reads (``trainer.losses.weight_tensor``); its state goes into the checkpoint. The weights are
device tensors updated on the device: no host read, at any step.
"""

from __future__ import annotations

import torch

from .callbacks import AbstractCallback

__all__ = ["AbstractLossWeighting", "FixedWeights", "GradientNormBalancing", "WEIGHTINGS", "make_weighting"]


class AbstractLossWeighting(AbstractCallback):
    """A loss weighting: ``bind(trainer)`` once, then loop hooks that may change ``trainer.losses``' weights.

    ``varies``: True when the weights change during the run; the history then records the weights in use
    (``trainer.losses.weight_tensor``, ``(K,)``) as columns ``weight/TERM`` in every row.
    """

    varies: bool = False

    def bind(self, trainer) -> None:
        """Called once by the trainer, after its loss terms exist (nothing to do for fixed weights)."""

    def describe(self) -> dict:
        return {"name": type(self).__name__}

    def step_weights(self, trainer) -> torch.Tensor:
        """The term weights ``(K,)`` (device tensor) that the latest step's loss used (the history records them)."""
        return trainer.losses.weight_tensor


class FixedWeights(AbstractLossWeighting):
    """The fixed weights of the settings and conditions (nothing changes during the run)."""


class GradientNormBalancing(AbstractLossWeighting):
    """Weights from the terms' gradient norms after every ``update_every``-th Adam step, smoothed with ``alpha``.

    Costs one backward pass per loss term at each update (``K`` terms: ``K`` extra passes every
    ``update_every`` steps). The L-BFGS phase keeps the weights reached at the end of Adam (its objective must
    stay fixed). ``weights`` (the current balanced weights, ``(K,)``) is in the checkpoint; the history's
    ``weight/TERM`` columns hold the weights in use, ``weights * fixed``.
    """

    varies = True

    def __init__(self, update_every: int = 100, alpha: float = 0.9):
        if int(update_every) != update_every or update_every < 1:
            raise ValueError(f"update_every must be an integer >= 1, got {update_every}")
        if not 0 <= alpha < 1:
            raise ValueError(f"alpha must lie in [0, 1), got {alpha}")
        self.update_every, self.alpha = int(update_every), float(alpha)
        self.weights: torch.Tensor | None = None  # balanced weights (K,), on the device
        self._fixed: torch.Tensor | None = None
        self._used: torch.Tensor | None = None  # the weights of the latest Adam step's loss (before its update)

    def bind(self, trainer):
        super().bind(trainer)
        self._losses = trainer.losses
        self._fixed = torch.tensor(trainer.losses.weights, device=trainer.device, dtype=trainer.dtype)
        if self.weights is None:
            self.weights = torch.ones_like(self._fixed)
        trainer.losses.weight_tensor = self.weights * self._fixed

    def step_weights(self, trainer):
        # an update after Adam step s serves step s + 1 on; step s's loss used the weights before it. L-BFGS: fixed
        return self._used if trainer.phase == "adam" and self._used is not None else trainer.losses.weight_tensor

    def on_step_end(self, trainer, step):
        # after Adam step ``step``, on that step's points (drawing new ones would move the sampler's generator)
        self._used = trainer.losses.weight_tensor  # a reference: an update below assigns a new tensor
        if trainer.phase != "adam" or step % self.update_every != 0:
            return
        with torch.enable_grad():
            terms = trainer.losses.term_losses(trainer.model, trainer.last[0], trainer.cond_points)
            norms = []
            for k in range(terms.shape[0]):
                grads = torch.autograd.grad(terms[k], trainer.params, retain_graph=k + 1 < terms.shape[0],
                                            allow_unused=True)
                sq = [g.square().sum() for g in grads if g is not None]
                norms.append(torch.stack(sq).sum().sqrt() if sq else terms.new_zeros(()))
        norm = torch.stack(norms).detach()
        # a term with zero gradient (e.g. satisfied exactly) keeps its weight instead of dividing by zero
        target = torch.where(norm > 0, norm.sum() / norm.clamp_min(torch.finfo(norm.dtype).tiny), self.weights)
        self.weights.mul_(self.alpha).add_((1 - self.alpha) * target)
        trainer.losses.weight_tensor = self.weights * self._fixed

    def describe(self):
        return {"name": type(self).__name__, "update_every": self.update_every, "alpha": self.alpha}

    def state_dict(self):
        return {"weights": self.weights}

    def load_state_dict(self, state):
        self.weights.copy_(torch.as_tensor(state["weights"]).to(self.weights))
        self._losses.weight_tensor = self.weights * self._fixed  # the loss reads the product


#: ``Settings.balancing`` names
WEIGHTINGS = {"gradient_norm": GradientNormBalancing}


def make_weighting(spec: str | dict | None) -> AbstractLossWeighting:
    """The weighting a ``Settings.balancing`` value names: None -> :class:`FixedWeights`; a name of
    :data:`WEIGHTINGS`, or a dict ``{"name": ..., **options}``."""
    if spec is None:
        return FixedWeights()
    opts = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = opts.pop("name", None)
    if name not in WEIGHTINGS:
        raise ValueError(f"unknown balancing {name!r}; allowed: None (fixed weights), {', '.join(WEIGHTINGS)}")
    try:
        return WEIGHTINGS[name](**opts)
    except TypeError as e:
        raise ValueError(f"balancing {name!r}: {e}") from None
