"""Figures of a run: prediction, reference, error, loss history per term, balance weights, the PDE residual over
the domain and sampler snapshots (matplotlib)."""

from __future__ import annotations

import os
import sys

import numpy as np

from .store import read_run

__all__ = ["plot_run"]


def _mpl():
    try:
        import matplotlib
    except ImportError:
        raise ValueError("plotting needs matplotlib; install it with: pip install 'pdekit[plot]'") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _field_panel(fig, ax, sol, values, title, names):
    if sol["axes"] and len(sol["shape"]) == 2:
        a, b = list(sol["axes"].values())
        img = values.reshape(sol["shape"])
        if sol.get("mask") is not None:
            img = np.where(sol["mask"].reshape(sol["shape"]), img, np.nan)
        if names[-1] == "t":  # time horizontal, as in the PINN literature
            pc = ax.pcolormesh(b, a, img, shading="auto", cmap="viridis")
            ax.set_xlabel(names[1])
            ax.set_ylabel(names[0])
        else:
            pc = ax.pcolormesh(a, b, img.T, shading="auto", cmap="viridis")
            ax.set_xlabel(names[0])
            ax.set_ylabel(names[1])
        fig.colorbar(pc, ax=ax)
    elif sol["points"].shape[1] == 1:
        ax.plot(sol["points"][:, 0], values)
        ax.set_xlabel(names[0])
    else:
        sc = ax.scatter(sol["points"][:, 0], sol["points"][:, 1], c=values, s=4, cmap="viridis")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        fig.colorbar(sc, ax=ax)
    ax.set_title(title)


def _unknowns_panel(ax, hist, keys, params):
    """Trajectories of the unknown parameters (history ``param/NAME``), with their true values dashed."""
    from .unknowns import MARK

    for k in keys:
        line, = ax.plot(hist["step"], hist[k], label=k[6:])
        decl = params.get(k[6:])
        true = decl.get(MARK, {}).get("true") if isinstance(decl, dict) else None
        if true is not None:
            ax.axhline(true, ls="--", lw=0.8, color=line.get_color())
    ax.set_xlabel("step")
    ax.legend(fontsize=7)


def _history_panel(ax, hist, prefix: str, log: bool):
    """Columns ``prefix*`` of the history over the steps (the total ``loss`` thicker), log scale if ``log``."""
    for k, v in hist.items():
        if k.startswith(prefix) and len(v) and np.all(np.isfinite(v)) and (not log or np.all(v > 0)):
            (ax.semilogy if log else ax.plot)(hist["step"], v, label=k, lw=1.5 if k == "loss" else 0.8)
    ax.set_xlabel("step")
    ax.legend(fontsize=7)


def _residual(path, run: dict, stream) -> dict | None:
    """``log10 |r|`` on the evaluation grid (:func:`pde.diagnostics.residual_image`), or None with a note on
    ``stream`` saying why not (not a PINN run, the model or problem cannot be rebuilt, not 1 or 2 coordinates)."""
    if run.get("kind", "pinn") != "pinn" or run.get("model") is None:
        return None
    try:
        from .diagnostics import residual_image
        from .store import load

        loaded = load(path, device="cpu")
        if loaded.problem is None:
            raise ValueError("its problem cannot be rebuilt from the file (not a registered problem or an importable "
                             "class)")
        return residual_image(loaded.problem, loaded.model, run["solution"])
    except Exception as e:  # a plot never fails for want of the residual: it says why and leaves the panel out
        print(f"note: no residual panel for {os.fspath(path)}: {type(e).__name__}: {e}", file=stream)
        return None


