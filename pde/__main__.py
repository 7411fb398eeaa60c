"""``python -m pde ...``, and so ``torchrun --nproc-per-node N -m pde solve ...``: the ``pde`` command line."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
