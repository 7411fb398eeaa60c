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
from problems._holes import CENTRES

GHIA_Y = [1.0, 0.9766, 0.9688, 0.9609, 0.9531, 0.8516, 0.7344, 0.6172, 0.5, 0.4531, 0.2813, 0.1719, 0.1016,
          0.0703, 0.0625, 0.0547, 0.0]
GHIA_U = [1.0, 0.84123, 0.78871, 0.73722, 0.68717, 0.23151, 0.00332, -0.13641, -0.20581, -0.21090, -0.15662,
          -0.10150, -0.06434, -0.04775, -0.04192, -0.03717, 0.0]
GHIA_X = [1.0, 0.9688, 0.9609, 0.9531, 0.9453, 0.9063, 0.8594, 0.8047, 0.5, 0.2344, 0.2266, 0.1563, 0.0938,
          0.0781, 0.0703, 0.0625, 0.0]
GHIA_V = [0.0, -0.05906, -0.07391, -0.08864, -0.10313, -0.16914, -0.22445, -0.24533, 0.05454, 0.17527, 0.17507,
          0.16077, 0.12317, 0.10890, 0.10091, 0.09233, 0.0]


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