def _residual_panel(fig, ax, res):
    names, axes, img = res["names"], res["axes"], res["log10_abs"]
    if len(names) == 1:
        ax.plot(axes[0], img)
        ax.set_xlabel(names[0])
        ax.set_ylabel("log10 |r|")
        return
    if names[-1] == "t":  # time horizontal, as in the field panels
        pc = ax.pcolormesh(axes[1], axes[0], img, shading="auto", cmap="magma")
        ax.set_xlabel(names[1])
        ax.set_ylabel(names[0])
    else:
        pc = ax.pcolormesh(axes[0], axes[1], img.T, shading="auto", cmap="magma")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    fig.colorbar(pc, ax=ax, label="log10 |r|")


def plot_run(path: str | os.PathLike, out: str | os.PathLike, *, field: str | None = None, residual: bool = True,
             stream=None) -> str:
    """Write a figure of the run at ``path`` to ``out`` (any format matplotlib writes).

    Panels: the solution's prediction, reference and error (of ``field``, default the first), the loss history
    (total and per term), the balance weights over the steps (when the history records ``weight/TERM``), the
    unknown parameters, ``log10 |r|`` of the PDE residual on the evaluation grid (``residual=True``; needs the
    model and the problem rebuilt from the file and one or two coordinates, else a note on ``stream``, default
    stderr, and no panel) and the last sampler snapshot.
    """
    plt = _mpl()
    run = read_run(path, weights=False)
    sol, hist, snaps = run["solution"], run["history"], run["snapshots"]
    panels = []
    if sol is not None:
        fields = sol["fields"]
        i = 0 if field is None else fields.index(field) if field in fields else None
        if i is None:
            raise ValueError(f"unknown field {field!r}; the run's fields are {', '.join(fields)}")
        for key in ("prediction", "reference", "error"):
            if sol[key] is not None:
                panels.append(("field", key, sol[key][:, i], f"{key} {fields[i]}"))
    if hist.get("step") is not None and len(hist["step"]):
        panels.append(("history", None, None, "loss history"))
        if any(k.startswith("weight/") for k in hist):
            panels.append(("weights", None, None, "balance weights"))
    params = [k for k in hist if k.startswith("param/") and len(hist[k])]
    if params:
        panels.append(("unknowns", None, None, "unknown parameters"))
    res = _residual(path, run, stream or sys.stderr) if residual else None
    if res is not None:
        panels.append(("residual", None, None, "PDE residual log10 |r|"))
    if snaps:
        panels.append(("snapshot", None, None, f"collocation points, step {snaps[-1]['step']}"))
    if not panels:
        raise ValueError(f"{path}: nothing to plot (no solution, history or snapshots)")
    n = len(panels)
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.6 * rows), squeeze=False)
    names = sol["coordinates"] if sol is not None else ["x0", "x1"]
    for ax, (kind, _key, values, title) in zip(axes.flat, panels, strict=False):
        if kind == "field":
            _field_panel(fig, ax, sol, values, title, names)
        elif kind in ("history", "weights"):
            _history_panel(ax, hist, "loss" if kind == "history" else "weight/", log=True)
            ax.set_title(title)
        elif kind == "residual":
            _residual_panel(fig, ax, res)
            ax.set_title(title)
        elif kind == "unknowns":
            _unknowns_panel(ax, hist, params, (run["config"].get("problem") or {}).get("params") or {})
            ax.set_title(title)
        else:
            s = snaps[-1]
            p = s["points"].numpy()
            r = s["residual"].numpy()
            c = np.log10(np.maximum(r, 1e-30)) if np.all(np.isfinite(r)) else None
            if p.shape[1] >= 2:
                h, v = (1, 0) if names[-1] == "t" else (0, 1)  # same orientation as the field panels
                sc = ax.scatter(p[:, h], p[:, v], c=c, s=2)
                ax.set_xlabel(names[h] if len(names) > h else "")
                ax.set_ylabel(names[v] if len(names) > v else "")
            else:
                sc = ax.scatter(p[:, 0], np.zeros(len(p)), c=c, s=2)
            if c is not None:
                fig.colorbar(sc, ax=ax, label="log10 residual^2")
            ax.set_title(title)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return str(out)
