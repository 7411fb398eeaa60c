"""Reference solvers of issue 16, checked and timed on the CPU; prints JSON lines.

Usage: python benchmarks/systems_references.py
- lid-driven cavity (Re = 100): Newton time per grid and the largest deviation from Ghia, Ghia & Shin (1982);
- FEM Poisson on the square minus 4 disks: nodal RMS error against a manufactured solution per mesh size;
- Gray-Scott: difference between resolutions (self-convergence).
"""

import json
import time

import numpy as np

from problems import solve_cavity, solve_gray_scott
from problems._ghia import GHIA_U, GHIA_V, GHIA_X, GHIA_Y
from problems._holes import CENTRES


def cavity():
    for n in (64, 128, 256):
        t = time.perf_counter()
        s = solve_cavity(100.0, n)
        dt = time.perf_counter() - t
        u = np.interp(GHIA_Y, s["y"], s["u"][n // 2])
        v = np.interp(GHIA_X, s["x"], s["v"][:, n // 2])
        print(json.dumps({"cavity_n": n, "seconds": round(dt, 2),
                          "max_du_ghia": round(float(np.abs(u - GHIA_U).max()), 5),
                          "max_dv_ghia": round(float(np.abs(v - GHIA_V).max()), 5),
                          "u_min": round(float(u.min()), 5), "v_min": round(float(v.min()), 5)}))


def fem():
    try:
        from problems._fem_poisson import solve_poisson_fem
    except ImportError:
        print(json.dumps({"fem": "skipped: install the fem extra"}))
        return

    def exact(x, y):
        return np.sin(np.pi * x) * np.sin(np.pi * y) + x * y

    def source(x, y):
        return 2 * np.pi ** 2 * np.sin(np.pi * x) * np.sin(np.pi * y)

    for order in (1, 2):
        for h in (0.04, 0.02, 0.01):
            t = time.perf_counter()
            pts, u = solve_poisson_fem(source, exact, CENTRES, 0.1, h, order)
            dt = time.perf_counter() - t
            err = float(np.sqrt(np.mean((u - exact(pts[:, 0], pts[:, 1])) ** 2)))
            print(json.dumps({"fem_order": order, "h": h, "vertices": len(pts), "seconds": round(dt, 2),
                              "rms_error": float(f"{err:.3e}")}))


def gray_scott():
    t = time.perf_counter()
    x, tt, u, v = solve_gray_scott(0.01, 0.005, 1.0, 1.0)
    dt = time.perf_counter() - t
    x2, t2, u2, v2 = solve_gray_scott(0.01, 0.005, 1.0, 1.0, n=512, substeps=40)
    x3, t3, u3, v3 = solve_gray_scott(0.01, 0.005, 1.0, 1.0, n=64, substeps=4)
    print(json.dumps({"gray_scott_seconds": round(dt, 2),
                      "diff_256_vs_512": float(f"{max(np.abs(u2[::2] - u).max(), np.abs(v2[::2] - v).max()):.2e}"),
                      "diff_64_vs_256": float(f"{max(np.abs(u[::4] - u3).max(), np.abs(v[::4] - v3).max()):.2e}")}))


if __name__ == "__main__":
    cavity()
    fem()
    gray_scott()
