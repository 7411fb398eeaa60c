"""Truncated Taylor series ("jets") that flow through ordinary PyTorch models.

A :class:`Jet` holds the *normalised* Taylor coefficients ``c_0, ..., c_K`` of
``y(t) = f(x(t))`` along a batch of ``V`` input curves ``x(t) = x0 + c_1 t + c_2 t^2 + ...``:
``y(t) = c_0 + c_1 t + ... + c_K t^K + O(t^{K+1})``, so the k-th derivative of ``y`` in
``t`` is ``k! c_k`` (for a line ``x0 + t v``: ``k! c_k = D^k f(x0)[v, ..., v]``).

Shapes: ``c_0`` has the primal shape ``S`` (e.g. ``(N, width)``); ``c_k`` (k >= 1) has
shape ``(V, *S)`` or any shape broadcastable to it (a direction shared by all points is
``(V, 1, d)``). A *collapsed* jet keeps only the sum over the ``V`` directions of its top
coefficient, ``c_K`` of shape ``S`` (broadcastable): that is all a Laplacian needs
(``sum_i d^2 f/dx_i^2 = 2 sum_v c_2(e_v)``), and it saves one coefficient per direction
in every layer (Dangel et al., "collapsed Taylor mode"). A coefficient may be ``None``
(structurally zero: e.g. ``c_2, c_3, ...`` of a straight input line, skipped in every op) or a
:class:`OneHot` (coordinate directions; the first linear layer becomes a column lookup).
``counts[k]`` (optional) says that only the first ``counts[k]`` directions are carried to
order ``k`` (directions are sorted by the order they need), so ``u_t`` next to ``u_xx`` does
not pay for a second-order coefficient.

A Jet implements ``__torch_function__``, so it passes through any model written with
plain torch functions (``F.linear``, ``torch.tanh``, ``torch.sin``, ``F.gelu``, ``F.silu``,
``F.softplus``, ``torch.cat``, ``+ - * /``, ``@``, indexing, ...) without model code
changes. Elementwise functions use Faa di Bruno's formula
``y_k = sum_{j=1}^k f^(j)(x_0)/j! [t^k] (x(t) - x_0)^j``; products are Cauchy products.
Dispatch is on the torch function object itself (``torch.tanh``, ``torch.Tensor.add``,
``F.linear``, ...), never on its ``__name__``; any other op raises
:class:`~pde.derivatives.base.UnsupportedOperation` (a ``NotImplementedError`` and an
``UnsupportedDerivative``) naming it: nothing, not even ``F.dropout``, is silently skipped.

Broadcasting: whenever an op broadcasts the value to a larger shape (``jet + tensor``,
``*``, ``/``, ``where``, ``expand``), every coefficient is expanded with it (a view), so
reductions (``sum``, ``mean``, ``prod``), indexing and ``cat`` see coefficients of the value's
shape; the only size-1 axis left is a point axis of directions shared by all points.
All arithmetic is ordinary torch arithmetic, so outputs stay differentiable with respect
to the model's parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from .base import UnsupportedDerivative, UnsupportedOperation

__all__ = ["Jet", "OneHot", "activation_derivatives", "check_output", "compose", "supported_ops"]


class OneHot:
    """A sparse coefficient: ``scale * e_{index}`` along the last axis, per direction and point.

    ``index`` ``(V, N)`` (or ``(V, 1)``) of columns in ``[0, d)``; ``scale`` a number or a tensor
    of the index's shape. ``F.linear`` turns it into a column lookup of the weight (no matmul);
    products with dense tensors, sums of OneHots on the same columns and a sum over the last
    axis stay sparse (so a hard constraint ``(1 - |x|^2) net(x)`` costs O(V N), not O(V N d));
    every other op densifies it.
    """

    def __init__(self, index: torch.Tensor, d: int, scale: float | torch.Tensor = 1.0, dtype=None, key=None,
                 deterministic: bool = False):
        self.index, self.d, self.scale, self.dtype = index, d, scale, dtype
        self.key = index if key is None else key
        #: reduce over directions without atomics (see :func:`_csum0`): same bits on every run on a GPU
        self.deterministic = bool(deterministic)

    def _scale_last(self):
        return self.scale[..., None] if isinstance(self.scale, torch.Tensor) else self.scale

    def dense(self) -> torch.Tensor:
        return F.one_hot(self.index, self.d).to(self.dtype) * self._scale_last()

    def with_scale(self, scale, index=None) -> OneHot:
        return OneHot(self.index if index is None else index, self.d, scale, self.dtype, self.key, self.deterministic)


def _dense(c):
    return c.dense() if isinstance(c, OneHot) else c


def _cadd(a, b):
    """Sum of two coefficients; ``None`` is a structural zero."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, OneHot) and isinstance(b, OneHot) and a.key is b.key and a.d == b.d:
        shape = torch.broadcast_shapes(a.index.shape, b.index.shape)
        return a.with_scale(a.scale + b.scale, a.index.expand(shape))
    return _dense(a) + _dense(b)


