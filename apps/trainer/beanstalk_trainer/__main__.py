"""python3 -m beanstalk_trainer pretrain|supervised --data EXPORT --out FOLDER [options]
python3 -m beanstalk_trainer finetune --encoder MODEL_FOLDER --data LABELED_EXPORT --out FOLDER [options]
python3 -m beanstalk_trainer worker --temporal HOST:PORT --task-queue Q --blob-dir D --work-dir W"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from .data import DataError, load
from .export import export_classifier, export_encoder
from .finetune import FineTuneConfig, FineTuner, load_onnx_encoder
from .metrics import classification_report, predict
from .train import OBJECTIVES, TrainConfig, Trainer, write_json


def ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="beanstalk_trainer", description=__doc__)
    p.add_argument("command", choices=["pretrain", "supervised", "finetune"])
    p.add_argument("--data", required=True, help=".npz export (images[, labels]) or a folder of images")
    p.add_argument("--encoder", help="finetune: the model folder (encoder.onnx + encoder.json) to start from")
    p.add_argument("--eval", help="labeled .npz or folder to evaluate the supervised reference on")
    p.add_argument("--out", required=True, help="output folder: checkpoint, ONNX, sidecar")
    p.add_argument("--objective", choices=list(OBJECTIVES), default="simclr", help="pretraining objective")
    p.add_argument("--epochs", type=int, help="default 10; finetune 30")
    p.add_argument("--batch-size", type=int, help="default 256; finetune 64")
    p.add_argument("--lr", type=float, help="default 2e-3; finetune 1e-3")
    p.add_argument("--keep", type=float, default=FineTuneConfig.keep, help="finetune: weight of the pull of unlabeled images (label -1) towards their former features")
    p.add_argument("--stages", type=int, default=FineTuneConfig.stages, help="finetune: trailing stages to train")
    p.add_argument("--dims", type=int, default=128, help="feature dimensions")
    p.add_argument("--widths", type=ints, default=(16, 32, 64, 128))
    p.add_argument("--depths", type=ints, default=(1, 1, 1, 1))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="use only the first N images")
    p.add_argument("--channels", type=int, default=1, help="for image folders: 1 gray, 3 RGB")
    p.add_argument("--resume", action="store_true", help="continue from the folder's checkpoint")
    return p


def main(argv: list[str]) -> int:
    if argv[:1] == ["worker"]:
        from .worker import add_arguments, run_worker

        p = argparse.ArgumentParser(prog="beanstalk_trainer worker")
        add_arguments(p)
        run_worker(p.parse_args(argv[1:]))
        return 0
    args = parser().parse_args(argv)
    command = "python3 -m beanstalk_trainer " + " ".join(shlex.quote(a) for a in argv)
    try:
        data = load(args.data, channels=args.channels)
        evaluation = load(args.eval, channels=args.channels) if args.eval else None
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "finetune":
        return finetune(args, data, command)
    objective = "supervised" if args.command == "supervised" else args.objective
    config = TrainConfig(
        objective=objective, epochs=args.epochs or TrainConfig.epochs,
        batch_size=args.batch_size or TrainConfig.batch_size, lr=args.lr or TrainConfig.lr,
        dims=args.dims, widths=args.widths, depths=args.depths, seed=args.seed,
        threads=args.threads, limit=args.limit,
    )
    out = Path(args.out)
    trainer = Trainer(data, out, config, log=lambda line: print(line, flush=True))
    if args.resume:
        trainer.resume()
    trainer.fit()
    onnx_path, sidecar_path = export_encoder(trainer, out, command)
    print(f"encoder: {onnx_path} (+ {sidecar_path.name})")
    if objective == "supervised":
        metrics = {}
        if evaluation is not None and evaluation.labels is not None:
            metrics = classification_report(evaluation.labels, predict(trainer.model, evaluation.images, trainer.normalise))
            print(f"eval: accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macroF1']:.4f}")
        path = export_classifier(trainer, out, command, data.class_names, metrics)
        print(f"classifier: {path}")
        write_json(out / "metrics.json", metrics)
    return 0


def finetune(args: argparse.Namespace, data, command: str) -> int:
    if not args.encoder:
        print("error: finetune needs --encoder MODEL_FOLDER", file=sys.stderr)
        return 2
    folder = Path(args.encoder)
    try:
        sidecar = json.loads((folder / "encoder.json").read_text())
        encoder = load_onnx_encoder(folder / "encoder.onnx", sidecar)
        config = FineTuneConfig(
            epochs=args.epochs or FineTuneConfig.epochs, batch_size=args.batch_size or FineTuneConfig.batch_size,
            lr=args.lr or FineTuneConfig.lr, keep=args.keep, stages=args.stages, seed=args.seed, threads=args.threads,
        )
        tuner = FineTuner(encoder, sidecar, data, config, log=lambda line: print(line, flush=True), started_from=str(folder))
    except (OSError, ValueError) as error:  # DataError is a ValueError
        print(f"error: {error}", file=sys.stderr)
        return 2
    tuner.fit()
    onnx_path, _ = export_encoder(tuner, Path(args.out), command)
    print(f"encoder: {onnx_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
