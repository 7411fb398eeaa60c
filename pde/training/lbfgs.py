"""L-BFGS that never synchronises with the host: :class:`DeviceLBFGS`.

``torch.optim.LBFGS(line_search_fn="strong_wolfe")`` decides everything on the host: the
loss and the directional derivative are read with ``float()`` at every line-search
evaluation and the bracketing/zoom logic branches on them, so on CUDA each evaluation costs
a device synchronisation (the queue drains, the GPU idles while Python decides). This
optimizer keeps every decision on the device instead, as tensor arithmetic and
``torch.where`` masks, and runs a fixed number of iterations per :meth:`DeviceLBFGS.step`.

Algorithm (one closure evaluation per iteration, all quantities device tensors)
------------------------------------------------------------------------------
State at the current point ``x`` (flattened parameters, ``(n,)``): loss ``f``, gradient
``g``, the last ``m = history_size`` accepted pairs ``s_i = x_{i+1} - x_i``,
``y_i = g_{i+1} - g_i`` in ring buffers ``S, Y`` ``(m, n)`` with ``rho_i = 1 / (s_i . y_i)``
(``rho_i = 0`` marks an empty slot) and their products ``SY[i, j] = s_i . y_j`` ``(m, m)``,
the initial inverse-Hessian scale ``gamma`` and the step size ``alpha``.

1. Direction ``d = -H g`` by the two-loop recursion, run over all ``m`` slots, newest
   first (the slot order is a device index, so the loop has a fixed length)::

       q = g
       for k = newest .. oldest:   a_k = rho_k s_k.q ;  q = q - a_k y_k
       r = gamma q,   gamma = s_new.y_new / y_new.y_new   (min(1, 1/|g|_1) before any pair)
       for k = oldest .. newest:   b_k = rho_k y_k.r ;  r = r + (a_k - b_k) s_k
       d = -r

   Empty slots have ``rho_k = 0`` and drop out (``a_k = b_k = 0``): this is the mask.
   The loops are not run as ``2 m`` dependent vector updates (hundreds of small kernels per
   iteration) but as what they compute. With ``k`` counting pairs newest first,
   ``s_k.q_k = s_k.g - sum_{j<k} a_j s_k.y_j``, so ``a`` solves the unit lower-triangular
   system ``(I + diag(rho) tril(SY, -1)) a = rho * (S g)``; then ``q = g - Y^T a``;
   ``c_k = a_k - b_k`` solve the unit upper-triangular system
   ``(I + diag(rho) triu(SY^T, 1)) c = a - gamma rho * (Y q)``; and ``r = gamma q + S^T c``.
   Forward and back substitution are the two loops step for step (same dependencies,
   products regrouped), in a fixed number of kernels: six ``(m, n)`` matrix-vector
   products (two of them keep ``SY`` current) and two ``(m, m)`` triangular solves.
   If ``g.d >= 0`` or ``d`` is not finite, ``d = -gamma g`` (steepest descent).
2. Trial point ``x_t = x + alpha d``; one closure call gives ``f_t, g_t``.
3. Accept when ``f_t, g_t`` are finite and either ``f_t <= f + c1 alpha g.d`` (Armijo,
   ``c1 = 1e-4``) or, for decreases below the rounding of ``f``, its slope form
   ``g_t.d <= (2 c1 - 1) g.d`` with ``f_t <= f + eps_f |f|`` (``eps_f = min(1e-6, 100 eps)``,
   ``eps`` the dtype's machine epsilon; the approximate Armijo condition of Hager & Zhang,
   SIAM J. Optim. 16 (2005), exact for quadratics: on the float64 quadratic of the tests it
   reaches ``|g| ~ 2e-10`` in 100 evaluations where the test on ``f`` alone stalls near
   ``4e-8``). On acceptance ``x, f, g = x_t, f_t, g_t``; the pair
   ``(s, y) = (x_t - x, g_t - g)`` enters the ring buffer when ``s.y > sqrt(eps) |s| |y|``
   (positive curvature, so ``H`` stays positive definite; otherwise the pair is skipped);
   and ``alpha = min(lr, 2 alpha)`` (back toward the quasi-Newton step).
   On rejection ``x, g``, the history and hence ``d`` stay; ``alpha`` shrinks to the
   minimiser of the quadratic through ``f``, ``g.d`` and ``f_t``, safeguarded to
   ``[0.1, 0.5] alpha`` (``0.1 alpha`` when ``f_t`` is not finite): safeguarded
   backtracking (Nocedal & Wright, *Numerical Optimization*, sec. 3.5) spread over
   iterations.
4. ``converged`` is set (and never cleared) when ``max |g| <= tolerance_grad``, or when the
   trial step is negligible: ``alpha max |d| <= tolerance_change`` or ``x_t == x`` bitwise
   (the loss is at its rounding floor). Once set, trial points equal ``x`` and nothing
   changes; later iterations only cost their closure call.

Every branch above is a ``torch.where``; there is no ``.item()``, ``float(tensor)``,
``bool(tensor)``, ``.cpu()`` or data-dependent Python control flow in :meth:`step`. The
caller reads the device counters when it wants to (:meth:`DeviceLBFGS.info`, one
synchronisation): ``n_iter`` (accepted iterations), ``func_evals`` (closure calls),
``loss`` (``f`` at the current point), ``grad_norm`` (``max |g|``, the quantity compared
with ``tolerance_grad``, as in ``torch.optim.LBFGS``) and ``converged``.

Trade-off against strong Wolfe
------------------------------
Strong Wolfe finds a step satisfying both the sufficient-decrease and the curvature
conditions, so nearly every iteration makes a good step and stores a useful pair; the price
is several host round trips per iteration. Here a rejected trial costs a whole iteration
(one evaluation, no progress) and accepted steps are not checked for curvature (pairs with
``s.y <= 0`` are skipped instead), so the same progress can take more evaluations: 54
against strong Wolfe's 45 to bring Rosenbrock within 1e-6 of its minimiser. On the PINN
losses tried (heat, Burgers after Adam) progress per evaluation was about the same (final
losses within 1.5x of each other, either way round).
In exchange the host never waits for the device: on a GPU, kernels of successive
iterations queue back to back, and under ``torch.compile`` with CUDA graphs the closure's
captured graph replays without a host read between replays. On the CPU there is nothing to
gain: both cost the same per evaluation (the optimizer's own work, ~1 ms per iteration for
3.3k parameters and 50 pairs, is small next to a PINN loss).

``max_iter`` counts closure evaluations (each iteration is exactly one), plus one at the
start of every :meth:`step` to get ``f, g`` at the current parameters. Checkpointing:
:meth:`state_dict` holds only tensors (the history, ``SY``, ``gamma``, ``alpha``, counters, flag);
``f`` and ``g`` are recomputed by that first evaluation, so a resumed run continues
bit-for-bit when the closure is deterministic.
"""

