"""Fine-tuning an exported encoder with a project's labels (the learning loop's third lever).

The platform keeps encoders as ONNX files, so the encoder is read back from its file into the
PyTorch model it was exported from: the export folds every batch norm into the convolution before
it, so each comes back as the convolution's weights plus a batch norm that only adds the folded
bias. Its last stage and projection are then trained with a cosine classifier on the labeled
images (shift/flip augmentation; the rest frozen, batch norms fixed, since a few hundred labels
cannot re-estimate their statistics), optionally with the unlabeled images pulled towards their
features before the fine-tuning so that the space keeps what self-supervision learned where
there are no labels. The result is exported like any encoder."""
from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .data import DataError, ImageSet
from .models import BasicBlock, Encoder
from .train import augment, seed_everything


@dataclass
class FineTuneConfig:
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    scale: float = 10.0  # cosine classifier: logits = scale x cosine to the class weights
    keep: float = 1.0  # weight of the pull of unlabeled images towards their former features
    unlabeled: int = 10_000  # at most this many unlabeled images (a seeded sample) are pulled
    stages: int = 1  # trailing stages trained (with the projection); the rest stay frozen
    seed: int = 0
    threads: int = 0


def conv_bn_pairs(encoder: Encoder) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """Every convolution with the batch norm after it, in the order the forward pass runs them
    (the order the export writes its Conv nodes in)."""
    pairs = [(encoder.stem[0], encoder.stem[1])]
    for stage in encoder.stages:
        for block in stage:
            assert isinstance(block, BasicBlock)
            pairs += [(block.conv1, block.bn1), (block.conv2, block.bn2)]
            if isinstance(block.shortcut, nn.Sequential):
                pairs.append((block.shortcut[0], block.shortcut[1]))
    return pairs


def load_onnx_encoder(onnx_path: Path, sidecar: dict) -> Encoder:
    """The encoder an ONNX file was exported from, rebuilt from the architecture its sidecar
    records; features equal the file's (up to float rounding)."""
    import onnx
    from onnx import numpy_helper

    config = sidecar.get("training", {}).get("config")
    if not config or not {"widths", "depths", "dims"} <= set(config):
        raise DataError(f"{onnx_path}: fine-tuning needs an encoder trained by beanstalk_trainer (its sidecar records the architecture)")
    source = sidecar["input"]
    if source["height"] != source["width"]:
        raise DataError(f"{onnx_path}: square inputs only, got {source['height']} x {source['width']}")
    encoder = Encoder(source["channels"], source["height"], tuple(config["widths"]), tuple(config["depths"]), int(config["dims"]))
    graph = onnx.load(str(onnx_path)).graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    convs = [node for node in graph.node if node.op_type == "Conv"]
    gemms = [node for node in graph.node if node.op_type == "Gemm"]
    pairs = conv_bn_pairs(encoder)
    if len(convs) != len(pairs) or len(gemms) != 1:
        raise DataError(f"{onnx_path}: {len(convs)} convolutions, the sidecar's architecture has {len(pairs)}")
    with torch.no_grad():
        for node, (conv, bn) in zip(convs, pairs):
            weight, bias = (torch.from_numpy(weights[name].copy()) for name in node.input[1:3])
            if weight.shape != conv.weight.shape:
                raise DataError(f"{onnx_path}: {node.output[0]} has shape {tuple(weight.shape)}, expected {tuple(conv.weight.shape)}")
            conv.weight.copy_(weight)
            # A batch norm that adds the folded bias and nothing else (in eval mode).
            bn.weight.fill_(1.0)
            bn.bias.copy_(bias)
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
        gemm = gemms[0]
        encoder.project.weight.copy_(torch.from_numpy(weights[gemm.input[1]].copy()))
        encoder.project.bias.copy_(torch.from_numpy(weights[gemm.input[2]].copy()))
    return encoder.eval()


# The platform allows 100 classes a project; the command takes more, within reason.
MAX_CLASSES = 1000


