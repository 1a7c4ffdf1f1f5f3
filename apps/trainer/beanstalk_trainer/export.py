"""ONNX export of a trained encoder (dynamic batch axis) with its JSON sidecar."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .train import write_json

OPSET = 13


def export_onnx(module: nn.Module, path: Path, channels: int, size: int, output_name: str) -> None:
    module = module.cpu().eval()
    dummy = torch.zeros(2, channels, size, size)
    temp = path.with_suffix(".tmp")
    with torch.no_grad():
        torch.onnx.export(
            module,
            dummy,
            str(temp),
            input_names=["input"],
            output_names=[output_name],
            dynamic_axes={"input": {0: "batch"}, output_name: {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
        )
    temp.replace(path)


def export_encoder(trainer, out: Path, command: str) -> tuple[Path, Path]:
    """Writes encoder.onnx and encoder.json (the sidecar packages/ml reads) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    onnx_path, sidecar_path = out / "encoder.onnx", out / "encoder.json"
    export_onnx(trainer.encoder(), onnx_path, trainer.channels, trainer.size, "features")
    write_json(sidecar_path, trainer.sidecar(command))
    return onnx_path, sidecar_path


def export_classifier(trainer, out: Path, command: str, class_names: list[str] | None, metrics: dict) -> Path:
    """The supervised reference's logits model (classifier.onnx + classifier.json)."""
    path = out / "classifier.onnx"
    export_onnx(trainer.model, path, trainer.channels, trainer.size, "logits")
    sidecar = trainer.sidecar(command)
    sidecar["format"] = "beanstalk-classifier/1"
    sidecar["output"] = {"name": "logits", "classes": class_names or []}
    sidecar["metrics"] = metrics
    write_json(out / "classifier.json", sidecar)
    return path
