"""The generic-problem suite (issue 17): every problem of problems/suite.py solved under one time budget.

Each problem runs in its own child process (``--one NAME``, which prints one JSON line), so ``--jobs 2``
runs two at once, each with ``OMP_NUM_THREADS=1`` (with ``--jobs 1`` the child gets 2 threads)::

    python benchmarks/generic_suite.py [--problems wave,convection,...] [--time 5m] [--recipe generic|none|skip]
                                       [--seed 0] [--jobs 1] [--out DIR] [--peer deepxde] [--quiet]

A child runs ``pde.solve(SUITE[name](), seed=SEED, time_budget=TIME, out=DIR/NAME-RECIPE.h5, quiet=True,
recipe=RECIPE)``; ``--recipe none`` is pde.solve's plain defaults (today's baseline) under the same budget.
``--peer deepxde`` also runs ``benchmarks/_deepxde_suite.py NAME --time SECONDS --seed S`` per problem.
Writes the markdown table to stdout and DIR/suite.md, and every row with the command line and machine
information (torch version, threads, float32 2048x2048 matmul GFLOP/s) to DIR/suite.json. A failed row says
why; the others go on.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER_SCRIPT = HERE / "_deepxde_suite.py"


def solve_one(name: str, recipe: str, seconds: float, seed: int, out_dir: Path) -> dict:
    """Solve suite problem ``name`` in this process; the row as a dict."""
    import pde
    from problems.suite import SUITE

    out = out_dir / f"{name}-{recipe}.h5"
    kw = {}
    if "recipe" in inspect.signature(pde.solve).parameters:
        kw["recipe"] = None if recipe == "none" else recipe
    elif recipe != "none":
        raise RuntimeError(f"pde.solve has no recipe= keyword yet: cannot run recipe {recipe!r}")
    start = time.perf_counter()
    run = pde.solve(SUITE[name](), seed=seed, time_budget=seconds, out=str(out), quiet=True, **kw)
    wall = time.perf_counter() - start
    metrics = run.metrics or {}
    per_field = {k.split("/", 1)[1]: float(v) for k, v in metrics.items() if k.startswith("rel_l2/")}
    rules = (run.config.get("recipe") or {}).get("rules", [])
    return {"problem": name, "recipe": recipe, "status": "ok", "rel_l2": float(metrics["rel_l2"]),
            "rel_l2_fields": per_field if len(per_field) > 1 else {}, "wall_s": round(wall, 2),
            "train_s": run.wall_time, "steps": int(run.history["step"][-1]) if len(run.history.get("step", [])) else 0,
            "rules": list(rules), "file": str(out)}


def _child(cmd: list[str], threads: int, timeout: float) -> dict:
    """Run ``cmd`` with ``threads`` BLAS/OpenMP threads; its last stdout line parsed as JSON."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), env.get("PYTHONPATH", "")])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"status": "failed", "error": f"no answer within {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith("{")]
    if proc.returncode == 0 and lines:
        try:
            row = json.loads(lines[-1])
            if "status" not in row:  # the peer's line: a result, no status of its own
                row["status"] = "ok" if isinstance(row.get("rel_l2"), (int, float)) else "failed"
            return row
        except json.JSONDecodeError:
            pass
    tail = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    return {"status": "failed", "error": f"exit {proc.returncode}: {tail}"}


