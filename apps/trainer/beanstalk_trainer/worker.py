"""The trainer as a Temporal worker on its own task queue: activity `pretrainEncoder` trains an
encoder on a project's images (prepared by the platform as one uint8 .npy blob, decoded with the
same pipeline that serves the encoder), heartbeating its progress, checkpointing every epoch in
the work folder so that a retry after a killed worker resumes from the last epoch, and stores
the exported ONNX file in the blob store for the gpu worker to check and register. Activity
`fineTuneEncoder` trains the project's encoder further with its labels (an int64 .npy blob,
-1 for unlabeled images): a run of seconds to minutes, started again on a retry.

Started by `npm run worker -- --queue train` (apps/worker), which passes the platform's
configuration as arguments."""
from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import blobs
from .data import DataError, ImageSet, load_npy
from .export import export_encoder
from .finetune import FineTuneConfig, FineTuner, load_onnx_encoder
from .train import OBJECTIVES, TrainConfig, Trainer

# Fewer images than this cannot train a useful encoder; the workflow checks it first too.
MIN_IMAGES = 64
CHECK_IMAGES = 4


@dataclass
class Settings:
    blob_dir: Path
    work_dir: Path
    threads: int


def check_features(trainer, images: np.ndarray) -> dict:
    """PyTorch's features of the first training images, for the platform to compare the
    exported ONNX file against in onnxruntime before it registers the encoder."""
    x = trainer.normalise(torch.from_numpy(images[:CHECK_IMAGES]).float() / 255.0)
    with torch.no_grad():
        features = trainer.encoder().cpu().eval()(x).numpy().astype("<f4")
    return {"images": int(len(x)), "features": base64.b64encode(features.tobytes()).decode()}


def pretrain(settings: Settings, spec: dict, heartbeat, log) -> dict:
    """The activity's work, without Temporal: testable on its own."""
    objective = spec.get("objective", "simclr")
    if objective not in OBJECTIVES:
        raise DataError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    images = load_npy(blobs.path_of(settings.blob_dir, spec["imagesBlobKey"])).images
    if len(images) < MIN_IMAGES:
        raise DataError(f"{len(images)} images; training an encoder needs at least {MIN_IMAGES}")
    config = TrainConfig(
        objective=objective,
        epochs=int(spec["epochs"]),
        batch_size=int(spec.get("batchSize", 256)),
        lr=float(spec.get("lr", 2e-3)),
        dims=int(spec.get("dims", 128)),
        widths=tuple(spec.get("widths", (16, 32, 64, 128))),
        depths=tuple(spec.get("depths", (1, 1, 1, 1))),
        seed=int(spec.get("seed", 0)),
        threads=settings.threads,
    )
    out = settings.work_dir / spec["runId"]
    source = f"blob {spec['imagesBlobKey']} ({spec.get('project', 'project')})"
    trainer = Trainer(ImageSet(images, None, None, source), out, config, log=log, progress=heartbeat)
    resumed = trainer.epoch if trainer.resume() else 0
    started = time.time()
    trainer.fit()
    key, sidecar = store_export(settings, trainer, out, images, f"trainEncoder workflow {spec['runId']} (pretrainEncoder activity)", log)
    return {
        "onnxBlobKey": key,
        "sidecar": sidecar,
        "resumedAfterEpoch": resumed,
        "seconds": time.time() - started,
    }


def store_export(settings: Settings, trainer, out: Path, images: np.ndarray, command: str, log) -> tuple[str, dict]:
    """Exports the trained encoder, stores the ONNX file in the blob store and returns its key
    with the sidecar, which carries the check features."""
    onnx_path, _ = export_encoder(trainer, out, command)
    sidecar = trainer.sidecar(command)
    sidecar["check"] = check_features(trainer, images)
    key = blobs.put(settings.blob_dir, onnx_path.read_bytes())
    log(f"exported {onnx_path} as blob {key}")
    return key, sidecar


