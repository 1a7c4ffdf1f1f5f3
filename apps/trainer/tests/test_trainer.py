import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from beanstalk_trainer.__main__ import main
from beanstalk_trainer.data import DataError, ImageSet, load
from beanstalk_trainer.models import AutoEncoder, Encoder
from beanstalk_trainer.train import TrainConfig, Trainer

REPO = Path(__file__).resolve().parents[3]


def run_onnx_in_node(model: Path, inputs: np.ndarray) -> np.ndarray:
    """Runs the exported model in onnxruntime-node, the runtime the platform serves it with."""
    script = (
        "const ort = require('onnxruntime-node');"
        "(async () => { const [model, shape, data] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const session = await ort.InferenceSession.create(model);"
        "const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(data), shape) });"
        "console.log(JSON.stringify(Array.from(out.features.data))); })();"
    )
    payload = json.dumps([str(model), list(inputs.shape), inputs.ravel().tolist()])
    done = subprocess.run(
        ["node", "-e", script], input=payload, capture_output=True, text=True, cwd=REPO / "packages" / "ml", check=True
    )
    return np.array(json.loads(done.stdout), dtype=np.float32).reshape(inputs.shape[0], -1)


def test_one_epoch_on_512_images_trains_and_exports(fashion_npz, tmp_path):
    out = tmp_path / "encoder"
    assert main(["pretrain", "--data", str(fashion_npz), "--out", str(out), "--epochs", "1", "--limit", "512"]) == 0
    sidecar = json.loads((out / "encoder.json").read_text())
    assert sidecar["input"] == {"name": "input", "layout": "NCHW", "dtype": "float32", "channels": 1, "height": 28, "width": 28}
    assert sidecar["output"] == {"name": "features", "dims": 128}
    assert sidecar["training"]["images"] == 512 and len(sidecar["training"]["lossCurve"]) == 1
    assert 0 < sidecar["normalisation"]["mean"][0] < 1
    model = onnx.load(str(out / "encoder.onnx"))
    onnx.checker.check_model(model)
    batch_dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param == "batch"  # dynamic batch axis


def test_exported_onnx_matches_pytorch_within_1e_4(fashion_npz, tmp_path):
    data = load(fashion_npz)
    trainer = Trainer(data, tmp_path, TrainConfig(epochs=1, limit=256))
    trainer.fit()
    from beanstalk_trainer.export import export_encoder

    onnx_path, _ = export_encoder(trainer, tmp_path, "test")
    inputs = trainer.normalise(torch.from_numpy(data.images[:5]).float() / 255.0)
    inputs = torch.cat([inputs, torch.linspace(-2, 2, 784).view(1, 1, 28, 28)]).numpy()
    expected = trainer.encoder().eval()(torch.from_numpy(inputs)).detach().numpy()
    actual = run_onnx_in_node(onnx_path, inputs)
    assert actual.shape == (6, 128)
    assert np.abs(actual - expected).max() < 1e-4


def test_training_is_deterministic_for_a_seed(fashion_npz, tmp_path):
    curves = []
    for run in ("a", "b"):
        trainer = Trainer(load(fashion_npz), tmp_path / run, TrainConfig(objective="ae", epochs=2, limit=256, seed=3))
        curves.append(trainer.fit())
    assert curves[0] == curves[1]
    assert curves[0][1] < curves[0][0]  # it learns


def test_resume_continues_from_the_checkpoint(fashion_npz, tmp_path):
    config = TrainConfig(objective="ae", epochs=2, limit=256, seed=5)
    straight = Trainer(load(fashion_npz), tmp_path / "straight", config).fit()
    first = Trainer(load(fashion_npz), tmp_path / "resumed", TrainConfig(objective="ae", epochs=1, limit=256, seed=5))
    first.fit()
    second = Trainer(load(fashion_npz), tmp_path / "resumed", config)
    assert second.resume()
    assert second.fit() == pytest.approx(straight, rel=1e-5)
    other = Trainer(load(fashion_npz), tmp_path / "resumed", TrainConfig(objective="ae", epochs=3, limit=256, dims=64))
    with pytest.raises(ValueError, match="trained with other dims"):
        other.resume()