class FineTuner:
    """Trains the encoder's last stage and projection on labeled images; `encoder()` and
    `sidecar()` as the pretraining Trainer has them, so `export_encoder` takes either."""

    def __init__(self, encoder: Encoder, sidecar: dict, data: ImageSet, config: FineTuneConfig, log=print, progress=None, started_from: str | None = None) -> None:
        if data.labels is None:
            raise DataError(f"{data.source}: fine-tuning needs labels (-1 marks an unlabeled image)")
        # Class indices size the classifier: bound them before anything is allocated.
        if len(data.labels) and (data.labels.min() < -1 or data.labels.max() >= MAX_CLASSES):
            raise DataError(f"{data.source}: labels must be class indices 0..{MAX_CLASSES - 1} or -1 (unlabeled)")
        labeled = data.labels >= 0
        if len(np.unique(data.labels[labeled])) < 2:
            raise DataError(f"{data.source}: fine-tuning needs labeled images of at least two classes")
        self.config, self.log, self.progress = config, log, progress
        self.base_sidecar = sidecar
        # Which encoder it started from (a model folder, or the platform's encoder version id).
        self.started_from = started_from
        self.channels, self.size = data.images.shape[1], data.images.shape[2]
        if (self.channels, self.size) != (sidecar["input"]["channels"], sidecar["input"]["height"]):
            raise DataError(f"{data.source}: images are {self.channels} x {self.size}, the encoder takes {sidecar['input']['channels']} x {sidecar['input']['height']}")
        norm = sidecar["normalisation"]
        if abs(float(norm["scale"]) - 1 / 255) > 1e-9:
            raise DataError(f"{data.source}: the encoder's pixel scale is {norm['scale']}; the trainer's encoders take 1/255")
        self.mean = torch.tensor(norm["mean"]).view(1, -1, 1, 1)
        self.std = torch.tensor(norm["std"]).view(1, -1, 1, 1)
        # Debian's torch starts with one OpenMP thread; use every core unless told otherwise.
        torch.set_num_threads(config.threads or os.cpu_count() or 1)
        seed_everything(config.seed)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.model = encoder
        self.images = torch.from_numpy(data.images[labeled])
        self.labels = torch.from_numpy(data.labels[labeled])
        self.unlabeled = None
        if config.keep > 0 and (~labeled).any() and config.unlabeled > 0:
            rest = np.flatnonzero(~labeled)
            if len(rest) > config.unlabeled:
                rest = np.sort(np.random.default_rng(config.seed).choice(rest, config.unlabeled, replace=False))
            self.unlabeled = torch.from_numpy(data.images[rest])
        self.classes = int(self.labels.max()) + 1
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        if not 1 <= config.stages <= len(self.model.stages):
            raise ValueError(f"stages must be 1..{len(self.model.stages)}, got {config.stages}")
        tuned = self.model.stages[len(self.model.stages) - config.stages :]
        self.trained = [*tuned.parameters(), *self.model.project.parameters()]
        for parameter in self.trained:
            parameter.requires_grad_(True)
        with torch.no_grad():
            # The unlabeled images' features before fine-tuning: what the pull keeps them near.
            self.before = self.features(self.unlabeled) if self.unlabeled is not None else None
            # Class weights start at the labeled images' mean directions: at step 0 the
            # classifier is the nearest class mean in the current space.
            z = F.normalize(self.features(self.images), dim=1)
            weights = torch.stack([z[self.labels == c].mean(0) if (self.labels == c).any() else torch.zeros(z.shape[1]) for c in range(self.classes)])
        self.weights = nn.Parameter(weights)
        self.optimizer = torch.optim.Adam([*self.trained, self.weights], lr=config.lr)
        self.loss_curve: list[float] = []
        self.epoch = 0

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Pixels in [0, 1] to the encoder's input, as the pretraining Trainer's."""
        return (x - self.mean) / self.std

    def features(self, images: torch.Tensor, batch: int = 1024) -> torch.Tensor:
        """Features of uint8 images."""
        return torch.cat([self.model(self.normalise(images[i : i + batch].float() / 255.0)) for i in range(0, len(images), batch)])

    def fit(self) -> list[float]:
        config, n = self.config, len(self.images)
        steps = max(1, math.ceil(n / config.batch_size))
        total = steps * config.epochs
        schedule = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(1.0, s / total))))
        self.model.eval()  # batch norms keep their statistics; gradients still flow
        self.log(f"fine-tuning on {n} labeled images ({self.classes} classes), {config.epochs} epochs")
        started = time.time()
        while self.epoch < config.epochs:
            order = torch.randperm(n, generator=self.generator)
            running = 0.0
            for step in range(steps):
                idx = order[step * config.batch_size : (step + 1) * config.batch_size]
                x = augment(self.images[idx].float() / 255.0, self.generator)
                z = F.normalize(self.model(self.normalise(x)), dim=1)
                logits = config.scale * z @ F.normalize(self.weights, dim=1).t()
                loss = F.cross_entropy(logits, self.labels[idx])
                if self.before is not None:
                    pick = torch.randint(0, len(self.unlabeled), (config.batch_size,), generator=self.generator)
                    now = self.model(self.normalise(self.unlabeled[pick].float() / 255.0))
                    loss = loss + config.keep * (1 - F.cosine_similarity(now, self.before[pick], dim=1)).mean()
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                schedule.step()
                running += float(loss) * len(idx)
                if self.progress is not None:
                    done = self.epoch * steps + step + 1
                    self.progress({
                        "epoch": self.epoch + 1, "epochs": config.epochs, "step": step + 1, "steps": steps,
                        "loss": running / min(n, (step + 1) * config.batch_size),
                        "etaSeconds": (time.time() - started) / done * (total - done),
                    })
            self.epoch += 1
            self.loss_curve.append(running / n)
        self.log(f"fine-tuned: loss {self.loss_curve[0]:.4f} -> {self.loss_curve[-1]:.4f} in {time.time() - started:.0f} s")
        return self.loss_curve

    def encoder(self) -> nn.Module:
        return self.model

    def sidecar(self, command: str) -> dict:
        sidecar = {key: value for key, value in self.base_sidecar.items() if key != "check"}
        base = self.base_sidecar.get("training", {})
        # The pretraining record stays; each fine-tuning adds its own (an encoder fine-tuned
        # again keeps the earlier ones).
        sidecar["training"] = {
            **base,
            "fineTunes": [
                *base.get("fineTunes", []),
                {
                    "startedFrom": self.started_from,
                    "labeledImages": len(self.images),
                    "unlabeledImages": 0 if self.unlabeled is None else len(self.unlabeled),
                    "classes": self.classes,
                    "lossCurve": self.loss_curve,
                    "config": asdict(self.config),
                    "command": command,
                },
            ],
        }
        return sidecar
