"""Neural Spectral Methods: learn the periodic Poisson solution operator from the spectral residual alone.

    python examples/operator_nsm_poisson.py
"""

from __future__ import annotations

from operators.nsm import train_nsm_poisson


def main(steps: int = 300, quiet: bool = False) -> dict:
    res = train_nsm_poisson(n_modes=8, steps=steps, batch=16, lr=3e-2, quiet=quiet)
    print(f"NSM periodic Poisson: relative L2 {res['test_rel_l2']:.2e} after {steps} steps (no solution data)")
    return res


if __name__ == "__main__":
    main()
