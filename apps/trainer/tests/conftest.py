import gzip
from pathlib import Path

import numpy as np
import pytest

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="session")
def fashion_npz(tmp_path_factory) -> Path:
    """The first 1024 real Fashion-MNIST training images and labels, as the platform exports them."""
    raw = gzip.open(FASHION_MNIST / "train-images-idx3-ubyte.gz").read()
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)[:1024]
    raw = gzip.open(FASHION_MNIST / "train-labels-idx1-ubyte.gz").read()
    labels = np.frombuffer(raw, np.uint8, offset=8)[:1024].astype(np.int64)
    path = tmp_path_factory.mktemp("data") / "pool.npz"
    np.savez(path, images=images, labels=labels)
    return path