def run_row(name: str, args, seconds: float, threads: int) -> list[dict]:
    """The rows of one problem: pdekit's, then the peer's if asked."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", name, "--recipe", args.recipe,
           "--time", str(seconds), "--seed", str(args.seed), "--out", str(args.out)]
    rows = [] if args.recipe == "skip" else \
        [{"problem": name, "recipe": args.recipe, **_child(cmd, threads, timeout=3 * seconds + 300)}]
    if args.peer == "deepxde":
        if not PEER_SCRIPT.exists():
            rows.append({"problem": name, "recipe": "deepxde", "status": "skipped",
                         "error": f"{PEER_SCRIPT.name} is missing"})
        else:
            peer = [sys.executable, str(PEER_SCRIPT), name, "--time", str(seconds), "--seed", str(args.seed)]
            rows.append({"problem": name, "recipe": "deepxde", **_child(peer, threads, timeout=3 * seconds + 300)})
    return rows


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """float32 ``n x n`` matmul rate of this process (GFLOP/s, best of ``repeats``)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def machine_info(threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    return {"torch": torch.__version__, "python": platform.python_version(), "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "threads_per_run": threads,
            "matmul_gflops_f32_2048": round(matmul_gflops(), 1)}


def _fmt(x) -> str:
    return f"{x:.2e}" if isinstance(x, float) else ("" if x is None else str(x))


def markdown(rows: list[dict]) -> str:
    head = "| problem | recipe | rel_l2 | per field | wall (s) | rules |\n|---|---|---|---|---|---|\n"
    lines = []
    for r in rows:
        if r.get("status") != "ok":
            err = str(r.get("error", "")).replace("|", "/")
            lines.append(f"| {r['problem']} | {r['recipe']} | {r.get('status', 'failed')} | {err} | | |")
            continue
        fields = ", ".join(f"{f} {v:.2e}" for f, v in (r.get("rel_l2_fields") or {}).items())
        rules = "; ".join(r.get("rules") or [])
        lines.append(f"| {r['problem']} | {r['recipe']} | {_fmt(r['rel_l2'])} | {fields} | "
                     f"{r.get('wall_s', 0):.1f} | {rules} |")
    return head + "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", default=None, help="comma-separated suite names (default: all eight)")
    ap.add_argument("--time", default="5m", help="training time budget per problem (90s, 5m, ...)")
    ap.add_argument("--recipe", default="generic",
                    help="generic (with options: generic:causal=true,...), none (plain settings), or skip (only the "
                         "peer's rows, with --peer)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1, help="problems run at once (each with 1 thread if > 1)")
    ap.add_argument("--out", type=Path, default=Path("generic_suite_out"))
    ap.add_argument("--peer", choices=["deepxde"], default=None)
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ap.add_argument("--rows", metavar="SUITE.JSON", help="print the table of the rows of one or more earlier runs")
    ap.add_argument("--one", metavar="NAME", help=argparse.SUPPRESS)  # child mode: one problem, one JSON line
    args = ap.parse_args(argv)
    if args.rows:  # the table of earlier runs' suite.json files (comma-separated), rows in problem order
        rows = [r for f in args.rows.split(",") for r in json.loads(Path(f).read_text())["rows"]]
        for r in rows:
            r["status"] = r.get("status") or ("ok" if isinstance(r.get("rel_l2"), (int, float)) else "failed")
        order = {}
        rows.sort(key=lambda r: order.setdefault(r["problem"], len(order)))
        print(markdown(rows), end="")
        return

    sys.path[:0] = [str(ROOT)]
    from pde.training.stopping import parse_duration
    from problems.suite import SUITE

    seconds = parse_duration(args.time)
    args.out = args.out.resolve()  # the children run in the repository root
    args.out.mkdir(parents=True, exist_ok=True)
    if args.one:
        try:
            row = solve_one(args.one, args.recipe, seconds, args.seed, args.out)
        except Exception as err:  # reported as a failed row by the parent
            row = {"problem": args.one, "recipe": args.recipe, "status": "failed",
                   "error": f"{type(err).__name__}: {err}"}
        print(json.dumps(row))
        return

    names = list(SUITE) if args.problems is None else [n.strip() for n in args.problems.split(",") if n.strip()]
    unknown = [n for n in names if n not in SUITE]
    if unknown:
        ap.error(f"unknown problem(s) {', '.join(unknown)}; the suite has {', '.join(SUITE)}")
    if args.jobs < 1:
        ap.error(f"--jobs must be >= 1, got {args.jobs}")
    threads = 1 if args.jobs > 1 else 2
    info = machine_info(threads)
    if not args.quiet:
        print(f"suite: {len(names)} problems, {seconds:g} s each, recipe {args.recipe}, {args.jobs} at once, "
              f"matmul {info['matmul_gflops_f32_2048']} GFLOP/s", file=sys.stderr)

    def task(name):
        if not args.quiet:
            print(f"  {name}: started", file=sys.stderr)
        rows = run_row(name, args, seconds, threads)
        if not args.quiet:
            for r in rows:
                what = f"rel_l2 {r['rel_l2']:.3e} in {r.get('wall_s', 0):.0f} s" if r.get("status") == "ok" \
                    else f"{r.get('status')}: {r.get('error')}"
                print(f"  {name} [{r['recipe']}]: {what}", file=sys.stderr)
        return rows

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = [r for rs in pool.map(task, names) for r in rs]
    table = markdown(rows)
    print(table, end="")
    (args.out / "suite.md").write_text(table)
    record = {"command": " ".join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)]),
              "time_budget_s": seconds, "machine": info, "rows": rows}
    (args.out / "suite.json").write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
