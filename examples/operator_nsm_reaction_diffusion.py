"""Neural Spectral Methods on reaction-diffusion u_t = nu u_xx + rho u (1 - u): map an initial condition to the
space-time solution, trained on the spectral residual alone (no solver data), checked against a spectral solver.

    python examples/operator_nsm_reaction_diffusion.py
"""

from __future__ import annotations

from operators import train_nsm_rd


def main(steps: int = 400, quiet: bool = False) -> dict:
    res = train_nsm_rd(nu=0.01, rho=5.0, steps=steps, n_test=16, quiet=quiet)
    print(f"NSM reaction-diffusion: relative L2 {res['test_rel_l2']:.2e} after {steps} steps "
          f"({res['seconds']:.0f} s, no solution data)")
    return res


if __name__ == "__main__":
    main()
