"""Reads the image exports the platform writes: an .npz file (arrays `images`, optional
`labels`), a .npy file of uint8 images (what the training worker gets), or a folder of
PNG/JPEG images (optional labels from sub-folder names)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


class DataError(ValueError):
    """Bad input data, with the file that caused it."""


@dataclass
class ImageSet:
    """Images as uint8 N x C x H x W, and labels (N,) as int64 or None."""

    images: np.ndarray
    labels: np.ndarray | None
    class_names: list[str] | None
    source: str

    @property
    def data_hash(self) -> str:
        """sha256 of the pixel bytes: identifies the training data in the sidecar."""
        return hashlib.sha256(np.ascontiguousarray(self.images).tobytes()).hexdigest()


def _as_nchw(images: np.ndarray, source: str) -> np.ndarray:
    if images.dtype != np.uint8:
        raise DataError(f"{source}: images must be uint8, got {images.dtype}")
    if images.ndim == 3:
        return images[:, None, :, :]
    if images.ndim == 4 and images.shape[1] in (1, 3):
        return images
    if images.ndim == 4 and images.shape[3] in (1, 3):
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    raise DataError(f"{source}: images must be N x H x W or N x C x H x W, got {images.shape}")


def load_npz(path: Path) -> ImageSet:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "images" not in archive.files:
                raise DataError(f"{path}: no `images` array (has {', '.join(archive.files)})")
            images = _as_nchw(archive["images"], str(path))
            labels = archive["labels"].astype(np.int64) if "labels" in archive.files else None
            names = [str(n) for n in archive["class_names"]] if "class_names" in archive.files else None
    except (OSError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"{path}: not a readable .npz file ({error})") from error
    if labels is not None and len(labels) != len(images):
        raise DataError(f"{path}: {len(images)} images but {len(labels)} labels")
    return ImageSet(images, labels, names, str(path))


def load_npy(path: Path) -> ImageSet:
    try:
        images = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: not a readable .npy file ({error})") from error
    return ImageSet(_as_nchw(images, str(path)), None, None, str(path))


def load_folder(path: Path, channels: int = 1, size: int | None = None) -> ImageSet:
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{path}: no PNG/JPEG/WebP images found")
    mode = "L" if channels == 1 else "RGB"
    arrays = []
    for file in files:
        try:
            with Image.open(file) as image:
                image = image.convert(mode)
                if size is not None:
                    image = image.resize((size, size), Image.BILINEAR)
                arrays.append(np.asarray(image, dtype=np.uint8))
        except OSError as error:
            raise DataError(f"{file}: cannot decode image ({error})") from error
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise DataError(f"{path}: images differ in size ({sorted(shapes)[:3]}...); pass --size")
    images = _as_nchw(np.stack(arrays), str(path))
    folders = [f.relative_to(path).parts[0] if len(f.relative_to(path).parts) > 1 else None for f in files]
    if all(folders):
        names = sorted(set(folders))
        labels = np.array([names.index(f) for f in folders], dtype=np.int64)
        return ImageSet(images, labels, names, str(path))
    return ImageSet(images, None, None, str(path))


def load(path: str | Path, channels: int = 1, size: int | None = None) -> ImageSet:
    path = Path(path)
    if path.is_dir():
        return load_folder(path, channels, size)
    if path.suffix == ".npz":
        return load_npz(path)
    if path.suffix == ".npy":
        return load_npy(path)
    raise DataError(f"{path}: expected a .npz or .npy file or a folder of images")
