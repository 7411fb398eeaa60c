"""Burgers (nu = 0.01/pi): pdekit's default setup against DeepXDE 1.15 (PyTorch backend) in one run.

The core issue's comparison: DeepXDE runs its canonical example in a child process (3x20 tanh,
2540 + 80 + 160 points, 15000 Adam steps at 1e-3, then L-BFGS), then pdekit runs ``pde solve burgers``'s
defaults and reports when it first reaches DeepXDE's final error. This is
``benchmarks/step_speed.py --variants defaults`` (add ``--compile`` for the compiled step too).

    python benchmarks/burgers_vs_deepxde.py [--adam-steps 15000] [--threads 2] [--every 250] [--compile]

Needs the ``bench`` extra (``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse

import step_speed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adam-steps", type=int, default=15000, help="DeepXDE Adam steps (canonical: 15000)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--every", type=int, default=250, help="pdekit error check interval (steps)")
    ap.add_argument("--compile", action="store_true", help="also run pdekit's defaults with the compiled step")
    args = ap.parse_args()
    variants = "defaults,defaults-compiled" if args.compile else "defaults"
    step_speed.main(["--adam-steps", str(args.adam_steps), "--threads", str(args.threads), "--every",
                     str(args.every), "--variants", variants])


if __name__ == "__main__":
    main()