def fine_tune(settings: Settings, spec: dict, heartbeat, log) -> dict:
    """The fine-tuning activity's work, without Temporal: testable on its own."""
    images = load_npy(blobs.path_of(settings.blob_dir, spec["imagesBlobKey"])).images
    labels = np.load(blobs.path_of(settings.blob_dir, spec["labelsBlobKey"]), allow_pickle=False)
    if labels.shape != (len(images),):
        raise DataError(f"{len(images)} images but labels of shape {labels.shape}")
    out = settings.work_dir / spec["runId"]
    out.mkdir(parents=True, exist_ok=True)
    # The encoder it starts from, as the platform stores it: ONNX file and sidecar.
    base = out / "base.onnx"
    base.write_bytes(blobs.path_of(settings.blob_dir, spec["encoderBlobKey"]).read_bytes())
    sidecar = spec["encoderSidecar"]
    encoder = load_onnx_encoder(base, sidecar)
    config = FineTuneConfig(epochs=int(spec.get("epochs", FineTuneConfig.epochs)), seed=int(spec.get("seed", 0)), threads=settings.threads)
    source = f"blob {spec['imagesBlobKey']} ({spec.get('project', 'project')})"
    tuner = FineTuner(encoder, sidecar, ImageSet(images, labels.astype(np.int64), None, source), config, log=log, progress=heartbeat, started_from=spec.get("baseEncoderVersionId"))
    started = time.time()
    tuner.fit()
    key, sidecar = store_export(settings, tuner, out, images, f"trainEncoder workflow {spec['runId']} (fineTuneEncoder activity)", log)
    return {"onnxBlobKey": key, "sidecar": sidecar, "resumedAfterEpoch": 0, "seconds": time.time() - started}


def run_worker(args: argparse.Namespace) -> None:
    from temporalio import activity
    from temporalio.client import Client
    from temporalio.exceptions import ApplicationError
    from temporalio.worker import Worker

    settings = Settings(Path(args.blob_dir), Path(args.work_dir), args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s trainer %(message)s")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    logging.info("PyTorch %s on %s; task queue %s", torch.__version__, device, args.task_queue)

    @activity.defn(name="pretrainEncoder")
    def pretrain_encoder(spec: dict) -> dict:
        def heartbeat(progress: dict) -> None:
            activity.heartbeat(progress)

        try:
            return pretrain(settings, spec, heartbeat, lambda line: activity.logger.info(line))
        except (DataError, ValueError) as error:
            # Bad input does not get better on a retry.
            raise ApplicationError(str(error), type="BAD_USER_INPUT", non_retryable=True) from error

    @activity.defn(name="fineTuneEncoder")
    def fine_tune_encoder(spec: dict) -> dict:
        try:
            return fine_tune(settings, spec, activity.heartbeat, lambda line: activity.logger.info(line))
        except (DataError, ValueError) as error:
            raise ApplicationError(str(error), type="BAD_USER_INPUT", non_retryable=True) from error

    async def main() -> None:
        client = await Client.connect(args.temporal, namespace=args.namespace)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            worker = Worker(
                client,
                task_queue=args.task_queue,
                activities=[pretrain_encoder, fine_tune_encoder],
                activity_executor=pool,
                max_concurrent_activities=1,
            )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            if args.exit_with_parent:
                loop.create_task(watch_parent(os.getppid(), stop))
            async with worker:
                logging.info("polling")
                await stop.wait()
                logging.info("shutting down")

    asyncio.run(main())
    # The worker has drained; skip interpreter teardown, where the SDK's native runtime threads
    # can abort the process (PyGILState_Release) after everything is done.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


async def watch_parent(parent: int, stop: asyncio.Event) -> None:
    """Stops the worker once the process that started it is gone (killed without passing a
    signal on), so no orphaned trainer keeps polling."""
    while not stop.is_set():
        if os.getppid() != parent:
            logging.info("parent process %d is gone", parent)
            stop.set()
        await asyncio.sleep(2)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--temporal", required=True, help="Temporal frontend host:port")
    p.add_argument("--namespace", default="default")
    p.add_argument("--task-queue", required=True)
    p.add_argument("--blob-dir", required=True, help="the platform's blob store folder")
    p.add_argument("--work-dir", required=True, help="checkpoints, one folder per training run")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--exit-with-parent", action="store_true", help="stop when the launcher is gone")
