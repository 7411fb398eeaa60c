"""pdekit's engine: domains, derivatives, PINN models, training, result store, metrics and the CLI."""

from .collocation import AbstractSampler, RandomSampler
from .conditions import AbstractCondition, Dirichlet, Initial, Neumann, Periodic
from .derivatives import AbstractDerivativeEngine, AbstractDerivatives, Autograd
from .domain import AbstractDomain, Ball, Box, Disk, Interval, SpaceTime, TimeInterval
from .problem import AbstractProblem, Reference, define

__version__ = "0.1.0"

__all__ = [
    "AbstractCondition", "AbstractDerivativeEngine", "AbstractDerivatives", "AbstractDomain", "AbstractProblem",
    "AbstractSampler", "Autograd", "Ball", "Box", "Dirichlet", "Disk", "Initial", "Interval", "Neumann", "Periodic",
    "RandomSampler", "Reference", "SpaceTime", "TimeInterval", "define", "__version__",
]
