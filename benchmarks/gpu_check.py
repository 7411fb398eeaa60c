"""Every GPU measurement still owed, in one go (at most ``--budget`` seconds, default 480), one report.

    python benchmarks/gpu_check.py [--out DIR] [--budget 480] [--only STAGE ...] [--dry-run]

Stages (each a subprocess with its own time limit, so a slow one cannot eat the others' time;
the limit is also cut to what is left of the budget):

* ``env``: torch, CUDA and device name.
* ``step_speed_eager``: ``benchmarks/step_speed.py``, DeepXDE's canonical Burgers against pdekit eager
  (DeepXDE skipped, and said so, if it is not installed).
* ``step_speed_compiled``, ``step_speed_graphs``: the same with pdekit compiled, and compiled with CUDA graphs
  (``reduce-overhead``), each its own stage (compilation is slow; one cannot starve the other).
* ``flop_rate``: ``benchmarks/flop_rate.py`` at 65536 points, eager and compiled.
* ``stde_1e5``, ``stde_1e6``: ``benchmarks/stde_inseparable.py``, inseparable Poisson at d = 1e5 / 1e6, a few
  hundred steps (training step rate apart from setup and evaluation; a small evaluation set).
* ``lbfgs``: :class:`~pde.training.lbfgs.DeviceLBFGS` against strong-Wolfe L-BFGS (``_gpu_stages.py lbfgs``).
* ``operators_darcy``: operator epoch time, ``benchmarks/operators_darcy.py`` (FNO, MgNO).
* ``sync_pairs``: every engine x sampler pair for a few steps, host synchronisations inside the loop
  (``_gpu_stages.py sync-pairs``, under ``torch.cuda.set_sync_debug_mode``).

Writes ``DIR/gpu_check.md`` and ``DIR/gpu_check.json`` (DIR: ``--out``, else ``$OUT`` if set, else
``./gpu_check``), plus each stage's stdout/stderr. Each stage's JSON lines (the benchmarks print their
results as JSON lines) are collected into the report. On a machine without CUDA it prints that there is
no GPU and exits 0 (``--dry-run`` lists the stages and their commands without running them, anywhere).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable


def stages(have_deepxde: bool) -> list[dict]:
    """The stages in order: ``name``, ``cmd`` (argv), ``timeout`` (s), ``what``."""
    b = lambda name: str(HERE / name)  # noqa: E731
    dx = [] if have_deepxde else ["--skip-deepxde"]
    return [
        {"name": "env", "timeout": 15, "what": "torch, CUDA and device",
         "cmd": [PY, "-c", "import json, torch; print(json.dumps({'torch': torch.__version__, "
                 "'cuda': torch.version.cuda, 'device': torch.cuda.get_device_name(0), "
                 "'capability': list(torch.cuda.get_device_capability(0))}))"]},
        {"name": "step_speed_eager", "timeout": 55,
         "what": "ms per Adam step, DeepXDE canonical Burgers vs pdekit eager" + ("" if have_deepxde else
                                                                                  " (DeepXDE not installed)"),
         "cmd": [PY, b("step_speed.py"), "--device", "cuda", "--adam-steps", "1000", "--lbfgs-steps", "200",
                 "--every", "500", "--variants", "eager", *dx]},
        {"name": "step_speed_compiled", "timeout": 70, "what": "ms per Adam step, pdekit compiled (torch.compile)",
         "cmd": [PY, b("step_speed.py"), "--device", "cuda", "--adam-steps", "1000", "--lbfgs-steps", "200",
                 "--every", "500", "--variants", "compiled", "--skip-deepxde"]},
        {"name": "step_speed_graphs", "timeout": 70,
         "what": "ms per Adam step, pdekit compiled with CUDA graphs (reduce-overhead)",
         "cmd": [PY, b("step_speed.py"), "--device", "cuda", "--adam-steps", "1000", "--lbfgs-steps", "200",
                 "--every", "500", "--variants", "compiled-graphs", "--skip-deepxde"]},
        {"name": "flop_rate", "timeout": 50, "what": "achieved FLOP rate at 65536 points against the matmul peak",
         "cmd": [PY, b("flop_rate.py"), "--device", "cuda", "--points", "65536", "--variants", "eager,compiled",
                 "--steps", "20"]},
        {"name": "stde_1e5", "timeout": 40, "what": "STDE inseparable Poisson, d = 1e5, 300 steps",
         "cmd": [PY, b("stde_inseparable.py"), "--problem", "poisson", "--dim", "100000", "--steps", "300",
                 "--device", "cuda", "--quiet", "--eval-points", "1000"]},
        {"name": "stde_1e6", "timeout": 55, "what": "STDE inseparable Poisson, d = 1e6, 200 steps",
         "cmd": [PY, b("stde_inseparable.py"), "--problem", "poisson", "--dim", "1000000", "--steps", "200",
                 "--device", "cuda", "--quiet", "--eval-points", "200"]},
        {"name": "lbfgs", "timeout": 35, "what": "DeviceLBFGS vs strong-Wolfe L-BFGS (Burgers, 300 + 300)",
         "cmd": [PY, b("_gpu_stages.py"), "lbfgs", "--device", "cuda", "--adam-steps", "300", "--lbfgs-steps", "300"]},
        {"name": "operators_darcy", "timeout": 40, "what": "operator epoch time (Darcy, FNO and MgNO)",
         "cmd": [PY, b("operators_darcy.py"), "--resolution", "29", "--stride", "3", "--samples", "250", "--n-test",
                 "50", "--epochs", "10", "--device", "cuda", "--models", "fno", "mgno", "--quiet"]},
        {"name": "sync_pairs", "timeout": 45, "what": "every engine x sampler pair: no host sync inside the loop",
         "cmd": [PY, b("_gpu_stages.py"), "sync-pairs", "--device", "cuda", "--steps", "6"]},
    ]


def _json_lines(text: str) -> list:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def run_stage(st: dict, limit: float, outdir: Path) -> dict:
    t0 = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    # own process group: on timeout the whole tree (e.g. step_speed's DeepXDE child) is killed
    p = subprocess.Popen(st["cmd"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        so, se = p.communicate(timeout=limit)
        rc, status = p.returncode, "ok" if p.returncode == 0 else "failed"
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        so, se = p.communicate()
        rc, status = None, "timeout"
    (outdir / f"{st['name']}.stdout").write_text(so)
    (outdir / f"{st['name']}.stderr").write_text(se)
    res = {"name": st["name"], "what": st["what"], "status": status, "returncode": rc, "limit_s": round(limit, 1),
           "seconds": round(time.perf_counter() - t0, 1), "results": _json_lines(so),
           "command": " ".join(st["cmd"])}
    if status != "ok":
        res["stderr_tail"] = se[-1500:]
    if st["name"] == "sync_pairs":
        pairs = [r for r in res["results"] if "engine" in r]
        res["pairs_ok"] = sum(bool(r.get("ok")) for r in pairs)
        res["pairs_failed"] = [f"{r['engine']} x {r['sampler']}" for r in pairs if not r.get("ok")]
    return res


def markdown(report: dict) -> str:
    lines = [f"# GPU check ({report['device']}, {report['started']})", "",
             f"Budget {report['budget_s']} s, used {report['seconds']} s.", "",
             "| stage | status | s (limit) | what |", "|---|---|---|---|"]
    for r in report["stages"]:
        lines.append(f"| {r['name']} | {r['status']} | {r['seconds']} ({r['limit_s']}) | {r['what']} |")
    for r in report["stages"]:
        lines += ["", f"## {r['name']}", "", f"`{r['command']}`", ""]
        if r["name"] == "sync_pairs" and "pairs_ok" in r:
            lines.append(f"Pairs without an in-loop sync: {r['pairs_ok']}; failed: "
                         f"{', '.join(r['pairs_failed']) or 'none'}")
            lines.append("")
        for j in r["results"]:
            lines.append(f"    {json.dumps(j)[:2000]}")
        if r.get("stderr_tail"):
            lines += ["", "stderr (tail):", "", *("    " + s for s in r["stderr_tail"].splitlines()[-20:])]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="report directory (default: $OUT if set, else ./gpu_check)")
    ap.add_argument("--budget", type=float, default=480.0, help="wall-clock seconds for all stages together")
    ap.add_argument("--only", nargs="+", default=None, help="run only these stages")
    ap.add_argument("--dry-run", action="store_true", help="list the stages and their commands; run nothing")
    args = ap.parse_args(argv)
    if args.budget <= 0:
        ap.error(f"--budget must be > 0 seconds, got {args.budget}")
    have_dx = importlib.util.find_spec("deepxde") is not None
    todo = stages(have_dx)
    names = [s["name"] for s in todo]
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            ap.error(f"unknown stage(s) {', '.join(unknown)}; allowed: {', '.join(names)}")
        todo = [s for s in todo if s["name"] in args.only]
    if args.dry_run:
        total = sum(s["timeout"] for s in todo)
        print(f"{len(todo)} stages, limits adding up to {total} s (budget {args.budget:g} s):")
        for s in todo:
            print(f"{s['name']} [{s['timeout']} s]: {' '.join(s['cmd'])}")
        return 0
    import torch

    if not torch.cuda.is_available():
        print("no GPU: CUDA is not available on this machine; nothing to check (exit 0)")
        return 0
    outdir = Path(args.out or os.environ.get("OUT") or "gpu_check")
    outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    report = {"device": torch.cuda.get_device_name(0), "host": platform.node(), "budget_s": args.budget,
              "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "stages": []}
    for st in todo:
        left = args.budget - (time.perf_counter() - t0) - 5  # 5 s kept for the report
        if left < 5:
            report["stages"].append({"name": st["name"], "what": st["what"], "status": "skipped (budget spent)",
                                     "returncode": None, "limit_s": 0, "seconds": 0, "results": [],
                                     "command": " ".join(st["cmd"])})
            continue
        r = run_stage(st, min(st["timeout"], left), outdir)
        print(f"{r['name']}: {r['status']} in {r['seconds']} s", flush=True)
        report["stages"].append(r)
        report["seconds"] = round(time.perf_counter() - t0, 1)
        (outdir / "gpu_check.json").write_text(json.dumps(report, indent=1))  # partial report after each stage
    report["seconds"] = round(time.perf_counter() - t0, 1)
    (outdir / "gpu_check.json").write_text(json.dumps(report, indent=1))
    (outdir / "gpu_check.md").write_text(markdown(report))
    print(f"report: {outdir / 'gpu_check.md'} and {outdir / 'gpu_check.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
