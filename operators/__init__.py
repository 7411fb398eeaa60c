"""Neural operators for pdekit: datasets from classical solvers, FNO / MgNO / Neural Spectral Methods, training.

Public API::

    generate_dataset(name, samples, resolution, out, seed=0, quiet=False, **options)   # darcy, burgers, navier_stokes
    train(dataset_path, model="fno" | "mgno" | nn.Module, out=None, epochs=100, device=None, quiet=False, **options)
    validate(run_path)
    FNO, SpectralConv, MgNO, MgConv, NSM (Neural Spectral Methods), LpLoss, H1Loss
    NSMChebFourier, RDNSM, train_nsm_rd, solve_rd_reference   # NSM on periodic reaction-diffusion (nsm_rd)
"""

from .datasets import DATASETS, generate_dataset, load_pairs
from .losses import H1Loss, LpLoss
from .models.fno import FNO, SpectralConv
from .models.mgno import MgConv, MgNO
from .models.nsm import NSM, NSMChebFourier
from .nsm_rd import RDNSM, solve_rd_reference, train_nsm_rd
from .registry import MODELS, build_model, register_model
from .training import Normalized, TrainResult, evaluate, train, validate

__all__ = ["DATASETS", "generate_dataset", "load_pairs", "LpLoss", "H1Loss", "FNO", "SpectralConv", "MgNO",
           "MgConv", "NSM", "NSMChebFourier", "RDNSM", "train_nsm_rd", "solve_rd_reference", "MODELS", "build_model",
           "register_model", "Normalized", "TrainResult", "evaluate", "train", "validate"]
