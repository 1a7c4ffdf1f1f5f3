"""Self-supervised views: two random augmentations of each image, made in batched tensor ops
(one affine grid for every crop, flip and shift), for the contrastive objective.

The policy works for grayscale and RGB alike: a random resized crop keeping 75-100% of the
area (images are already at the model's input size, so crops are resampled back to it), a
horizontal flip, brightness and contrast jitter; RGB images also get saturation jitter and are
turned gray one time in five, so colour alone cannot tell two views apart."""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def random_view(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """x: (N, C, H, W) in [0, 1] -> one augmented view, same shape, in [0, 1]."""
    n, c, _, _ = x.shape
    area = _uniform(n, 0.75, 1.0, generator)
    log_ratio = _uniform(n, math.log(3 / 4), math.log(4 / 3), generator)
    ratio = torch.exp(log_ratio)
    sx = torch.sqrt(area * ratio).clamp(max=1.0)
    sy = torch.sqrt(area / ratio).clamp(max=1.0)
    tx = (1 - sx) * _uniform(n, -1, 1, generator)
    ty = (1 - sy) * _uniform(n, -1, 1, generator)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = sx * flip
    theta[:, 0, 2] = tx
    theta[:, 1, 1] = sy
    theta[:, 1, 2] = ty
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if c == 3:
        gray = (0.299 * out[:, 0] + 0.587 * out[:, 1] + 0.114 * out[:, 2]).unsqueeze(1)
        saturation = _uniform(n, 0.6, 1.4, generator).view(n, 1, 1, 1)
        out = gray + (out - gray) * saturation
        to_gray = (torch.rand(n, generator=generator) < 0.2).view(n, 1, 1, 1)
        out = torch.where(to_gray, gray.expand_as(out), out)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    contrast = _uniform(n, 0.6, 1.4, generator).view(n, 1, 1, 1)
    brightness = _uniform(n, -0.2, 0.2, generator).view(n, 1, 1, 1)
    return ((out - mean) * contrast + mean + brightness).clamp(0, 1)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's normalised temperature-scaled cross entropy: each view must pick its partner
    out of the 2N - 1 other views in the batch."""
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    similarity = z @ z.t() / temperature
    similarity.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(similarity, targets)
