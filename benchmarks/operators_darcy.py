"""Darcy benchmark: pdekit's FNO and MgNO and neuraloperator's FNO on the same data, epochs and device; JSON to stdout.

Full setting of the issue (85x85, 1000 train / 100 test, GPU)::

    python benchmarks/operators_darcy.py --resolution 85 --samples 1100 --n-test 100 --epochs 500 --device cuda \
        --models fno neuralop mgno

Small CPU setting used for the numbers in BENCHMARKS.md when no GPU is available::

    OMP_NUM_THREADS=1 python benchmarks/operators_darcy.py --resolution 29 --stride 3 --samples 250 --n-test 50 \
        --epochs 30 --device cpu --models fno neuralop

The dataset is generated once (cached at --data) and every model trains through ``operators.train`` on it:
the same split (first ``samples - n_test`` train, last ``n_test`` test), batch size, epochs, Adam with
weight decay 1e-4, per-step cosine schedule, relative L2 loss, input/output standardisation (``Normalized``),
seed (``--seed``: initialisation and batch order) and device. Only the network differs.

``neuralop`` is ``neuralop.models.FNO`` (neuraloperator 2.0, ``pip install neuraloperator``), configured to be
the same network as pdekit's ``fno`` entry here as far as the library allows:

* Modes. pdekit's ``n_modes=(12, 12)`` keeps frequencies -12..11 on the first axis (12 non-negative and 12
  negative) and 0..11 on the ``rfft`` half-spectrum axis. neuraloperator 2.0's ``n_modes`` counts the *total*
  modes per axis, centred on zero after an ``fftshift`` (``n//2`` negative, the rest non-negative), and on
  the last (half-spectrum) axis keeps ``n_modes[-1] // 2 + 1`` (``SpectralConv.n_modes`` setter in
  ``neuralop/layers/spectral_convolution.py``). So ``n_modes=(24, 22)`` keeps exactly the same set,
  -12..11 x 0..11: weight tensors ``(32, 32, 24, 12)`` complex in both libraries.
* Width 32, 4 Fourier layers, linear 1x1 skip per layer (``fno_skip="linear"``), no channel MLP inside the
  blocks (``use_channel_mlp=False``; pdekit has none), GELU, no normalisation.
* Lifting: one linear 1x1 layer from ``in_channels + 2`` grid channels (``lifting_channel_ratio=0``);
  neuraloperator's default is a 2-layer MLP. Projection: 32 -> 128 -> GELU -> 1 (``projection_channel_ratio=4``).
* Positional grid: both append the two coordinates in [0, 1] (pdekit includes the endpoint 1,
  neuraloperator's grid stops one spacing short of it).
* Domain padding. pdekit pads ``round(0.1 n)`` zeros after the grid on each axis, neuraloperator pads
  ``round(p n)`` on *both* sides. The neuralop entry pads ``ceil(round(0.1 n) / 2)`` per side: the smallest
  symmetric padding at least as large as pdekit's (85 -> 93 in both; 29 -> 32 in pdekit, 33 in neuralop).
  Padding half as much per side (0.05) would give 31 at n = 29, a prime FFT size that slows neuralop's steps
  by about 1.25x against 33 on a CPU (one thread), so it is not used; ``--padding`` changes both (0.2 gives 35
  in both at n = 29).
* Remaining differences, left at each library's own choice: neuraloperator applies its activation twice
  between Fourier layers when ``use_channel_mlp=False`` (``GELU(GELU(v))``, ``FNOBlocks``), puts the per-layer
  bias on the spectral convolution rather than the skip (same count), stores complex weights as complex
  tensors, initialises them ``N(0, 2 / (in + out))`` with ``fft_norm="forward"`` (pdekit: uniform
  ``[0, 1/(in*out))``, ``rfftn``'s default norm).

Parameter counts are real numbers: a complex weight counts twice (``operators.train``'s own ``parameters``
metric counts ``numel``, which is half for complex tensors), so both FNOs have 2,368,001. When pdekit's
``fno`` and ``neuralop`` both run, ``ratios`` gives pdekit / neuralop for time and error from the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import torch
from torch import nn

import operators


def real_parameters(model: nn.Module) -> int:
    """Number of real parameters; a complex entry counts as two."""
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())


class NeuralopFNO(nn.Module):
    """``neuralop.models.FNO`` as a pdekit operator ``(B, C_in, *S) -> (B, C_out, *S)``.

    A thin adapter that calls the library model unchanged. It does two things: the run file records the
    model as ``NeuralopFNO`` rather than ``FNO`` (pdekit's registered name), and :meth:`state_dict` drops the
    ``"_metadata"`` entry (the constructor's keyword arguments, not a tensor) that neuraloperator's
    ``BaseModel`` adds, so the run file stores plain arrays only; the options are in its config instead.
    """

    def __init__(self, **options):
        super().__init__()
        try:
            from neuralop.models import FNO
        except ImportError as e:  # optional benchmark dependency, named in the message
            raise ImportError("the 'neuralop' model needs neuraloperator: pip install neuraloperator "
                              "(or pip install 'pdekit[bench]')") from e
        self.fno = FNO(**options)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fno(x)

    def state_dict(self, *args, **kwargs):
        state = super().state_dict(*args, **kwargs)
        state.pop("_metadata", None)
        return state


def neuralop_options(in_channels: int, out_channels: int, resolution: int, modes: int, padding: float) -> dict:
    """neuralop FNO keyword arguments matching pdekit's ``FNO(n_modes=(modes, modes), 32, 4 layers, padding)``."""
    per_side = math.ceil(round(padding * resolution) / 2)
    return {"n_modes": (2 * modes, 2 * modes - 2), "in_channels": in_channels, "out_channels": out_channels,
            "hidden_channels": 32, "n_layers": 4, "lifting_channel_ratio": 0, "projection_channel_ratio": 4,
            "positional_embedding": "grid", "use_channel_mlp": False, "fno_skip": "linear",
            "domain_padding": per_side / resolution if per_side else None}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--resolution", type=int, default=29)
    p.add_argument("--stride", type=int, default=3)
    p.add_argument("--samples", type=int, default=250)
    p.add_argument("--n-test", type=int, default=50)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--padding", type=float, default=0.1, help="FNO domain padding (fraction of the grid, total)")
    p.add_argument("--seed", type=int, default=0, help="initialisation and batch order (the dataset uses seed 0)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--models", nargs="+", default=["fno", "mgno"], choices=["fno", "mgno", "neuralop"])
    p.add_argument("--data", default=None)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    data = a.data or f"darcy_{a.resolution}_s{a.stride}_{a.samples}.h5"
    t0 = time.perf_counter()
    if not os.path.exists(data):
        operators.generate_dataset("darcy", a.samples, a.resolution, data, seed=0, quiet=a.quiet, stride=a.stride)
    summary = {"dataset": data, "generate_seconds": time.perf_counter() - t0, "resolution": a.resolution,
               "n_train": a.samples - a.n_test, "n_test": a.n_test, "epochs": a.epochs, "device": a.device,
               "seed": a.seed}
    modes = min(12, a.resolution // 2)
    options = {"fno": {"n_modes": modes, "hidden_channels": 32, "padding": a.padding},
               "mgno": {"hidden_channels": 24, "n_layers": 5, "levels": [[1, 1]] * 4},
               "neuralop": neuralop_options(1, 1, a.resolution, modes, a.padding)}
    for name in a.models:
        model = name
        if name == "neuralop":
            torch.manual_seed(a.seed)  # operators.train seeds before building a registered model; same here
            model = NeuralopFNO(**options[name])
        res = operators.train(data, model=model, out=f"run_darcy_{name}.h5", epochs=a.epochs, device=a.device,
                              quiet=a.quiet, batch_size=a.batch_size, lr=a.lr, n_test=a.n_test,
                              n_train=a.samples - a.n_test, seed=a.seed, model_options=options.get(name))
        summary[name] = {k: res.metrics[k] for k in ("test_l2", "test_h1", "train_seconds",
                                                     "inference_seconds_per_sample", "solver_seconds_per_sample")}
        summary[name]["parameters"] = real_parameters(res.model)
        summary[name]["epoch_seconds"] = res.metrics["train_seconds"] / a.epochs
        print(json.dumps({name: summary[name]}), flush=True)
    if "fno" in summary and "neuralop" in summary:
        pk, nl = summary["fno"], summary["neuralop"]
        summary["ratios"] = {f"{k}_pdekit_over_neuralop": pk[k] / nl[k]
                             for k in ("train_seconds", "inference_seconds_per_sample", "test_l2", "test_h1")}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
