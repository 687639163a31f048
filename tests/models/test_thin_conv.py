"""ThinConv2d gives nn.Conv2d's values and gradients on the matrix-product routes, and is a drop-in for it."""

import pytest
import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from digitgan.config import load_preset
from digitgan.models import build_generator, build_partner
from digitgan.models.thin_conv import ThinConv2d

CASES = [  # (in, out, kernel, stride, padding): the shapes our models build, and neighbours
    (1, 32, 4, 2, 1),   # D's first conv
    (1, 8, 3, 1, 1),
    (1, 5, 5, 2, 2),
    (16, 1, 3, 1, 1),   # G's output conv
    (7, 1, 5, 1, 2),
    (4, 1, 4, 1, 0),    # the Conv2d inside an even-kernel 'same' pair (padding done by ZeroPad2d)
]


def pair(in_channels, out_channels, kernel, stride, padding, bias=True):
    torch.manual_seed(0)
    reference = nn.Conv2d(in_channels, out_channels, kernel, stride, padding, bias=bias).double()
    thin = ThinConv2d(in_channels, out_channels, kernel, stride, padding, bias=bias).double()
    thin.load_state_dict(reference.state_dict())
    return reference, thin


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("channels_last", [True, False])
def test_values_and_gradients_match_conv2d(case, bias, channels_last):
    reference, thin = pair(*case, bias=bias)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(3, case[0], 11, 13, dtype=torch.double).contiguous(memory_format=fmt)
    x_ref, x_thin = x.clone().requires_grad_(), x.clone().requires_grad_()
    expected, got = reference(x_ref), thin(x_thin)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected)
    upstream = torch.randn_like(expected)
    (expected * upstream).sum().backward()
    (got * upstream).sum().backward()
    torch.testing.assert_close(x_thin.grad, x_ref.grad)
    torch.testing.assert_close(thin.weight.grad, reference.weight.grad)
    if bias:
        torch.testing.assert_close(thin.bias.grad, reference.bias.grad)


@pytest.mark.parametrize("case", [c for c in CASES if c[1] == 1])
def test_single_output_route_passes_gradcheck(case):
    _, thin = pair(*case)
    x = torch.randn(2, case[0], 6, 7, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda inp, w, b: ThinConv2d.forward(thin, inp), (x, thin.weight, thin.bias))


@pytest.mark.parametrize("case", [c for c in CASES if c[1] == 1])
@pytest.mark.parametrize("layout", [torch.channels_last, torch.contiguous_format])
def test_single_output_weight_gradient_is_laid_out_as_the_weight(case, layout):
    # DDP's gradient buckets copy the parameter's strides and warn at every step on a gradient laid out otherwise.
    _, thin = pair(*case)
    thin.to(memory_format=layout)
    thin(torch.randn(2, case[0], 6, 7, dtype=torch.double)).sum().backward()
    assert thin.weight.grad.stride() == thin.weight.stride()


def test_weight_gradient_only_and_input_without_gradient():
    # D's step on real images: the input needs no gradient, the weights do.
    reference, thin = pair(1, 32, 4, 2, 1)
    x = torch.randn(4, 1, 28, 28, dtype=torch.double)
    reference(x).square().sum().backward()
    thin(x).square().sum().backward()
    torch.testing.assert_close(thin.weight.grad, reference.weight.grad)


def test_wide_and_unusual_convs_fall_back_to_conv2d():
    for args, kwargs in [((8, 16, 3), {"padding": 1}), ((1, 4, 3), {"dilation": 2}), ((4, 1, 3), {"stride": 2}),
                         ((4, 1, (3, 5)), {"padding": 1})]:
        torch.manual_seed(0)
        reference = nn.Conv2d(*args, **kwargs)
        thin = ThinConv2d(*args, **kwargs)
        thin.load_state_dict(reference.state_dict())
        x = torch.randn(2, args[0], 12, 12)
        torch.testing.assert_close(thin(x), reference(x))


def test_state_dict_and_spectral_norm_are_those_of_conv2d():
    reference, thin = pair(1, 32, 4, 2, 1)
    assert list(thin.state_dict()) == list(reference.state_dict())
    normed = spectral_norm(ThinConv2d(1, 8, 4, 2, 1))
    x = torch.randn(2, 1, 28, 28, requires_grad=True)
    normed(x).sum().backward()  # the parametrized weight reaches the matrix-product route
    assert normed.parametrizations.weight.original.grad is not None
    expected = torch.nn.functional.conv2d(x, normed.weight, normed.bias, 2, 1)
    torch.testing.assert_close(normed(x), expected)


def test_default_model_uses_the_thin_routes_for_its_thin_convs():
    config = load_preset("fast").model
    thin = [m for net in (build_generator(config), build_partner(config)) for m in net.modules()
            if isinstance(m, ThinConv2d)]
    assert sorted((m.in_channels, m.out_channels) for m in thin) == [(1, 32), (16, 1), (32, 64)]


@pytest.mark.parametrize("case", [CASES[0], CASES[3]])
def test_under_cpu_autocast_values_and_gradients_are_conv2d_s_in_bf16(case):
    # cpu_amp trains under bf16 autocast: both routes must run there (the backward in the forward's precision) and
    # agree with nn.Conv2d under the same autocast to bf16 rounding; the weight's gradient stays float32.
    torch.manual_seed(0)
    reference = nn.Conv2d(*case)
    thin = ThinConv2d(*case)
    thin.load_state_dict(reference.state_dict())
    x = torch.randn(4, case[0], 14, 14)
    results = []
    for conv in (reference, thin):
        inputs = x.clone().requires_grad_()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = conv(inputs)
        assert out.dtype == torch.bfloat16
        (out.float() ** 2).sum().backward()
        assert conv.weight.grad.dtype == torch.float32 and inputs.grad.dtype == torch.float32
        results.append((out.float(), inputs.grad, conv.weight.grad, conv.bias.grad))
    for expected, got in zip(*results, strict=True):
        torch.testing.assert_close(got, expected, rtol=0.02, atol=0.02 * expected.abs().max().item())
