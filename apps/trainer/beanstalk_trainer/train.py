"""Training loops: self-supervised pretraining (plain or denoising autoencoder, or SimCLR's
contrastive objective) and the supervised reference. Deterministic for a seed on CPU;
checkpoints every epoch; resumable; reports progress after every step to a callback."""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .data import ImageSet
from .models import AutoEncoder, Classifier, Contrastive
from .views import nt_xent, random_view

OBJECTIVES = ("ae", "dae", "simclr")


@dataclass
class TrainConfig:
    objective: str = "simclr"  # ae | dae | simclr | supervised
    epochs: int = 10
    batch_size: int = 256
    lr: float = 2e-3
    dims: int = 128
    widths: tuple[int, ...] = (16, 32, 64, 128)
    depths: tuple[int, ...] = (1, 1, 1, 1)
    seed: int = 0
    threads: int = 0  # 0: torch's default
    limit: int = 0  # train on the first N images only (tests, quick runs)
    temperature: float = 0.2  # simclr: NT-Xent temperature


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


def channel_stats(images: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the pixels in [0, 1], a chunk at a time (a large RGB set as
    one float array would take four times its size in memory)."""
    total = np.zeros(images.shape[1])
    squares = np.zeros(images.shape[1])
    for start in range(0, len(images), 4096):
        x = images[start : start + 4096].astype(np.float64) / 255.0
        total += x.sum(axis=(0, 2, 3))
        squares += (x * x).sum(axis=(0, 2, 3))
    count = len(images) * images.shape[2] * images.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean * mean, 0)) + 1e-6
    return [float(m) for m in mean], [float(s) for s in std]


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 2 pixels and horizontal flips, per image, in batched ops."""
    n, _, h, w = x.shape
    padded = F.pad(x, (2, 2, 2, 2), mode="replicate")
    shift = torch.randint(0, 25, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    out = torch.empty_like(x)
    for s in range(25):
        idx = (shift == s).nonzero(as_tuple=True)[0]
        if len(idx):
            dy, dx = divmod(s, 5)
            out[idx] = padded[idx, :, dy : dy + h, dx : dx + w]
    return torch.where(flip.view(n, 1, 1, 1), out.flip(3), out)


def corrupt(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Denoising input: a random 40% of 4x4 patches zeroed, plus light Gaussian noise."""
    n, c, h, w = x.shape
    gh, gw = math.ceil(h / 4), math.ceil(w / 4)
    keep = (torch.rand(n, 1, gh, gw, generator=generator) > 0.4).float()
    mask = F.interpolate(keep, scale_factor=4, mode="nearest")[:, :, :h, :w]
    noise = torch.randn(x.shape, generator=generator) * 0.1
    return x * mask + noise


class Trainer:
    def __init__(self, data: ImageSet, out: Path, config: TrainConfig, log=print, progress=None) -> None:
        self.config = config
        self.out = out
        self.log = log
        # Called after every step with a dict (epoch, step, loss, images/s, ETA); may raise to stop.
        self.progress = progress
        self.device = pick_device()
        # Debian's torch starts with one OpenMP thread; use every core unless told otherwise.
        torch.set_num_threads(config.threads or os.cpu_count() or 1)
        images = data.images[: config.limit] if config.limit else data.images
        self.labels = None
        if config.objective == "supervised":
            if data.labels is None:
                raise ValueError(f"{data.source}: the supervised reference needs labels")
            self.labels = torch.from_numpy(data.labels[: len(images)])
        self.data = data
        self.images = torch.from_numpy(images)
        self.channels, self.size = images.shape[1], images.shape[2]
        self.mean, self.std = channel_stats(images)
        self.data_hash = ImageSet(images, None, None, data.source).data_hash
        seed_everything(config.seed)
        if config.objective == "supervised":
            classes = int(self.labels.max()) + 1
            self.model = Classifier(self.channels, self.size, config.widths, config.depths, config.dims, classes)
        elif config.objective == "simclr":
            self.model = Contrastive(self.channels, self.size, config.widths, config.depths, config.dims)
        else:
            self.model = AutoEncoder(self.channels, self.size, config.widths, config.depths, config.dims)
        self.model.to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.epoch = 0
        self.loss_curve: list[float] = []
        self.epoch_seconds: list[float] = []
        self.generator = torch.Generator().manual_seed(config.seed)

    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.pt"

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(self.mean).view(1, -1, 1, 1)
        std = torch.tensor(self.std).view(1, -1, 1, 1)
        return (x - mean) / std

    def save_checkpoint(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        temp = self.checkpoint_path.with_suffix(".tmp")
        torch.save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "epoch": self.epoch,
                "loss_curve": self.loss_curve,
                "epoch_seconds": self.epoch_seconds,
                "generator": self.generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "config": asdict(self.config),
            },
            temp,
        )
        temp.replace(self.checkpoint_path)

    def resume(self) -> bool:
        if not self.checkpoint_path.exists():
            return False
        state = torch.load(self.checkpoint_path, map_location=self.device)
        saved, current = state["config"], asdict(self.config)
        differs = [k for k in ("objective", "dims", "widths", "depths", "seed") if as_list(saved[k]) != as_list(current[k])]
        if differs:
            raise ValueError(
                f"{self.checkpoint_path} was trained with other {', '.join(differs)}; "
                "use the same options or another --out folder"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch = state["epoch"]
        self.loss_curve = state["loss_curve"]
        self.epoch_seconds = state.get("epoch_seconds", [])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.log(f"resumed from {self.checkpoint_path} after epoch {self.epoch}")
        return True

    def loss(self, batch: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        x = batch.float() / 255.0
        objective = self.config.objective
        if objective == "simclr":
            views = torch.cat([random_view(x, self.generator), random_view(x, self.generator)])
            z = self.model(self.normalise(views).to(self.device))
            return nt_xent(z[: len(x)], z[len(x) :], self.config.temperature)
        if objective in ("dae", "supervised"):
            x = augment(x, self.generator)
        if objective == "supervised":
            logits = self.model(self.normalise(x).to(self.device))
            return F.cross_entropy(logits, labels.to(self.device))
        source = corrupt(x, self.generator) if objective == "dae" else x
        reconstruction = self.model(self.normalise(source).to(self.device))
        return F.binary_cross_entropy_with_logits(reconstruction, x.to(self.device))

    def fit(self) -> list[float]:
        n = len(self.images)
        steps = math.ceil(n / self.config.batch_size)
        total_steps = steps * self.config.epochs
        # One cosine over the whole run. The scheduler counts its own steps from 0, so a resumed
        # run offsets them by the epochs already done: fixed here, not read from self.epoch as it
        # grows (that counted every finished epoch twice and reached zero halfway through).
        done = self.epoch * steps
        schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(1.0, (s + done) / total_steps)))
        )
        self.log(
            f"training {self.config.objective} on {n} images ({self.channels}x{self.size}x{self.size}) "
            f"on {self.device}, {torch.get_num_threads()} threads, epochs {self.epoch + 1}..{self.config.epochs}"
        )
        run_started, run_steps = time.time(), 0
        while self.epoch < self.config.epochs:
            self.model.train()
            order = torch.randperm(n, generator=self.generator)
            started, total = time.time(), 0.0
            for step in range(steps):
                idx = order[step * self.config.batch_size : (step + 1) * self.config.batch_size]
                if len(idx) < 2 and steps > 1:
                    continue  # batch norm cannot train on a batch of one
                labels = self.labels[idx] if self.labels is not None else None
                loss = self.loss(self.images[idx], labels)
                rate = self.optimizer.param_groups[0]["lr"]
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                schedule.step()
                total += float(loss) * len(idx)
                run_steps += 1
                if self.progress is not None:
                    per_step = (time.time() - run_started) / run_steps
                    left = (self.config.epochs - self.epoch - 1) * steps + steps - step - 1
                    self.progress({
                        "epoch": self.epoch + 1, "epochs": self.config.epochs,
                        "step": step + 1, "steps": steps,
                        "loss": total / ((step + 1) * self.config.batch_size),
                        "learningRate": rate,
                        "lossCurve": list(self.loss_curve),
                        "imagesPerSecond": run_steps * self.config.batch_size / max(1e-9, time.time() - run_started),
                        "etaSeconds": per_step * left,
                        "device": str(self.device),
                    })
                if (step + 1) % max(1, steps // 5) == 0 and step + 1 < steps:
                    rate = (step + 1) * self.config.batch_size / (time.time() - started)
                    self.log(f"  epoch {self.epoch + 1}: {100 * (step + 1) // steps}% loss {total / ((step + 1) * self.config.batch_size):.4f} ({rate:.0f} img/s)")
            self.epoch += 1
            self.loss_curve.append(total / n)
            self.epoch_seconds.append(time.time() - started)
            self.log(
                f"epoch {self.epoch}/{self.config.epochs} loss {self.loss_curve[-1]:.4f} "
                f"({n / (time.time() - started):.0f} img/s)"
            )
            self.save_checkpoint()
        return self.loss_curve

    def encoder(self) -> nn.Module:
        return self.model.encoder

    def sidecar(self, command: str) -> dict:
        return {
            "format": "beanstalk-encoder/1",
            "objective": self.config.objective,
            "input": {
                "name": "input",
                "layout": "NCHW",
                "dtype": "float32",
                "channels": self.channels,
                "height": self.size,
                "width": self.size,
            },
            "normalisation": {"scale": 1 / 255, "mean": self.mean, "std": self.std},
            "output": {"name": "features", "dims": self.config.dims},
            "training": {
                "images": len(self.images),
                "dataHash": self.data_hash,
                "source": self.data.source,
                "epochs": self.epoch,
                "lossCurve": self.loss_curve,
                "epochSeconds": self.epoch_seconds,
                "config": asdict(self.config),
                "torch": torch.__version__,
                "device": str(self.device),
                "command": command,
            },
        }


def as_list(value):
    """Tuples saved in a checkpoint come back as lists; compare them alike."""
    return list(value) if isinstance(value, (list, tuple)) else value


def write_json(path: Path, value: dict) -> None:
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(value, indent=2) + "\n")
    temp.replace(path)
