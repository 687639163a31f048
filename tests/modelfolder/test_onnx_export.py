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
    # the shipped model folder has a hand encoder: it is exported beside the generator
    encoder = onnx.load(str(tmp_path / "gen.hand-encoder.onnx"))
    assert [i.name for i in encoder.graph.input] == ["images", "label_vector"]
    assert {p.key: p.value for p in encoder.metadata_props}["z_dim"] == "64"
    assert str(tmp_path / "gen.hand-encoder.onnx") in result.stdout


def test_cli_refuses_a_wrong_output_name(tmp_path):
    result = run_cli("export-model", "--out", str(tmp_path / "gen.png"))
    assert result.returncode == 2 and "must end in .onnx" in result.stderr


def test_the_hand_encoder_exports_whole_and_with_int8_weights():
    """float32: onnxruntime gives PyTorch's z; int8 weights (the offline page's): a third of the bytes or less, z
    within a small fraction of the noise's scale, and the generator draws nearly the same digit from it."""
    from digitgan.drawing.hand import preprocess, read_image
    from digitgan.drawing.sampling import generate
    from digitgan.modelfolder.encoder import load_encoder
    from digitgan.modelfolder.folder import default_model_dir, load_generator
    from digitgan.modelfolder.onnx_export import encoder_onnx_bytes
    from tests.drawing.test_hand import DRAWN, digit_of

    encoder = load_encoder(default_model_dir())
    generator, config, _ = load_generator(default_model_dir())
    seen = np.stack([preprocess(read_image(path)) for path in DRAWN])
    images = (seen[:, None].astype(np.float32) / 127.5 - 1).astype(np.float32)
    labels = one_hot(torch.tensor([digit_of(path) for path in DRAWN]), 10)
    with torch.no_grad():
        expected = encoder(torch.from_numpy(images), labels).numpy()
    whole, small = encoder_onnx_bytes(encoder, {}), encoder_onnx_bytes(encoder, {}, int8_weights=True)
    assert len(small) < len(whole) / 3
    feeds = {"images": images, "label_vector": labels.numpy()}
    (z_whole,) = onnxruntime.InferenceSession(whole, providers=["CPUExecutionProvider"]).run(None, feeds)
    (z_small,) = onnxruntime.InferenceSession(small, providers=["CPUExecutionProvider"]).run(None, feeds)
    assert np.abs(z_whole - expected).max() <= 1e-4
    assert np.abs(z_small - expected).max() <= 0.1 and np.abs(z_small - expected).mean() <= 0.02
    drawn = [generate(generator, config, labels, z=torch.from_numpy(z)).astype(float) for z in (expected, z_small)]
    assert np.abs(drawn[0] - drawn[1]).mean() <= 3  # grey levels of 255