def test_learning_rate_follows_one_cosine_over_the_run_resumed_or_not(fashion_npz, tmp_path):
    """4 epochs of 4 steps: the rate starts at lr and falls along one cosine to the last step,
    and a run stopped in its third epoch and resumed from its checkpoint uses the same rates."""
    config = TrainConfig(objective="ae", epochs=4, limit=256, batch_size=64, seed=7)

    def rates_of(trainer, stop_at=None):
        seen = []

        def progress(p):
            seen.append((p["epoch"], p["step"], p["learningRate"]))
            if (p["epoch"], p["step"]) == stop_at:
                raise KeyboardInterrupt

        trainer.progress = progress
        return seen

    straight = Trainer(load(fashion_npz), tmp_path / "straight", config)
    rates = rates_of(straight)
    straight.fit()
    total = 16
    expected = [config.lr * 0.5 * (1 + np.cos(np.pi * s / total)) for s in range(total)]
    assert [r for _, _, r in rates] == pytest.approx(expected, rel=1e-6)
    assert rates[12][2] > 0.1 * config.lr  # the last epoch still learns (0.15 lr at its start)

    interrupted = Trainer(load(fashion_npz), tmp_path / "resumed", config)
    rates_of(interrupted, stop_at=(3, 2))
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit()
    resumed = Trainer(load(fashion_npz), tmp_path / "resumed", config)
    assert resumed.resume() and resumed.epoch == 2
    later = rates_of(resumed)
    resumed.fit()
    assert [(e, s) for e, s, _ in later] == [(e, s) for e, s, _ in rates[8:]]
    assert [r for _, _, r in later] == pytest.approx([r for _, _, r in rates[8:]], rel=1e-6)


