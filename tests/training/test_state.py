"""Training state helpers: standing BatchNorm statistics and the learning-rate schedule."""

import torch

from digitgan.models import build_generator, one_hot, sample_noise
from digitgan.training.state import learning_rate_scale, standing_statistics
from tests.conftest import tiny_config


def _batch_norms(module: torch.nn.Module) -> list[torch.nn.modules.batchnorm._BatchNorm]:
    return [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def test_standing_statistics_are_the_generators_own():
    torch.manual_seed(0)
    config = tiny_config(steps=1)
    generator = build_generator(config.model).eval()
    first = _batch_norms(generator)[0]
    with torch.no_grad():  # statistics that do not belong to these weights, as copied from the training G
        first.running_mean.fill_(5.0)
        first.running_var.fill_(9.0)
    rng_before = torch.get_rng_state()
    standing = standing_statistics(generator, config, batches=8, batch_size=64, seed=1)
    assert torch.equal(torch.get_rng_state(), rng_before), "the training RNG streams are untouched"
    assert float(first.running_mean[0]) == 5.0, "the original generator keeps its buffers"
    # The first BatchNorm's running mean is the mean of its input over fresh noise and classes.
    seen: list[torch.Tensor] = []
    norm = _batch_norms(standing)[0]
    hook = norm.register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0]))
    rng = torch.Generator().manual_seed(2)
    with torch.no_grad():
        z = sample_noise(2048, config.model, rng, torch.device("cpu"))
        standing(z, one_hot(torch.randint(0, 10, (2048,), generator=rng), 10))
    hook.remove()
    dims = [0] + list(range(2, seen[0].dim()))
    measured = seen[0].mean(dims)
    scale = seen[0].std(dims).clamp_min(1e-3)
    assert torch.all((norm.running_mean - measured).abs() / scale < 0.2)
    assert standing_statistics(generator, config, batches=0) is generator


def test_learning_rate_halves_after_the_fast_phase():
    config = tiny_config(steps=1, lr_decay_after=1000, lr_half_life=500)
    assert learning_rate_scale(config, 0) == 1.0
    assert learning_rate_scale(config, 1000) == 1.0
    assert learning_rate_scale(config, 1500) == 0.5
    assert abs(learning_rate_scale(config, 2250) - 0.5 ** 2.5) < 1e-12
    assert learning_rate_scale(tiny_config(steps=1), 10**9) == 1.0