def _cmul(a, b):
    """Product of a coefficient with a coefficient, tensor or number; ``None`` is a structural zero."""
    if a is None or b is None:
        return None
    if isinstance(b, OneHot) and not isinstance(a, OneHot):
        a, b = b, a
    if not isinstance(a, OneHot):
        return a * b
    if isinstance(b, OneHot):
        if a.key is b.key and a.d == b.d:
            shape = torch.broadcast_shapes(a.index.shape, b.index.shape)
            return a.with_scale(a.scale * b.scale, a.index.expand(shape))
        return a.dense() * b.dense()
    if not isinstance(b, torch.Tensor) or b.ndim == 0:
        return a.with_scale(a.scale * b)
    target = torch.broadcast_shapes(a.index.shape + (a.d,), b.shape)
    if target[-1] != a.d:
        return a.dense() * b
    idx = a.index.expand(target[:-1])
    vals = b.expand(target).gather(-1, idx.unsqueeze(-1)).squeeze(-1)
    return a.with_scale(a.scale * vals, idx)


def _csum0(c):
    """Sum over the direction axis (collapsed top coefficient).

    A OneHot ``(V, N)`` is scattered into ``(N, d)``: O(V N + N d). ``scatter_add`` of the ``V``
    entries of a row uses atomics on a GPU (the summation order, hence the last bits, vary from run
    to run); with ``deterministic`` the ``V`` directions are added one at a time (one writer per
    element in each of the ``V`` scatters), so the result is the same on every run.
    """
    if isinstance(c, OneHot) and c.index.ndim == 2:
        sc = c.scale if isinstance(c.scale, torch.Tensor) else torch.full(
            c.index.shape, float(c.scale), dtype=c.dtype, device=c.index.device)
        idx, sc = c.index.T, sc.expand(c.index.shape).T  # (N, V)
        out = sc.new_zeros(idx.shape[0], c.d)
        if not c.deterministic:
            return out.scatter_add(1, idx, sc)
        for v in range(idx.shape[1]):  # fixed order, one contribution per element per scatter
            out = out.scatter_add(1, idx[:, v:v + 1], sc[:, v:v + 1])
        return out
    return None if c is None else _dense(c).sum(0)


# ---------------------------------------------------------------------------------------
# Derivatives of elementwise functions: list [f, f', ..., f^(K)] evaluated at x0.