def test_supervised_reference_learns_and_exports_logits(fashion_npz, tmp_path):
    out = tmp_path / "supervised"
    code = main(["supervised", "--data", str(fashion_npz), "--eval", str(fashion_npz), "--out", str(out), "--epochs", "4", "--batch-size", "64"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy"] > 0.5  # ten classes: chance is 0.1
    sidecar = json.loads((out / "classifier.json").read_text())
    assert sidecar["format"] == "beanstalk-classifier/1" and sidecar["metrics"] == metrics
    assert (out / "encoder.onnx").exists()


def test_bad_input_names_the_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="bad.npz: not a readable .npz file"):
        load(bad)
    np.savez(tmp_path / "wrong.npz", pixels=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match="no `images` array"):
        load(tmp_path / "wrong.npz")
    np.savez(tmp_path / "float.npz", images=np.zeros((2, 28, 28), np.float32))
    with pytest.raises(DataError, match="must be uint8"):
        load(tmp_path / "float.npz")
    assert main(["pretrain", "--data", str(bad), "--out", str(tmp_path / "o")]) == 2


def test_encoder_shapes_follow_resnet_stages():
    encoder = Encoder(channels=3, size=32, widths=(8, 16, 32, 64), depths=(2, 2, 2, 2), dims=40)
    assert encoder(torch.zeros(3, 3, 32, 32)).shape == (3, 40)
    assert sum(len(stage) for stage in encoder.stages) == 8  # ResNet18's block layout
    auto = AutoEncoder(1, 28, (8, 16, 32, 64), (1, 1, 1, 1), 16)
    assert auto(torch.zeros(2, 1, 28, 28)).shape == (2, 1, 28, 28)


def test_simclr_learns_and_exports_for_gray_and_rgb(fashion_npz, tmp_path):
    gray = load(fashion_npz)
    trainer = Trainer(gray, tmp_path / "gray", TrainConfig(objective="simclr", epochs=2, limit=256, batch_size=64, seed=1))
    curve = trainer.fit()
    assert curve[1] < curve[0]  # two views find each other better than at first
    from beanstalk_trainer.export import export_encoder

    onnx_path, _ = export_encoder(trainer, tmp_path / "gray", "test")
    inputs = trainer.normalise(torch.from_numpy(gray.images[:3]).float() / 255.0).numpy()
    expected = trainer.encoder().eval()(torch.from_numpy(inputs)).detach().numpy()
    assert np.abs(run_onnx_in_node(onnx_path, inputs) - expected).max() < 1e-4
    # RGB photos at the platform's 64 x 64 input.
    rng = np.random.default_rng(0)
    rgb = ImageSet(rng.integers(0, 256, (96, 3, 64, 64), dtype=np.uint8), None, None, "rgb")
    trainer = Trainer(rgb, tmp_path / "rgb", TrainConfig(objective="simclr", epochs=1, batch_size=32))
    trainer.fit()
    assert trainer.encoder()(torch.zeros(2, 3, 64, 64)).shape == (2, 128)


def test_views_keep_shape_and_range():
    from beanstalk_trainer.views import nt_xent, random_view

    generator = torch.Generator().manual_seed(0)
    x = torch.rand(8, 3, 32, 32)
    view = random_view(x, generator)
    assert view.shape == x.shape and view.min() >= 0 and view.max() <= 1
    assert not torch.allclose(view, random_view(x, generator))  # random each time
    z = torch.randn(8, 16)
    # A view that is its partner's copy is easy to find; random partners are not.
    assert nt_xent(z, z, 0.2) < nt_xent(z, torch.randn(8, 16), 0.2)


def test_worker_pretrain_resumes_and_reports_progress(fashion_npz, tmp_path):
    from beanstalk_trainer import blobs
    from beanstalk_trainer.worker import Settings, pretrain

    images = load(fashion_npz).images[:128]
    buffer = tmp_path / "images.npy"
    np.save(buffer, images)
    store = tmp_path / "blobs"
    key = blobs.put(store, buffer.read_bytes())
    settings = Settings(blob_dir=store, work_dir=tmp_path / "work", threads=0)
    spec = {"runId": "run-1", "imagesBlobKey": key, "objective": "ae", "epochs": 1, "batchSize": 32}
    beats = []
    first = pretrain(settings, spec, beats.append, lambda line: None)
    assert first["resumedAfterEpoch"] == 0
    assert beats[-1]["epoch"] == 1 and beats[-1]["step"] == beats[-1]["steps"] == 4
    assert beats[-1]["etaSeconds"] == pytest.approx(0, abs=1e-6) and beats[0]["etaSeconds"] > 0
    # The same run asked for one more epoch: it continues from the first's checkpoint.
    second = pretrain(settings, {**spec, "epochs": 2}, beats.append, lambda line: None)
    assert second["resumedAfterEpoch"] == 1
    assert len(second["sidecar"]["training"]["lossCurve"]) == 2
    assert second["sidecar"]["training"]["lossCurve"][0] == first["sidecar"]["training"]["lossCurve"][0]
    onnx.checker.check_model(onnx.load(str(blobs.path_of(store, second["onnxBlobKey"]))))
    check = second["sidecar"]["check"]
    import base64

    features = np.frombuffer(base64.b64decode(check["features"]), "<f4").reshape(check["images"], -1)
    assert features.shape == (4, 128)


def test_worker_pretrain_refuses_too_few_images(tmp_path):
    from beanstalk_trainer import blobs
    from beanstalk_trainer.worker import MIN_IMAGES, Settings, pretrain

    path = tmp_path / "few.npy"
    np.save(path, np.zeros((MIN_IMAGES - 1, 1, 28, 28), np.uint8))
    key = blobs.put(tmp_path / "blobs", path.read_bytes())
    settings = Settings(blob_dir=tmp_path / "blobs", work_dir=tmp_path / "work", threads=0)
    with pytest.raises(DataError, match=f"needs at least {MIN_IMAGES}"):
        pretrain(settings, {"runId": "r", "imagesBlobKey": key, "epochs": 1}, print, print)


def knn_accuracy(references: np.ndarray, labels: np.ndarray, queries: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    """Cosine kNN, similarity-weighted vote: how the platform classifies."""
    refs = references / np.linalg.norm(references, axis=1, keepdims=True)
    qs = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    similarity = qs @ refs.T
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    votes = np.zeros((len(qs), int(labels.max()) + 1))
    for q in range(len(qs)):
        np.add.at(votes[q], labels[nearest[q]], similarity[q, nearest[q]])
    return float((votes.argmax(1) == truth).mean())


def test_encoder_read_back_from_its_onnx_file_gives_the_same_features():
    from beanstalk_trainer.finetune import load_onnx_encoder

    folder = REPO / "models" / "fashion-mnist-dae"
    sidecar = json.loads((folder / "encoder.json").read_text())
    encoder = load_onnx_encoder(folder / "encoder.onnx", sidecar)
    inputs = np.random.default_rng(0).normal(size=(4, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        ours = encoder(torch.from_numpy(inputs)).numpy()
    assert np.abs(ours - run_onnx_in_node(folder / "encoder.onnx", inputs)).max() < 1e-4
    no_architecture = {**sidecar, "training": {}}
    with pytest.raises(DataError, match="needs an encoder trained by beanstalk_trainer"):
        load_onnx_encoder(folder / "encoder.onnx", no_architecture)
    other = {**sidecar, "training": {"config": {**sidecar["training"]["config"], "depths": [2, 2, 2, 2]}}}
    with pytest.raises(DataError, match="convolutions"):
        load_onnx_encoder(folder / "encoder.onnx", other)


def test_finetune_learns_the_labels_keeps_the_frozen_stages_and_exports(fashion_npz, tmp_path):
    from beanstalk_trainer.finetune import load_onnx_encoder

    folder = REPO / "models" / "fashion-mnist-dae"
    sidecar = json.loads((folder / "encoder.json").read_text())
    data = load(fashion_npz)
    labels = data.labels.copy()
    labels[200:] = -1  # 200 labeled images; the rest unlabeled
    labeled = tmp_path / "labeled.npz"
    np.savez(labeled, images=data.images, labels=labels)
    out = tmp_path / "tuned"
    assert main(["finetune", "--encoder", str(folder), "--data", str(labeled), "--out", str(out), "--epochs", "8"]) == 0
    tuned_sidecar = json.loads((out / "encoder.json").read_text())
    record = tuned_sidecar["training"]["fineTunes"][-1]
    assert record["labeledImages"] == 200 and record["unlabeledImages"] == 824 and record["classes"] == 10
    assert record["startedFrom"] == str(folder)
    assert record["lossCurve"][-1] < record["lossCurve"][0]
    assert tuned_sidecar["normalisation"] == sidecar["normalisation"]  # the platform feeds it alike
    before = load_onnx_encoder(folder / "encoder.onnx", sidecar)
    after = load_onnx_encoder(out / "encoder.onnx", tuned_sidecar)
    # Only the last stage and the projection were trained.
    assert torch.equal(before.stem[0].weight, after.stem[0].weight)
    assert torch.equal(before.stages[2][0].conv2.weight, after.stages[2][0].conv2.weight)
    assert not torch.equal(before.stages[3][0].conv2.weight, after.stages[3][0].conv2.weight)
    # Held-out images (not among the 200 labeled) are classified better by kNN over the labeled ones.
    mean, std = sidecar["normalisation"]["mean"][0], sidecar["normalisation"]["std"][0]
    x = (torch.from_numpy(data.images).float() / 255.0 - mean) / std
    with torch.no_grad():
        old, new = before(x).numpy(), after(x).numpy()
    truth = data.labels
    old_accuracy = knn_accuracy(old[:200], truth[:200], old[200:], truth[200:])
    new_accuracy = knn_accuracy(new[:200], truth[:200], new[200:], truth[200:])
    print(f"held-out kNN accuracy {old_accuracy:.3f} -> {new_accuracy:.3f}")
    assert new_accuracy > old_accuracy + 0.02, (old_accuracy, new_accuracy)


def test_finetune_refuses_data_it_cannot_learn_from(fashion_npz, tmp_path, capsys):
    folder = REPO / "models" / "fashion-mnist-dae"
    data = load(fashion_npz)
    unlabeled = tmp_path / "unlabeled.npz"
    np.savez(unlabeled, images=data.images[:64])
    one_class = tmp_path / "one-class.npz"
    np.savez(one_class, images=data.images[:64], labels=np.zeros(64, np.int64))
    rgb = tmp_path / "rgb.npz"
    np.savez(rgb, images=np.zeros((8, 3, 28, 28), np.uint8), labels=np.arange(8) % 2)
    huge = tmp_path / "huge-class.npz"
    np.savez(huge, images=data.images[:64], labels=(np.arange(64) % 2) * 10**9)
    expected = {
        unlabeled: "fine-tuning needs labels",
        huge: "labels must be class indices 0..999 or -1",
        one_class: "labeled images of at least two classes",
        rgb: "images are 3 x 28, the encoder takes 1 x 28",
    }
    for path, message in expected.items():
        assert main(["finetune", "--encoder", str(folder), "--data", str(path), "--out", str(tmp_path / "o")]) == 2
        assert message in capsys.readouterr().err
    assert main(["finetune", "--data", str(one_class), "--out", str(tmp_path / "o")]) == 2
    assert "finetune needs --encoder" in capsys.readouterr().err
    assert not (tmp_path / "o" / "encoder.onnx").exists()


def test_worker_fine_tune_reads_the_platforms_blobs_and_reports_progress(fashion_npz, tmp_path):
    from beanstalk_trainer import blobs
    from beanstalk_trainer.worker import Settings, fine_tune

    folder = REPO / "models" / "fashion-mnist-dae"
    data = load(fashion_npz)
    store = tmp_path / "blobs"

    def put(array: np.ndarray) -> str:
        buffer = tmp_path / "buffer.npy"
        np.save(buffer, array)
        return blobs.put(store, buffer.read_bytes())

    labels = data.labels[:256].copy()
    labels[64:] = -1
    spec = {
        "runId": "tune-1",
        "imagesBlobKey": put(data.images[:256]),
        "labelsBlobKey": put(labels),
        "encoderBlobKey": blobs.put(store, (folder / "encoder.onnx").read_bytes()),
        "encoderSidecar": json.loads((folder / "encoder.json").read_text()),
        "epochs": 2,
    }
    settings = Settings(blob_dir=store, work_dir=tmp_path / "work", threads=0)
    beats = []
    result = fine_tune(settings, spec, beats.append, lambda line: None)
    assert beats[-1]["epoch"] == 2 and beats[-1]["etaSeconds"] == pytest.approx(0, abs=1e-6)
    record = result["sidecar"]["training"]["fineTunes"][-1]
    assert record["labeledImages"] == 64 and record["unlabeledImages"] == 192 and record["startedFrom"] is None
    import base64

    check = result["sidecar"]["check"]
    features = np.frombuffer(base64.b64decode(check["features"]), "<f4").reshape(check["images"], -1)
    exported = blobs.path_of(store, result["onnxBlobKey"])
    inputs = ((data.images[:4].astype(np.float32) / 255.0 - spec["encoderSidecar"]["normalisation"]["mean"][0]) / spec["encoderSidecar"]["normalisation"]["std"][0])
    assert np.abs(run_onnx_in_node(exported, inputs) - features).max() < 1e-4
    with pytest.raises(DataError, match="256 images but labels of shape"):
        fine_tune(settings, {**spec, "labelsBlobKey": put(labels[:10])}, beats.append, lambda line: None)