from __future__ import annotations

import torch

__all__ = ["DeviceLBFGS"]

#: state entries that must keep their integer/bool dtype (Optimizer.load_state_dict casts to the parameters')
_EXACT_KEYS = ("head", "count", "n_iter", "func_evals", "converged")
_STATE_KEYS = ("S", "Y", "SY", "rho", "gamma", "alpha", "loss", "grad_norm") + _EXACT_KEYS
_C1 = 1e-4  # Armijo sufficient-decrease constant
_GROW = 2.0  # step-size growth after an accepted step (2 beat an immediate reset to lr on the PINN tests)


class DeviceLBFGS(torch.optim.Optimizer):
    """L-BFGS with an Armijo backtracking rule evaluated on the device (no host synchronisation).

    params: the parameters (one group, like ``torch.optim.LBFGS``); any shapes, one device
    and dtype. lr: the largest step ``alpha`` (1 is the quasi-Newton step). max_iter:
    iterations (= closure evaluations) per :meth:`step`. history_size: pairs kept.
    tolerance_grad: stop when ``max |g| <= tolerance_grad``. tolerance_change: stop when a
    trial step ``alpha max |d|`` is at most this.

    ``step(closure)``: ``closure()`` zeroes the gradients, computes the loss (0-dim tensor),
    calls ``backward()`` and returns the loss; it must not read tensors on the host itself
    if the step is to stay synchronisation-free. Returns the loss at the start (a tensor).
    See the module docstring for the algorithm.
    """

    def __init__(self, params, lr: float = 1.0, max_iter: int = 20, history_size: int = 100,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9):
        if not (lr > 0):
            raise ValueError(f"lr must be > 0, got {lr}")
        if int(max_iter) != max_iter or max_iter < 1:
            raise ValueError(f"max_iter must be an integer >= 1, got {max_iter}")
        if int(history_size) != history_size or history_size < 1:
            raise ValueError(f"history_size must be an integer >= 1, got {history_size}")
        defaults = dict(lr=lr, max_iter=int(max_iter), history_size=int(history_size),
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("DeviceLBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        if len({(p.device, p.dtype) for p in self._params}) != 1:
            raise ValueError("DeviceLBFGS needs all parameters on one device with one dtype, got "
                             f"{sorted({(str(p.device), str(p.dtype)) for p in self._params})}")
        self._numel = sum(p.numel() for p in self._params)

    # -- flat views ---------------------------------------------------------------------------
    def _gather_grad(self) -> torch.Tensor:
        return torch.cat([p.grad.reshape(-1) if p.grad is not None else torch.zeros_like(p).reshape(-1)
                          for p in self._params])

    def _gather_params(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self._params])

    def _scatter_params(self, x: torch.Tensor) -> None:
        offset = 0
        for p in self._params:
            n = p.numel()
            p.copy_(x[offset:offset + n].view_as(p))
            offset += n

    def _state(self, p0: torch.Tensor) -> dict:
        state = self.state[p0]
        if "S" not in state:
            m, n, like = self.param_groups[0]["history_size"], self._numel, dict(device=p0.device, dtype=p0.dtype)
            state.update(S=torch.zeros(m, n, **like), Y=torch.zeros(m, n, **like), SY=torch.zeros(m, m, **like),
                         rho=torch.zeros(m, **like),
                         gamma=torch.ones((), **like), alpha=torch.full((), self.param_groups[0]["lr"], **like),
                         loss=torch.full((), float("nan"), **like), grad_norm=torch.full((), float("nan"), **like),
                         head=torch.zeros((), dtype=torch.int64, device=p0.device),
                         count=torch.zeros((), dtype=torch.int64, device=p0.device),
                         n_iter=torch.zeros((), dtype=torch.int64, device=p0.device),
                         func_evals=torch.zeros((), dtype=torch.int64, device=p0.device),
                         converged=torch.zeros((), dtype=torch.bool, device=p0.device))
        return state

    # -- the iteration ------------------------------------------------------------------------
    @staticmethod
    def _direction(g, S, Y, SY, rho, head, gamma):
        """``-H g``: the two-loop recursion over all ``m`` slots as two unit-triangular solves.

        g ``(n,)``; S, Y ``(m, n)`` ring buffers; SY ``(m, m)`` with ``SY[i, j] = s_i.y_j``; rho ``(m,)``
        (0: empty slot); head: next slot to write (0-dim); gamma: initial scale (0-dim). See the module
        docstring for why this is the recursion itself, step for step.
        """
        m = S.shape[0]
        order = torch.remainder(head - 1 - torch.arange(m, device=g.device), m)  # slot of the k-th newest pair
        ro = rho.index_select(0, order)
        sy = SY.index_select(0, order).index_select(1, order)  # sy[k, j] = s_k.y_j, newest first

        def to_slots(v):  # coefficients in newest-first order -> slot order
            return torch.zeros_like(v).index_copy_(0, order, v)

        # first loop: a_k = rho_k (s_k.g - sum_{j newer} a_j s_k.y_j)
        rhs = ro * (S @ g).index_select(0, order)
        a = torch.linalg.solve_triangular(ro[:, None] * torch.tril(sy, -1), rhs[:, None], upper=False,
                                          unitriangular=True)[:, 0]
        q = g - to_slots(a) @ Y
        # second loop: c_k = a_k - b_k = a_k - rho_k (gamma y_k.q + sum_{j older} c_j y_k.s_j)
        rhs = a - gamma * ro * (Y @ q).index_select(0, order)
        c = torch.linalg.solve_triangular(ro[:, None] * torch.triu(sy.T, 1), rhs[:, None], upper=True,
                                          unitriangular=True)[:, 0]
        return -(gamma * q + to_slots(c) @ S)

    @torch.no_grad()
    def step(self, closure):
        """Run ``max_iter`` iterations; returns the loss at the start (a device tensor)."""
        closure = torch.enable_grad()(closure)
        group = self.param_groups[0]
        lr, max_iter = group["lr"], group["max_iter"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        p0 = self._params[0]
        st = self._state(p0)
        S, Y, SY, rho = st["S"], st["Y"], st["SY"], st["rho"]
        head, count, gamma, alpha = st["head"], st["count"], st["gamma"], st["alpha"]
        n_iter, func_evals, converged = st["n_iter"], st["func_evals"], st["converged"]
        m = S.shape[0]
        dtype = p0.dtype
        curv_eps = torch.finfo(dtype).eps ** 0.5
        eps_f = min(1e-6, 100 * torch.finfo(dtype).eps)

        # copies: under CUDA graphs (compile mode "reduce-overhead") the next replay reuses the output buffers
        f = closure().detach().to(dtype, copy=True)
        f0 = f
        g = self._gather_grad()
        x = self._gather_params()
        func_evals = func_evals + 1
        converged = converged | (g.abs().max() <= tol_grad)

        for _ in range(max_iter):
            active = ~converged
            # before any pair: gamma = min(1, 1/|g|_1) as torch.optim.LBFGS's first step
            gamma_eff = torch.where(count > 0, gamma, torch.clamp(1.0 / g.abs().sum(), max=1.0))
            d = self._direction(g, S, Y, SY, rho, head, gamma_eff)
            gd = torch.dot(g, d)
            descent = (gd < 0) & torch.isfinite(gd)
            d = torch.where(descent, d, -gamma_eff * g)
            gd = torch.where(descent, gd, -gamma_eff * torch.dot(g, g))
            step_len = torch.where(active, alpha, torch.zeros_like(alpha))
            x_t = x + step_len * d
            tiny = (alpha * d.abs().max() <= tol_change) | (x_t == x).all()
            self._scatter_params(x_t)
            f_t = closure().detach().to(dtype, copy=True)
            g_t = self._gather_grad()
            func_evals = func_evals + 1

            finite = torch.isfinite(f_t) & torch.isfinite(g_t).all()
            armijo = f_t <= f + _C1 * alpha * gd
            # near the rounding floor of f: the slope form of Armijo (Hager & Zhang's approximate condition)
            approx = (f_t <= f + eps_f * f.abs()) & (torch.dot(g_t, d) <= (2 * _C1 - 1) * gd)
            accept = active & ~tiny & finite & (armijo | approx)
            # curvature pair from the accepted step, stored when s.y > sqrt(eps) |s| |y|
            s, y = x_t - x, g_t - g
            sy, yy = torch.dot(s, y), torch.dot(y, y)
            store = accept & (sy > curv_eps * torch.linalg.vector_norm(s) * torch.sqrt(yy))
            slot = head.view(1)
            S.index_copy_(0, slot, torch.where(store, s, S.index_select(0, slot)[0])[None])
            Y.index_copy_(0, slot, torch.where(store, y, Y.index_select(0, slot)[0])[None])
            rho.index_copy_(0, slot, torch.where(store, 1.0 / sy, rho.index_select(0, slot)[0])[None])
            new_sy = SY.index_copy(0, slot, (Y @ s)[None]).index_copy(1, slot, (S @ y)[:, None])
            SY = torch.where(store, new_sy, SY)
            head = torch.where(store, torch.remainder(head + 1, m), head)
            count = torch.where(store, torch.clamp(count + 1, max=m), count)
            gamma = torch.where(store, sy / yy, gamma)
            # step size: grow toward lr after acceptance, safeguarded quadratic backtracking after rejection
            denom = 2 * (f_t - f - gd * alpha)
            interp = torch.clamp(-gd * alpha * alpha / denom, min=0.1 * alpha, max=0.5 * alpha)
            shrunk = torch.where(finite & (denom > 0), interp, 0.1 * alpha)
            alpha = torch.where(accept, torch.clamp(_GROW * alpha, max=lr), torch.where(active, shrunk, alpha))
            x = torch.where(accept, x_t, x)
            f = torch.where(accept, f_t, f)
            g = torch.where(accept, g_t, g)
            n_iter = n_iter + accept.to(n_iter.dtype)
            converged = converged | (active & tiny) | (g.abs().max() <= tol_grad)

        self._scatter_params(x)
        st.update(SY=SY, head=head, count=count, gamma=gamma, alpha=alpha, n_iter=n_iter, func_evals=func_evals,
                  converged=converged, loss=f, grad_norm=g.abs().max())
        return f0

    # -- reading and checkpointing -------------------------------------------------------------
    def info(self) -> dict:
        """Host copies of the counters: ``n_iter``, ``func_evals``, ``loss``, ``grad_norm``, ``converged``.

        One synchronisation; call it when you want to report (e.g. once per ``log_every``).
        """
        st = self.state.get(self._params[0], {})
        if "S" not in st:
            return {"n_iter": 0, "func_evals": 0, "loss": float("nan"), "grad_norm": float("nan"), "converged": False}
        vals = torch.stack([st[k].to(torch.float64) for k in ("n_iter", "func_evals", "loss", "grad_norm",
                                                                 "converged")]).cpu().tolist()
        return {"n_iter": int(vals[0]), "func_evals": int(vals[1]), "loss": vals[2], "grad_norm": vals[3],
                "converged": bool(vals[4])}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore :meth:`state_dict` output; integer counters and the flag keep their exact values and dtypes."""
        saved = state_dict.get("state", {})
        for k, v in saved.items():
            missing = [n for n in _STATE_KEYS if n not in v]
            if missing:
                raise ValueError(f"not a DeviceLBFGS state (parameter {k} lacks {', '.join(missing)}); "
                                 "was it saved by another optimizer (e.g. torch.optim.LBFGS)?")
        exact = {k: {n: v[n] for n in _EXACT_KEYS} for k, v in saved.items()}
        super().load_state_dict(state_dict)
        params = self.param_groups[0]["params"]
        for k, vals in exact.items():
            p = params[int(k)]
            for n, t in vals.items():
                self.state[p][n] = torch.as_tensor(t).to(p.device)
        self._params = params
