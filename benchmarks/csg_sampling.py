"""Sampling speed and accuracy on the square minus four disks (issue 16); prints one JSON line.

Usage: python benchmarks/csg_sampling.py [N]   (default N = 1_000_000)

Times ``sample_interior(N)`` (float32, uniform and Sobol) and ``sample_boundary(N)`` (float64) on the CPU,
best of 5 after one warm-up (which also measures the acceptance rates), and reports the largest distance
of a boundary point to its piece of the boundary and whether any interior point falls outside.
"""

import json
import sys
import time

import torch

from pde import Box, Disk
from pde.csg import signed_distance


def plate():
    d = Box([0, 0], [1, 1])
    for c in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]:
        d = d - Disk(c, 0.1)
    return d


def best_of(fn, repeats=5):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main(n: int = 1_000_000):
    dom = plate()
    g = torch.Generator().manual_seed(0)
    t_uniform, x = best_of(lambda: dom.sample_interior(n, generator=g))
    t_sobol, xs = best_of(lambda: dom.sample_interior(n, method="sobol", generator=g))
    t_boundary, (xb, _) = best_of(lambda: dom.sample_boundary(n, generator=g, dtype=torch.float64))
    dist = torch.stack([signed_distance(leaf, xb).abs() for leaf, _ in dom.leaves]).amin(0)
    out = {"n": n, "threads": torch.get_num_threads(), "interior_uniform_s": round(t_uniform, 4),
           "interior_sobol_s": round(t_sobol, 4), "boundary_float64_s": round(t_boundary, 4),
           "boundary_max_distance": float(dist.max()),
           "interior_outside": int((~dom.inside(x)).sum() + (~dom.inside(xs)).sum())}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