def _poly_eval(coeffs: Sequence[float], t: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(t) + coeffs[-1]
    for a in reversed(coeffs[:-1]):
        out = out * t + a
    return out


def _poly_deriv(p: list[float]) -> list[float]:
    return [i * p[i] for i in range(1, len(p))] or [0.0]


def _poly_mul(p: list[float], q: list[float]) -> list[float]:
    out = [0.0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] += a * b
    return out


def _chain_polys(K: int, inner: list[float]) -> list[list[float]]:
    """Polynomials p_k with f^(k) = p_k(s) when f = s and s' = inner(s)."""
    polys = [[0.0, 1.0]]
    for _ in range(K):
        polys.append(_poly_mul(_poly_deriv(polys[-1]), inner))
    return polys


def _tanh_derivs(x0, K):
    t = torch.tanh(x0)
    if K <= 4:  # hand-expanded with s = 1 - t^2: f1 = s, f2 = -2 t s, f3 = s (6 t^2 - 2), f4 = 8 t s (2 - 3 t^2)
        s = 1 - t * t
        out = [t, s]
        if K >= 2:
            ts = t * s
            out.append(-2 * ts)
        if K >= 3:
            t2 = 1 - s
            out += [s * (6 * t2 - 2)] + ([8 * ts * (2 - 3 * t2)] if K >= 4 else [])
        return out
    return [_poly_eval(p, t) for p in _chain_polys(K, [1.0, 0.0, -1.0])]


def _tanh_taylor(x0, K):
    """``[tanh, tanh', tanh''/2!, ...]`` at ``x0`` with few ops (K <= 4; s = 1 - t^2)."""
    if K > 4:
        d = _tanh_derivs(x0, K)
        return [d[0]] + [d[j] / math.factorial(j) for j in range(1, K + 1)]
    t = torch.tanh(x0)
    s = 1 - t * t
    out = [t, s]
    if K >= 2:
        ts = t * s
        out.append(-ts)
    if K >= 3:
        t2 = 1 - s
        out.append(s * (t2 - 1 / 3))
    if K >= 4:
        out.append(ts * (2 / 3 - t2))
    return out


def _sigmoid_derivs(x0, K):
    s = torch.sigmoid(x0)
    return [_poly_eval(p, s) for p in _chain_polys(K, [0.0, 1.0, -1.0])]


def _sin_derivs(x0, K):
    s, c = torch.sin(x0), torch.cos(x0)
    cyc = [s, c, -s, -c]
    return [cyc[k % 4] for k in range(K + 1)]


def _cos_derivs(x0, K):
    s, c = torch.sin(x0), torch.cos(x0)
    cyc = [c, -s, -c, s]
    return [cyc[k % 4] for k in range(K + 1)]


def _exp_derivs(x0, K):
    e = torch.exp(x0)
    return [e] * (K + 1)


def _log_derivs(x0, K):
    out = [torch.log(x0)]
    for k in range(1, K + 1):
        out.append((-1) ** (k - 1) * math.factorial(k - 1) * x0 ** (-k))
    return out


def _power_derivs(p: float):
    def derivs(x0, K):
        out, coef = [], 1.0
        for k in range(K + 1):
            out.append(coef * x0 ** (p - k) if coef != 0 else torch.zeros_like(x0))
            coef *= p - k
        return out
    return derivs


def _softplus_derivs(beta: float, threshold: float):
    def derivs(x0, K):
        lin = x0 * beta > threshold  # torch's softplus is the identity there
        s = _sigmoid_derivs(beta * x0, max(K - 1, 0))
        out = [F.softplus(x0, beta, threshold)]
        for k in range(1, K + 1):
            v = s[k - 1] * beta ** (k - 1)
            out.append(torch.where(lin, torch.ones_like(v) if k == 1 else torch.zeros_like(v), v))
        return out
    return derivs


def _ndtr_derivs(x0, K):
    """Standard normal CDF Phi and its derivatives: Phi^(k) = (-1)^(k-1) He_{k-1}(x) phi(x)."""
    phi = torch.exp(-0.5 * x0 * x0) / math.sqrt(2 * math.pi)
    out = [0.5 * (1 + torch.erf(x0 / math.sqrt(2)))]
    he_prev, he = torch.zeros_like(x0), torch.ones_like(x0)  # He_{-1}, He_0
    for k in range(1, K + 1):
        out.append((-1) ** (k - 1) * he * phi)
        he_prev, he = he, x0 * he - (k - 1) * he_prev
    return out


def _relu_derivs(x0, K):
    return [torch.relu(x0), (x0 > 0).to(x0.dtype)] + [torch.zeros_like(x0)] * (K - 1)


def activation_derivatives(name: str, x0: torch.Tensor, K: int) -> list[torch.Tensor]:
    """``[f(x0), f'(x0), ..., f^(K)(x0)]`` for the elementwise function ``name`` (for tests)."""
    return _ELEMENTWISE[name](x0, K)[: K + 1]


_ELEMENTWISE: dict[str, Callable] = {
    "tanh": _tanh_derivs, "sigmoid": _sigmoid_derivs, "sin": _sin_derivs, "cos": _cos_derivs,
    "exp": _exp_derivs, "log": _log_derivs, "relu": _relu_derivs, "sqrt": _power_derivs(0.5),
    "rsqrt": _power_derivs(-0.5), "reciprocal": _power_derivs(-1.0), "ndtr": _ndtr_derivs,
}


# ---------------------------------------------------------------------------------------

def _s(c, n):
    """The first ``n`` directions of a coefficient (all when ``n`` is None or ``c`` broadcasts)."""
    if n is None or c is None or isinstance(c, OneHot) or c.shape[0] <= n:
        return c
    return c[:n]


def _cauchy_top(a: list, b: list, k: int, collapsed_top: bool, n=None):
    """Coefficient k of the product of two series whose entries 1..k-1 carry the V axis."""
    mid = None
    for i in range(1, k):
        mid = _cadd(mid, _cmul(_s(a[i], n), _s(b[k - i], n)))
    if collapsed_top:
        mid = _csum0(mid)
    return _cadd(_cadd(_cmul(_s(b[k], n), a[0]), _cmul(_s(a[k], n), b[0])), mid)


class Jet:
    """Normalised Taylor coefficients of a tensor along ``V`` input curves (see module doc)."""

    def __init__(self, coeffs: Sequence, collapsed: bool = False, counts: Sequence | None = None):
        self.coeffs = list(coeffs)
        self.collapsed = collapsed
        if self.order < 1:
            raise ValueError("a jet needs at least the primal and one coefficient")
        #: counts[k]: only the first counts[k] directions are carried to order k (None: all);
        #: directions are sorted by the order they need, so lower orders never need slicing.
        self.counts = tuple(counts) if counts is not None else (None,) * (self.order + 1)

    # -- tensor-like attributes ----------------------------------------------------------
    @property
    def order(self) -> int:
        return len(self.coeffs) - 1

    @property
    def primal(self) -> torch.Tensor:
        return self.coeffs[0]

    @property
    def shape(self) -> torch.Size:
        return self.coeffs[0].shape

    @property
    def ndim(self) -> int:
        return self.coeffs[0].ndim

    @property
    def dtype(self):
        return self.coeffs[0].dtype

    @property
    def device(self):
        return self.coeffs[0].device

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        return f"Jet(order={self.order}, shape={tuple(self.shape)}, collapsed={self.collapsed})"

    def derivative(self, k: int) -> torch.Tensor:
        """``k``-th derivative in ``t``: ``k! c_k``."""
        return math.factorial(k) * self._full(k)

    def _has_v(self, k: int) -> bool:
        return k >= 1 and not (self.collapsed and k == self.order)

    def _full(self, k: int) -> torch.Tensor:
        c = self.coeffs[k]
        c = self.primal.new_zeros((1,) * (self.ndim + int(self._has_v(k)))) if c is None else _dense(c)
        S = self.shape
        if self._has_v(k):
            return c.expand(c.shape[: c.ndim - len(S)] + S) if c.ndim > len(S) else c.expand((1,) + S)
        return c.expand(S)

    def _map(self, fn_primal: Callable, fn_v: Callable | None = None) -> Jet:
        """Apply a linear map to every coefficient (fn_v for coefficients with a V axis)."""
        fn_v = fn_v or fn_primal
        return Jet([fn_primal(self._full(k)) if not self._has_v(k) else fn_v(self._full(k))
                    for k in range(self.order + 1)], self.collapsed, self.counts)

    # -- python operators ----------------------------------------------------------------
    def __add__(self, o): return _add(self, o)
    def __radd__(self, o): return _add(o, self)
    def __sub__(self, o): return _sub(self, o)
    def __rsub__(self, o): return _sub(o, self)
    def __mul__(self, o): return _mul(self, o)
    def __rmul__(self, o): return _mul(o, self)
    def __truediv__(self, o): return _div(self, o)
    def __rtruediv__(self, o): return _div(o, self)
    def __neg__(self): return _mul(self, -1.0)
    def __pos__(self): return self
    def __pow__(self, p): return _pow(self, p)
    def __matmul__(self, o): return _matmul(self, o)
    def __rmatmul__(self, o): return _matmul(o, self)
    def __getitem__(self, idx): return _getitem(self, idx)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        try:
            handler = _HANDLERS.get(func)
        except TypeError:  # an unhashable callable
            handler = None
        if handler is None:
            raise UnsupportedOperation(
                f"Taylor-mode jets do not support the torch operation {_op_name(func)!r} (no Taylor-mode "
                f"rule; it is not silently skipped); supported: {', '.join(supported_ops())}")
        return handler(*args, **kwargs)

    # tensor methods called directly on a jet (x.tanh(), x.sum(-1), ...): the handler of torch.Tensor.<name>
    def __getattr__(self, name):
        handler = None if name.startswith("_") else _HANDLERS.get(getattr(torch.Tensor, name, None))
        if handler is None:
            raise AttributeError(f"Jet has no attribute {name!r} (Taylor-mode jets support: "
                                 f"{', '.join(supported_ops())})")
        return lambda *a, **k: handler(self, *a, **k)


def _op_name(func) -> str:
    name = getattr(func, "__name__", None) or str(func)
    mod = getattr(func, "__module__", None)
    return f"{mod}.{name}" if mod and mod.startswith("torch.nn") else name


def supported_ops() -> list[str]:
    """Names of the torch operations a :class:`Jet` can pass through."""
    return sorted(_HANDLER_NAMES)


def check_output(out, fields) -> None:
    """Raise unless ``out`` is a jet of value shape ``(N, len(fields))`` (the model's jet output)."""
    if not isinstance(out, Jet):
        raise UnsupportedDerivative("the model returned a plain tensor for a jet input: it does not depend on "
                                    "its input through supported torch operations")
    if out.ndim != 2 or out.shape[1] != len(fields):
        raise ValueError(f"model output must have shape (N, {len(fields)}) for fields {tuple(fields)}, "
                         f"got {tuple(out.shape)}")


def _is_jet(x) -> bool:
    return isinstance(x, Jet)


def _check_pair(a: Jet, b: Jet):
    if a.order != b.order or a.collapsed != b.collapsed:
        raise ValueError(f"cannot combine jets of order {a.order} (collapsed={a.collapsed}) and "
                         f"{b.order} (collapsed={b.collapsed})")


def _vshape(x) -> tuple:
    """Value shape of a jet, tensor or number (``()``)."""
    return tuple(x.shape) if _is_jet(x) or isinstance(x, torch.Tensor) else ()


def _expand_coeff(c, S: tuple, has_v: bool):
    """Coefficient ``c`` broadcast (a view) so that its trailing axes are the value shape ``S``.

    A size-1 leading point axis of a coefficient whose value axis is larger is kept only while
    the value keeps its shape (e.g. one input direction shared by all points, ``(V, 1, d)``);
    when an operation broadcasts the value to a larger shape, every coefficient is expanded
    with it, so reductions and indexing later see the value's shape.
    """
    if c is None:
        return None
    c = _dense(c)
    nd = len(S) + int(has_v)
    if c.ndim < nd:
        c = c.reshape((1,) * (nd - c.ndim) + tuple(c.shape))
    return c.expand(tuple(c.shape[: c.ndim - len(S)]) + tuple(S))


def _grow(x: Jet, S: tuple) -> Jet:
    """The jet ``x`` broadcast to the value shape ``S`` (all its coefficients too; views)."""
    if tuple(x.shape) == tuple(S):
        return x
    coeffs = [x.primal.expand(S)] + [_expand_coeff(c, S, x._has_v(k)) for k, c in enumerate(x.coeffs) if k]
    return Jet(coeffs, x.collapsed, x.counts)


def _grow_all(*xs):
    """Broadcast the jets among ``xs`` to the common value shape of all of them."""
    S = torch.broadcast_shapes(*(_vshape(x) for x in xs))
    return [(_grow(x, S) if _is_jet(x) else x) for x in xs]


def _add(a, b, alpha=1):
    if alpha != 1:
        b = _mul(b, alpha)
    if not (_is_jet(a) or _is_jet(b)):  # constants (numbers or tensors without a jet)
        return a + b
    a, b = _grow_all(a, b)
    if _is_jet(a) and _is_jet(b):
        _check_pair(a, b)
        n = a.counts
        return Jet([_cadd(_s(x, c), _s(y, c)) if k else x + y
                    for k, (x, y, c) in enumerate(zip(a.coeffs, b.coeffs, n, strict=True))], a.collapsed, n)
    if _is_jet(b):
        a, b = b, a
    return Jet([a.coeffs[0] + b] + a.coeffs[1:], a.collapsed, a.counts)


def _sub(a, b, alpha=1):
    return _add(a, _mul(b, -alpha))


def _mul(a, b):
    if not (_is_jet(a) or _is_jet(b)):  # constants, e.g. the -1 of a subtraction
        return a * b
    a, b = _grow_all(a, b)
    if _is_jet(a) and _is_jet(b):
        _check_pair(a, b)
        A, B = a.coeffs, b.coeffs
        K = a.order
        out = [A[0] * B[0]]
        for k in range(1, K + 1):
            out.append(_cauchy_top(A, B, k, a.collapsed and k == K, a.counts[k]))
        return Jet(out, a.collapsed, a.counts)
    if _is_jet(b):
        a, b = b, a
    return Jet([_cmul(c, b) for c in a.coeffs], a.collapsed, a.counts)


def compose(x: Jet, derivs: list[torch.Tensor], prescaled: bool = False) -> Jet:
    """Jet of ``f(x)`` from ``derivs = [f(x0), f'(x0), ..., f^(K)(x0)]`` (Faa di Bruno).

    ``y_k = sum_{j=1}^k f^(j)(x0)/j! P_j[k]`` with ``P_j`` the j-th power of the series
    ``h = x - x0`` (``P_j[k]`` only involves ``h_1 .. h_{k-j+1}``, per direction).
    ``prescaled``: ``derivs`` already holds the Taylor coefficients ``f^(j)(x0)/j!``.
    """
    K, n = x.order, x.counts
    h = [None] + list(x.coeffs[1:])
    if prescaled:
        scaled = [None] + list(derivs[1:K + 1])
    else:
        scaled = [None, derivs[1]] + [derivs[j] / math.factorial(j) for j in range(2, K + 1)]
    # a leading size-1 direction axis: products with (V, ...) coefficients then need no reduction
    # over a broadcast axis in the backward pass (a view instead of a copy)
    sv = [None] + [c.unsqueeze(0) for c in scaled[1:]]
    out = [derivs[0]]
    P: dict = {1: h}  # P[j][k] for k >= j, per direction (never uses the collapsed top h_K when j >= 2)
    for j in range(2, K + 1):
        P[j] = [None] * (K + 1)
        for k in range(j, K + 1):
            acc = None
            for i in range(j - 1, k):
                acc = _cadd(acc, _cmul(_s(P[j - 1][i], n[k]), _s(h[k - i], n[k])))
            P[j][k] = acc
    for k in range(1, K + 1):
        y = _cmul(h[k], scaled[1] if x.collapsed and k == K else sv[1])
        rest = None
        for j in range(2, k + 1):
            rest = _cadd(rest, _cmul(P[j][k], sv[j]))
        if x.collapsed and k == K:
            rest = _csum0(rest)
        y = _cadd(y, rest)
        if isinstance(y, OneHot):  # elementwise results are dense in general
            y = y.dense()
        out.append(y)
    return Jet(out, x.collapsed, n)


def _elementwise(name):
    def handler(x, *a, **k):
        if k.get("inplace") is False:  # F.relu(x, inplace=False) and the like
            k = {key: v for key, v in k.items() if key != "inplace"}
        if a or k:
            raise UnsupportedDerivative(f"Taylor-mode jets: {name} with extra arguments {a} {k} is not supported")
        return compose(x, _ELEMENTWISE[name](x.primal, x.order))
    return handler


def _reciprocal(x):
    return compose(x, _ELEMENTWISE["reciprocal"](x.primal, x.order))


def _div(a, b):
    if _is_jet(b):
        return _mul(a, _reciprocal(b))
    return _mul(a, 1.0 / b)


def _pow(x, p):
    if not _is_jet(x):
        raise UnsupportedDerivative("Taylor-mode jets: a jet as exponent (c ** jet) is not supported")
    if _is_jet(p) or isinstance(p, torch.Tensor):
        raise UnsupportedDerivative("Taylor-mode jets: only a Python number is supported as exponent in jet ** p")
    if float(p) == int(p) and 0 <= int(p) <= 8:
        n = int(p)
        if n == 0:
            return Jet([torch.ones_like(x.primal)] + [torch.zeros_like(x.primal)] * x.order, x.collapsed, x.counts)
        out = x
        for _ in range(n - 1):
            out = _mul(out, x)
        return out
    return compose(x, _power_derivs(float(p))(x.primal, x.order))


def _square(x):
    return _mul(x, x)


def _linear(x, weight, bias=None):
    if _is_jet(weight) or _is_jet(bias):
        raise UnsupportedDerivative("Taylor-mode jets: F.linear with a jet weight or bias is not supported")
    out = [F.linear(x.coeffs[0], weight, bias)]
    for c in x.coeffs[1:]:
        if c is None:
            out.append(None)
        elif isinstance(c, OneHot):  # column lookup of the weight, no matmul
            out.append(weight.t()[c.index] * c._scale_last())
        else:
            out.append(F.linear(c if c.shape[-1] == x.shape[-1] else c.expand(*c.shape[:-1], x.shape[-1]), weight))
    return Jet(out, x.collapsed, x.counts)


def _matmul(a, b):
    if _is_jet(a) and _is_jet(b):
        return _bilinear(a, b, torch.matmul)
    if _is_jet(a):
        return Jet([None if c is None else a._full(k) @ b for k, c in enumerate(a.coeffs)], a.collapsed, a.counts)
    return Jet([None if c is None else a @ b._full(k) for k, c in enumerate(b.coeffs)], b.collapsed, b.counts)


def _bilinear(a: Jet, b: Jet, op):
    _check_pair(a, b)
    K = a.order
    A, B = [a._full(k) for k in range(K + 1)], [b._full(k) for k in range(K + 1)]
    out = [op(A[0], B[0])]
    for k in range(1, K + 1):
        n = a.counts[k]
        acc = op(A[0], _s(B[k], n)) + op(_s(A[k], n), B[0])
        for i in range(1, k):
            t = op(_s(A[i], n), _s(B[k - i], n))
            acc = acc + (t.sum(0) if a.collapsed and k == K else t)
        out.append(acc)
    return Jet(out, a.collapsed, a.counts)


def _vdim(dim: int) -> int:
    return dim + 1 if dim >= 0 else dim


def _cat(tensors, dim=0):
    jets = [t for t in tensors if _is_jet(t)]
    ref = jets[0]
    for j in jets[1:]:
        _check_pair(ref, j)
    out = []
    for k in range(ref.order + 1):
        parts = []
        for t in tensors:
            if _is_jet(t):
                parts.append(t._full(k))
            elif k == 0:
                parts.append(t)
            else:
                shape = t.shape if not ref._has_v(k) else (ref._full(k).shape[0],) + t.shape
                parts.append(t.new_zeros(shape))
        if ref._has_v(k):
            vmax = max(p.shape[0] for p in parts)
            parts = [p.expand((vmax,) + p.shape[1:]) for p in parts]
            out.append(torch.cat(parts, dim=_vdim(dim)))
        else:
            out.append(torch.cat(parts, dim=dim))
    return Jet(out, ref.collapsed, ref.counts)


def _stack(tensors, dim=0):
    return _cat([_unsqueeze(t, dim) if _is_jet(t) else t.unsqueeze(dim) for t in tensors], dim=dim)


def _getitem(x, idx):
    if not isinstance(idx, tuple):
        idx = (idx,)
    if any(_is_jet(i) for i in idx):
        raise UnsupportedDerivative("Taylor-mode jets: indexing with a jet is not supported")
    return x._map(lambda c: c[idx], lambda c: c[(slice(None),) + idx])


def _unsqueeze(x, dim):
    if dim < 0:
        dim = dim + x.ndim + 1
    return x._map(lambda c: c.unsqueeze(dim), lambda c: c.unsqueeze(dim + 1))


def _reshape(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
        shape = tuple(shape[0])
    return x._map(lambda c: c.reshape(shape), lambda c: c.reshape((c.shape[0],) + tuple(shape)))


def _sum(x, dim=None, keepdim=False, dtype=None):
    if dim is None:
        raise UnsupportedDerivative("Taylor-mode jets: sum over all elements (no dim) mixes points; give dim")
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    if len(dims) == 1 and dims[0] % x.ndim == x.ndim - 1:  # sum over the last axis keeps sparsity
        n_last = x.shape[-1]

        def last(c):
            if c is None or not isinstance(c, OneHot):  # a broadcast last axis counts n_last times
                return None if c is None else (c if c.shape[-1] == n_last else c.expand(
                    *c.shape[:-1], n_last)).sum(-1, keepdim=keepdim)
            sc = c.scale if isinstance(c.scale, torch.Tensor) else torch.full(
                c.index.shape, float(c.scale), dtype=c.dtype, device=c.index.device)
            sc = sc.expand(c.index.shape)
            return sc[..., None] if keepdim else sc
        return Jet([x.coeffs[0].sum(-1, keepdim=keepdim)] + [last(c) for c in x.coeffs[1:]], x.collapsed, x.counts)
    vd = tuple(_vdim(d) for d in dims)
    return x._map(lambda c: c.sum(dims, keepdim=keepdim), lambda c: c.sum(vd, keepdim=keepdim))


def _mean(x, dim=None, keepdim=False, dtype=None):
    if dim is None:
        raise UnsupportedDerivative("Taylor-mode jets: mean over all elements (no dim) mixes points; give dim")
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    n = math.prod(x.shape[d] for d in dims)
    return _mul(_sum(x, dim, keepdim), 1.0 / n)


def _prod(x, dim, keepdim=False, dtype=None):
    n = x.shape[dim]
    out = _getitem(x, (slice(None),) * (dim % x.ndim) + (slice(0, 1),))
    for i in range(1, n):
        out = _mul(out, _getitem(x, (slice(None),) * (dim % x.ndim) + (slice(i, i + 1),)))
    if not keepdim:
        out = _reshape(out, tuple(s for j, s in enumerate(out.shape) if j != dim % x.ndim))
    return out


def _to(a, *args, **kwargs):
    """``tensor.to(jet)`` (dtype and device of the jet) or ``jet.to(dtype/device)``."""
    args = tuple((x.device, x.dtype) if _is_jet(x) else x for x in args)
    if args and isinstance(args[0], tuple):
        args = args[0] + args[1:]
    if not _is_jet(a):
        return a.to(*args, **kwargs)
    return a._map(lambda c: c.to(*args, **kwargs))


def _gelu(x, approximate="none"):
    if approximate == "tanh":
        c = math.sqrt(2 / math.pi)
        inner = _mul(_add(x, _mul(_mul(_mul(x, x), x), 0.044715)), c)
        return _mul(_mul(x, 0.5), _add(compose(inner, _tanh_derivs(inner.primal, x.order)), 1.0))
    if approximate != "none":
        raise UnsupportedDerivative(f"Taylor-mode jets: gelu approximate={approximate!r} is not supported")
    return _mul(x, compose(x, _ndtr_derivs(x.primal, x.order)))


def _silu(x, inplace=False):
    return _mul(x, compose(x, _sigmoid_derivs(x.primal, x.order)))


def _softplus(x, beta=1.0, threshold=20.0):
    return compose(x, _softplus_derivs(float(beta), float(threshold))(x.primal, x.order))


def _identity(x, *a, **k):
    return x


def _sigmoid(x, *a, **k):
    return compose(x, _sigmoid_derivs(x.primal, x.order))


def _rsub(a, b, alpha=1):  # torch.rsub(a, b) = b - alpha * a
    return _sub(b, _mul(a, alpha))


def _where(cond, a, b):
    """``torch.where(cond, a, b)`` with jets among ``a``/``b`` (``cond`` a plain boolean tensor)."""
    if _is_jet(cond):
        raise UnsupportedDerivative("Taylor-mode jets: torch.where with a jet condition is not supported")
    cond, a, b = _grow_all(cond, a, b)
    ref = a if _is_jet(a) else b
    if _is_jet(a) and _is_jet(b):
        _check_pair(a, b)
    S = tuple(ref.shape)
    cond = cond.expand(S) if isinstance(cond, torch.Tensor) else torch.as_tensor(cond, device=ref.device)
    out = []
    for k in range(ref.order + 1):
        ca = a.coeffs[k] if _is_jet(a) else (a if k == 0 else None)
        cb = b.coeffs[k] if _is_jet(b) else (b if k == 0 else None)
        if k and ca is None and cb is None:
            out.append(None)
            continue
        if k:
            n = ref.counts[k]
            ca = _expand_coeff(_s(ca, n), S, ref._has_v(k)) if ca is not None else None
            cb = _expand_coeff(_s(cb, n), S, ref._has_v(k)) if cb is not None else None
            ca = torch.zeros_like(cb) if ca is None else ca
            cb = torch.zeros_like(ca) if cb is None else cb
        out.append(torch.where(cond, ca, cb))
    return Jet(out, ref.collapsed, ref.counts)


def _expand(x, *sizes):
    """``jet.expand(*sizes)``: the value and every coefficient broadcast to the new shape (views)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, torch.Size)):
        sizes = tuple(sizes[0])
    return _grow(x, tuple(x.primal.expand(*sizes).shape))


def _tanh(x, *a, **k):
    if a or k:
        raise UnsupportedDerivative(f"Taylor-mode jets: tanh with extra arguments {a} {k} is not supported")
    return compose(x, _tanh_taylor(x.primal, x.order), prescaled=True)


def _like(fn):
    """Constructors "like" a jet give plain constants shaped like its value."""
    return lambda x, *a, **k: fn(x.primal if _is_jet(x) else x, *a, **k)


def _neg(a):
    return _mul(a, -1.0)


#: handler -> the names it serves in ``torch``, ``torch.Tensor`` and ``torch.nn.functional``. Dispatch
#: (``__torch_function__``) is on the function *object* found under each name, never on
#: ``func.__name__`` (so e.g. ``F.dropout`` cannot be mistaken for another op and silently skipped).
_TABLE: list[tuple[Callable, tuple[str, ...]]] = [
    (_add, ("add", "__add__", "__iadd__")), (lambda a, b: _add(b, a), ("__radd__",)),
    (_sub, ("sub", "subtract", "__sub__", "__isub__")), (lambda a, b: _sub(b, a), ("__rsub__",)),
    (_rsub, ("rsub",)),
    (_mul, ("mul", "multiply", "__mul__", "__imul__")), (lambda a, b: _mul(b, a), ("__rmul__",)),
    (_div, ("div", "divide", "true_divide", "__truediv__", "__itruediv__")),
    (lambda a, b: _div(b, a), ("__rtruediv__",)),
    (_neg, ("neg", "negative", "__neg__")), (_pow, ("pow", "__pow__")), (_square, ("square",)),
    (_reciprocal, ("reciprocal",)),
    (_matmul, ("matmul", "mm", "__matmul__")), (lambda a, b: _matmul(b, a), ("__rmatmul__",)),
    (_getitem, ("__getitem__",)), (_linear, ("linear",)), (_cat, ("cat", "concat", "concatenate")),
    (_stack, ("stack",)), (_unsqueeze, ("unsqueeze",)), (_reshape, ("reshape", "view")),
    (_sum, ("sum",)), (_mean, ("mean",)), (_prod, ("prod",)),
    (_gelu, ("gelu",)), (_silu, ("silu",)), (_softplus, ("softplus",)), (_sigmoid, ("sigmoid",)),
    (_identity, ("contiguous", "clone")), (_expand, ("expand",)), (_to, ("to",)), (_tanh, ("tanh",)),
] + [(_elementwise(n), (n,)) for n in ("sin", "cos", "exp", "log", "relu", "sqrt", "rsqrt")] + [
    (_like(getattr(torch, n)), (n,)) for n in ("ones_like", "zeros_like", "full_like", "empty_like",
                                               "rand_like", "randn_like")]

_HANDLERS: dict[Callable, Callable] = {}
_HANDLER_NAMES: set[str] = set()
for _handler, _names in _TABLE:
    for _n in _names:
        _HANDLER_NAMES.add(_n)
        for _ns in (torch, torch.Tensor, F):
            _f = getattr(_ns, _n, None)
            if _f is not None:
                _HANDLERS.setdefault(_f, _handler)
_HANDLER_NAMES.add("where")
_HANDLERS[torch.where] = _where
_HANDLERS[torch.Tensor.where] = lambda x, cond, y: _where(cond, x, y)  # x.where(cond, y)
