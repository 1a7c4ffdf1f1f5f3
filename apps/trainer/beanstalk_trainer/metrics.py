"""Accuracy and macro-F1 for the supervised reference's evaluation."""
from __future__ import annotations

import numpy as np
import torch


def predict(model, images: np.ndarray, normalise, batch: int = 1000) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = torch.from_numpy(images[i : i + batch]).float() / 255.0
            out.append(model(normalise(x)).argmax(1).numpy())
    return np.concatenate(out)


def classification_report(truth: np.ndarray, predicted: np.ndarray) -> dict:
    classes = int(max(truth.max(), predicted.max())) + 1
    f1s = []
    for c in range(classes):
        tp = int(((predicted == c) & (truth == c)).sum())
        fp = int(((predicted == c) & (truth != c)).sum())
        fn = int(((predicted != c) & (truth == c)).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return {"accuracy": float((truth == predicted).mean()), "macroF1": float(np.mean(f1s)), "perClassF1": f1s}
