"""The platform's local blob store, as packages/storage lays it out: a blob's key is the sha256
of its bytes and it lives at ROOT/<first two hex digits>/<key>. Writes go to a temporary file
in the same folder and are renamed into place, so a crash never leaves half a blob."""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

KEY = re.compile(r"^[0-9a-f]{64}$")


def path_of(root: Path, key: str) -> Path:
    if not KEY.match(key):
        raise ValueError(f"not a blob key: {key!r}")
    return root / key[:2] / key


def put(root: Path, data: bytes) -> str:
    key = hashlib.sha256(data).hexdigest()
    target = path_of(root, key)
    if target.exists():
        return key
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f"{key}.{os.getpid()}.tmp")
    temp.write_bytes(data)
    temp.replace(target)
    return key
