"""ONNX export: onnxruntime draws what PyTorch draws (max abs diff <= 1e-4) for every generator body and
conditioning the presets use, the autoencoders' decoders included, with one-hot and soft label vectors and a
dynamic batch; the file carries its metadata; the CLI exports the shipped model."""

import json

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from digitgan.config import load_preset, preset_names
from digitgan.modelfolder.onnx_export import onnx_bytes
from digitgan.models import build_generator, one_hot
from tests.conftest import run_cli


def randomised(preset):
    """The preset's generator with random weights and BatchNorm statistics (so folding errors would show)."""
    config = load_preset(preset)
    torch.manual_seed(0)
    generator = build_generator(config.model)
    for module in generator.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return generator.eval(), config


@pytest.mark.parametrize("preset", preset_names())
def test_onnxruntime_draws_what_pytorch_draws(preset):
    generator, config = randomised(preset)
    model = onnx_bytes(generator, config, {"preset": preset})
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    classes = config.model.num_classes
    rng = torch.Generator().manual_seed(1)
    for count in (1, 5):
        z = torch.randn(count, config.model.z_dim, generator=rng)
        one_hot_vectors = one_hot(torch.arange(count) % classes, classes)
        soft = torch.softmax(torch.randn(count, classes, generator=rng), dim=1)  # a mix between classes
        for label_vector in (one_hot_vectors, soft):
            with torch.no_grad():
                expected = generator(z, label_vector).numpy()
            (got,) = session.run(None, {"z": z.numpy(), "label_vector": label_vector.numpy()})
            assert got.shape == (count, 1, 28, 28)
            assert np.abs(got - expected).max() <= 1e-4, preset
    assert [i.name for i in session.get_inputs()] == ["z", "label_vector"]


def test_cli_exports_the_shipped_model_with_its_metadata(tmp_path):
    result = run_cli("export-model", "--format", "onnx", "--out", str(tmp_path / "gen.onnx"))
    assert result.returncode == 0, result.stderr
    model = onnx.load(str(tmp_path / "gen.onnx"))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["z_dim"] == "64" and props["noise"] == "normal" and props["classes"] == "10"
    assert json.loads(props["class_names"]) == [str(d) for d in range(10)] and props["opset"] == "17"
    evaluation = json.loads(props["evaluation"])
    assert 0.99 < evaluation["model"]["accuracy"] <= 1 and "recall" in evaluation["real_floor"]
    assert model.opset_import[0].version == 17
    session = onnxruntime.InferenceSession(str(tmp_path / "gen.onnx"), providers=["CPUExecutionProvider"])
    (images,) = session.run(None, {"z": np.zeros((3, 64), np.float32),
                                   "label_vector": np.eye(10, dtype=np.float32)[[7, 7, 1]]})
    assert images.shape == (3, 1, 28, 28) and images.min() >= -1 and images.max() <= 1


def test_cli_refuses_a_wrong_output_name(tmp_path):
    result = run_cli("export-model", "--out", str(tmp_path / "gen.png"))
    assert result.returncode == 2 and "must end in .onnx" in result.stderr
