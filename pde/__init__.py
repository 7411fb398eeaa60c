"""pdekit's engine: domains, derivatives, PINN models, training, result store, metrics and the CLI.

    from problems import Burgers
    from pde import solve
    run = solve(Burgers(), device="cpu", out="burgers.h5")
    print(run.metrics["rel_l2"])
"""

__version__ = "0.1.0"

from .collocation import AbstractSampler, RandomSampler
from .conditions import AbstractCondition, Dirichlet, Initial, Neumann, Periodic, Robin
from .csg import Difference, Intersection, Union
from .derivatives import AbstractDerivativeEngine, AbstractDerivatives, Autograd
from .domain import AbstractDomain, Ball, Box, Disk, Interval, SpaceTime, TimeInterval
from .models import MLP, PINN, ModifiedMLP
from .observations import Observation
from .polygon import Polygon
from .problem import AbstractProblem, Reference, define
from .solve import Run, evaluate, solve
from .training import Settings, resume
from .unknowns import Unknown


def load(path, device=None, *, model=True):
    """Load a stored run of any kind (configuration, history, metrics, model); never unpickles.

    model: True (rebuild it from the file), False (none), or your own ``nn.Module`` to load the stored
    weights into, strictly (custom modules, models with added submodules or learnable extra parameters).
    """
    from .store import load as _load

    return _load(path, device=device, model=model)


__all__ = [
    "AbstractCondition", "AbstractDerivativeEngine", "AbstractDerivatives", "AbstractDomain", "AbstractProblem",
    "AbstractSampler", "Autograd", "Ball", "Box", "Difference", "Dirichlet", "Disk", "Initial", "Intersection",
    "Interval", "MLP", "ModifiedMLP", "Neumann", "Observation", "PINN", "Periodic", "Polygon", "RandomSampler",
    "Reference", "Robin", "Run", "Settings", "SpaceTime", "TimeInterval", "Union", "Unknown",
    "define", "evaluate", "load", "resume", "solve", "__version__",
]
