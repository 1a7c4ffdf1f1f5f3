"""A ResNet18-style convolutional encoder (BasicBlocks in four stages, configurable width and
depth) with a mirrored decoder for autoencoder pretraining."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class BasicBlock(nn.Module):
    """ResNet's two-conv residual block, with a projected shortcut when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Encoder(nn.Module):
    """Image (N, C, H, W) -> feature vector (N, dims). ResNet18 is widths (64, 128, 256, 512)
    with depths (2, 2, 2, 2); the CPU default is a quarter of the width, one block a stage."""

    def __init__(
        self,
        channels: int = 1,
        size: int = 28,
        widths: tuple[int, ...] = (16, 32, 64, 128),
        depths: tuple[int, ...] = (1, 1, 1, 1),
        dims: int = 128,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()
        )
        stages, cin = [], widths[0]
        for i, (width, depth) in enumerate(zip(widths, depths)):
            blocks = [BasicBlock(cin, width, 1 if i == 0 else 2)]
            blocks += [BasicBlock(width, width, 1) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            cin = width
        self.stages = nn.Sequential(*stages)
        self.grid = self._grid(size, len(widths))
        self.project = nn.Linear(cin * self.grid * self.grid, dims)
        self.out_channels = cin

    @staticmethod
    def _grid(size: int, stages: int) -> int:
        for _ in range(stages - 1):
            size = (size + 1) // 2
        return size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.flatten(self.stages(self.stem(x)), 1))


class Decoder(nn.Module):
    """Feature vector -> image logits: the encoder's grid sizes in reverse, one conv a stage
    (a light decoder keeps the work in the encoder, whose features are what we keep)."""

    def __init__(self, encoder: Encoder, channels: int, size: int, dims: int) -> None:
        super().__init__()
        self.grid = encoder.grid
        self.c0 = encoder.out_channels
        self.expand = nn.Linear(dims, self.c0 * self.grid * self.grid)
        sizes = [size]
        for _ in range(len(encoder.stages) - 1):
            sizes.append((sizes[-1] + 1) // 2)
        layers, cin = [], self.c0
        for target in reversed(sizes[:-1]):
            width = max(cin // 2, 8)
            layers += [
                nn.Upsample(size=(target, target), mode="nearest"),
                nn.Conv2d(cin, width, 3, 1, 1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
            ]
            cin = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(cin, channels, 3, 1, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.expand(z)).view(-1, self.c0, self.grid, self.grid)
        return self.head(self.body(x))


class AutoEncoder(nn.Module):
    def __init__(self, channels: int, size: int, widths, depths, dims: int) -> None:
        super().__init__()
        self.encoder = Encoder(channels, size, tuple(widths), tuple(depths), dims)
        self.decoder = Decoder(self.encoder, channels, size, dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class Contrastive(nn.Module):
    """The encoder with SimCLR's projection MLP; only the encoder's features are kept."""

    def __init__(self, channels: int, size: int, widths, depths, dims: int, projection: int = 64) -> None:
        super().__init__()
        self.encoder = Encoder(channels, size, tuple(widths), tuple(depths), dims)
        self.projector = nn.Sequential(
            nn.Linear(dims, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, projection)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.encoder(x))


class Classifier(nn.Module):
    """The supervised reference: the same encoder trained end to end with a linear head."""

    def __init__(self, channels: int, size: int, widths, depths, dims: int, classes: int) -> None:
        super().__init__()
        self.encoder = Encoder(channels, size, tuple(widths), tuple(depths), dims)
        self.head = nn.Linear(dims, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(F.relu(self.encoder(x)))
