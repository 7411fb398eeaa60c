"""Operator model shapes, resolution invariance, boundary handling and spectral utilities."""

import math

import pytest
import torch

from operators import FNO, MgNO
from operators.models.nsm import NSM, to_coef, to_grid
from operators.nsm import poisson_sources, spectral_norm2


@pytest.mark.parametrize("n_modes,size", [((6,), (20,)), ((4, 5), (16, 13)), ((3, 3, 2), (8, 9, 7))])
def test_fno_shapes_any_dimension(n_modes, size):
    net = FNO(2, 3, n_modes, hidden_channels=8, n_layers=2, padding=0.1)
    out = net(torch.randn(4, 2, *size))
    assert out.shape == (4, 3, *size) and out.dtype == torch.float32


def test_fno_resolution_invariance_same_weights():
    torch.manual_seed(0)
    net = FNO(1, 1, (6, 6), hidden_channels=12, n_layers=3, positional=False)

    def field(n):
        x = torch.arange(n) / n
        X, Y = torch.meshgrid(x, x, indexing="ij")
        return (torch.sin(2 * math.pi * X) + 0.5 * torch.cos(4 * math.pi * Y))[None, None]

    with torch.no_grad():
        coarse, fine = net(field(32)), net(field(64))
    rel = (fine[..., ::2, ::2] - coarse).norm() / coarse.norm()
    assert rel < 2e-2, rel


def test_spectral_conv_truncates_modes():
    # a pure high-frequency input above the retained modes is annihilated by the spectral path
    from operators.models.fno import SpectralConv

    conv = SpectralConv(1, 1, (4,))
    x = torch.cos(2 * math.pi * 10 * torch.arange(64) / 64)[None, None]
    assert conv(x).abs().max() < 1e-5
    low = torch.cos(2 * math.pi * 2 * torch.arange(64) / 64)[None, None]
    assert conv(low).abs().max() > 1e-4


@pytest.mark.parametrize("size", [(16, 16), (17, 17), (85, 85), (24, 20)])
def test_mgno_shapes(size):
    net = MgNO(2, 1, hidden_channels=6, n_layers=2, levels=[[1, 1], [1, 1], [1, 0]])
    assert net(torch.randn(3, 2, *size)).shape == (3, 1, *size)


def test_mgno_periodic_is_shift_equivariant_and_dirichlet_is_not():
    torch.manual_seed(0)
    x = torch.randn(1, 1, 32, 32)
    shift = 4  # a multiple of 2^(levels - 1): strided convolutions commute with it
    for mode, equivariant in (("circular", True), ("zeros", False)):
        net = MgNO(1, 1, hidden_channels=4, n_layers=2, levels=[[1, 1], [1, 1], [1, 0]], padding_mode=mode)
        with torch.no_grad():
            a = torch.roll(net(x), shift, dims=-1)
            b = net(torch.roll(x, shift, dims=-1))
        close = torch.allclose(a, b, atol=1e-5)
        assert close == equivariant, mode


def test_mgno_rejects_bad_padding():
    with pytest.raises(ValueError, match="padding_mode"):
        MgNO(padding_mode="reflect")


def test_nsm_coefficients_roundtrip_and_parseval():
    s = poisson_sources(3, 8, generator=torch.Generator().manual_seed(0))
    grid = to_grid(s, 32)
    assert torch.allclose(to_coef(grid, 8), s, atol=1e-6)
    l2 = grid.pow(2).mean(dim=(-2, -1)).squeeze(1)
    assert torch.allclose(spectral_norm2(s), l2, rtol=1e-5)


def test_nsm_shapes():
    net = NSM(1, 2, n_modes=8, hidden_channels=4, n_layers=2)
    out = net(poisson_sources(5, 8))
    assert out.shape == (5, 2, 16, 9) and out.dtype == torch.complex64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.gpu
def test_models_on_cuda():
    for net, x in ((FNO(1, 1, (4, 4)), torch.randn(2, 1, 16, 16)), (MgNO(1, 1, 4, 1), torch.randn(2, 1, 16, 16))):
        out = net.cuda()(x.cuda())
        assert out.is_cuda and out.dtype == torch.float32
