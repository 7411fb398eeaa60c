"""``pde show RUN.h5 [--json]``: problem, settings, per-term losses and weights, warnings, final metrics, time
taken, device."""

from __future__ import annotations

import datetime
import json

import numpy as np


def add_command(subparsers) -> None:
    p = subparsers.add_parser("show", help="summarise a run file", description=__doc__)
    p.add_argument("run", help="run file (.h5)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=handler)


def _duration(prov: dict, wall: float | None) -> float | None:
    try:
        a = datetime.datetime.fromisoformat(prov["start_time"])
        b = datetime.datetime.fromisoformat(prov["end_time"])
        return (b - a).total_seconds()
    except (KeyError, TypeError, ValueError):
        return wall


def summary(path) -> dict:
    from ..diagnostics import term_summary
    from ..store import read_run

    r = read_run(path, weights=False)
    cfg, prov, hist = r["config"], r["provenance"], r["history"]
    prob = cfg.get("problem") if isinstance(cfg.get("problem"), dict) else {"name": cfg.get("problem")}
    wall = r.get("wall_time")
    if wall is None and len(hist.get("wall_time", [])):
        wall = float(hist["wall_time"][-1])
    last = {k: float(v[-1]) for k, v in hist.items() if k.startswith("loss") and len(v)}
    return {"file": str(path), "kind": r.get("kind", "pinn"), "status": r["status"], "step": r["step"],
            "message": r["message"], "dataset": cfg.get("dataset"),
            "problem": prob.get("name"), "params": prob.get("params", {}),
            "model": (r["model"] or {}).get("architecture") or cfg.get("model"),
            "sampler": cfg.get("sampler"), "engine": cfg.get("engine"), "settings": cfg.get("settings"),
            "recipe": cfg.get("recipe"), "seed": cfg.get("seed", prov.get("seed")),
            "device": prov.get("device", cfg.get("device")),
            "device_name": prov.get("device_name"), "dtype": prov.get("dtype", cfg.get("dtype")),
            "wall_time_s": wall, "elapsed_s": _duration(prov, wall), "start_time": prov.get("start_time"),
            "end_time": prov.get("end_time"), "final_losses": last, "metrics": r["metrics"],
            "snapshots": len(r["snapshots"]), "versions": {k: prov.get(k) for k in ("pdekit", "torch", "numpy", "h5py")
                                                           if k in prov},
            "git_commit": prov.get("git_commit"), "schema_version": r["schema_version"],
            "unknowns": _unknowns(hist, prob.get("params", {})), "data": cfg.get("data") or [],
            "terms": term_summary(hist), "warnings": list(r.get("warnings") or [])}


def _unknowns(hist: dict, params: dict) -> dict:
    """The unknown parameters' latest values (from the history, so also for checkpoints) and true values."""
    from ..unknowns import MARK

    out = {}
    for k, v in hist.items():
        if k.startswith("param/") and len(v):
            name = k[6:]
            decl = (params.get(name) or {}).get(MARK, {}) if isinstance(params.get(name), dict) else {}
            out[name] = {"value": float(v[-1]), "true": decl.get("true")}
    return out


def _term_lines(terms: dict) -> list[str]:
    """One line per loss term: its loss at the start, middle and end of the history, its minimum, final weight."""
    if not terms:
        return []
    width = max(len(n) for n in terms)
    lines = ["terms    loss at start / middle / end of the history, min" +
             (", final weight" if any(t["weight"] is not None for t in terms.values()) else "")]
    for name, t in terms.items():
        w = f"  weight {t['weight']:.3g}" if t["weight"] is not None else ""
        lines.append(f"  {name:<{width}}  {t['start']:.2e} / {t['middle']:.2e} / {t['end']:.2e}  min {t['min']:.2e}"
                     f"{w}")
    return lines


def _short(d) -> str:
    if not isinstance(d, dict):
        return str(d)
    return ", ".join(f"{k}={v}" for k, v in d.items() if not isinstance(v, (dict, list)) or len(str(v)) < 40)


def describe_model(arch) -> str:
    """``MLP width=64, depth=4, ...``; wrappers as ``OutputTransform(satisfies ic) of MLP ...``."""
    if not isinstance(arch, dict):
        return str(arch)
    text = f"{arch.get('type', '?')}  {_short(arch.get('options', {}))}".rstrip()
    if isinstance(arch.get("inner"), dict):
        extra = f" (satisfies {', '.join(arch['satisfies'])})" if arch.get("satisfies") else ""
        text = f"{arch.get('type', '?')}{extra} of {describe_model(arch['inner'])}"
    return text


def handler(args) -> int:
    s = summary(args.run)
    if args.json:
        print(json.dumps(s, indent=2, default=lambda v: v.tolist() if isinstance(v, np.ndarray) else str(v)))
        return 0
    model = s["model"] or {}
    lines = [
        f"run      {s['file']}  ({s['kind']} run, schema {s['schema_version']})",
        f"status   {s['status']} at step {s['step']}" + (f": {s['message']}" if s["message"] else ""),
    ]
    if s["kind"] == "operator":  # operator runs: a dataset instead of a problem, no sampler or engine
        lines.append(f"dataset  {s['dataset']}")
    else:
        lines.append(f"problem  {s['problem']}  {_short(s['params'])}")
        if s["unknowns"]:
            lines.append("unknowns " + ", ".join(
                f"{n}={u['value']:.6g}" + (f" (true {u['true']:.6g}, relative error "
                                           f"{100 * abs(u['value'] - u['true']) / abs(u['true']):.3g} %)"
                                           if u["true"] else "") for n, u in s["unknowns"].items()))
        for d in s["data"]:
            what = "_".join(d["derivative"]) if d.get("derivative") else ",".join(d.get("fields", []))
            n = f"{d['subset']} of {d['n_points']}" if d.get("subset") else f"{d['n_points']}"
            lines.append(f"data     {d['name']}: {what} at {n} points, noise {d.get('noise', 0):g}, "
                         f"weight {d.get('weight', 1):g}")
    lines.append(f"model    {describe_model(model)}")
    if s["recipe"]:
        rec = s["recipe"]
        opts = ", ".join(f"{k}={v}" for k, v in (rec.get("options") or {}).items())
        lines.append(f"recipe   {rec.get('name')}" + (f" ({opts})" if opts else "") + ": " +
                     "; ".join(rec.get("rules") or []))
    lines += [f"{name:<8} {_short(s[name])}" for name in ("sampler", "engine") if s[name] is not None]
    st = s["settings"] or {}
    if st:
        keys = ("steps", "lbfgs_steps", "lr", "lr_schedule", "checkpoint_every")
        lines.append("settings " + ", ".join(f"{k}={st[k]}" for k in keys if k in st))
    lines.append(f"device   {s['device']} ({s['device_name']}), {s['dtype']}, seed {s['seed']}")
    if s["wall_time_s"] is not None:
        lines.append(f"time     {s['wall_time_s']:.1f} s training" +
                     (f", {s['elapsed_s']:.1f} s elapsed" if s["elapsed_s"] is not None else ""))
    if s["final_losses"]:
        lines.append("losses   " + ", ".join(f"{k}={v:.3e}" for k, v in s["final_losses"].items()))
    lines += _term_lines(s["terms"])
    lines += [f"warning  {w.removeprefix('warning: ')}" for w in s["warnings"]]
    if s["metrics"]:
        from ..metrics import per_field

        lines.append("metrics  " + ", ".join(f"{k}={v:.3e}" if isinstance(v, float) else f"{k}={v}"
                                             for k, v in s["metrics"].items() if "/" not in str(k)))
        for f, fm in per_field(s["metrics"]).items():
            lines.append(f"  {f:7s}" + ", ".join(f"{k}={v:.3e}" for k, v in fm.items()))
    lines.append("versions " + ", ".join(f"{k} {v}" for k, v in s["versions"].items()) +
                 (f", commit {s['git_commit'][:12]}" if s["git_commit"] else ""))
    print("\n".join(lines))
    return 0
