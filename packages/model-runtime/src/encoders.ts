import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '@beanstalk/db';
import {
  Encoder,
  type EncoderSidecar,
  type ExecutionProvider,
  type InferenceThread,
} from '@beanstalk/ml';
import { AppError } from '@beanstalk/shared';
import type { BlobStore } from '@beanstalk/storage';

/**
 * Registers a trainer output folder (encoder.onnx + encoder.json) as an encoder version,
 * storing the ONNX file in the blob store, and makes it the project's encoder if it has none.
 * Registering the same name again returns the existing version.
 */
export async function registerEncoder(
  deps: { db: Database; blobs: BlobStore },
  input: { modelDir: string; name: string; projectId?: string },
): Promise<string> {
  let id = (await deps.db.encoders.byName(input.name))?.id;
  if (!id) {
    const sidecar = JSON.parse(
      await readFile(path.join(input.modelDir, 'encoder.json'), 'utf8'),
    ) as EncoderSidecar;
    const { key } = await deps.blobs.put(await readFile(path.join(input.modelDir, 'encoder.onnx')));
    const { version } = await deps.db.encoders.createOnce({
      name: input.name,
      onnxBlobKey: key,
      sidecar: sidecar as object,
      inputWidth: sidecar.input.width,
      inputHeight: sidecar.input.height,
      channels: sidecar.input.channels,
      dims: sidecar.output.dims,
    });
    id = version.id;
  }
  if (input.projectId) await deps.db.projects.setEncoderIfNone(input.projectId, id);
  return id;
}

/**
 * Loaded encoders by version, materialised from the blob store into the data folder once
 * (onnxruntime loads from a file). One session per version per process.
 */
export class EncoderCache {
  private readonly loaded = new Map<string, Promise<Encoder>>();

  constructor(
    private readonly deps: { db: Database; blobs: BlobStore },
    private readonly options: {
      dir: string;
      threads?: number;
      provider?: ExecutionProvider;
      /** Where the models run (default: the calling thread). */
      thread?: InferenceThread;
    },
  ) {}

  get(encoderVersionId: string): Promise<Encoder> {
    let encoder = this.loaded.get(encoderVersionId);
    if (!encoder) {
      encoder = this.load(encoderVersionId);
      this.loaded.set(encoderVersionId, encoder);
      encoder.catch(() => this.loaded.delete(encoderVersionId));
    }
    return encoder;
  }

  private async load(encoderVersionId: string): Promise<Encoder> {
    const version = await this.deps.db.encoders.byId(encoderVersionId);
    if (!version) throw new AppError('NOT_FOUND', `encoder version ${encoderVersionId} is missing`);
    const dir = path.join(this.options.dir, encoderVersionId);
    await mkdir(dir, { recursive: true });
    const onnx = path.join(dir, 'encoder.onnx');
    // Each file written under a temporary name and renamed: a crash never leaves half a model
    // behind, and another worker process on this machine loading the same version never reads
    // one half-written (the sidecar was once read empty while a second process rewrote it).
    const place = async (file: string, bytes: Uint8Array | string) => {
      const temp = `${file}.${process.pid}.tmp`;
      await writeFile(temp, bytes);
      await rename(temp, file);
    };
    await place(onnx, await this.deps.blobs.get(version.onnxBlobKey));
    await place(path.join(dir, 'encoder.json'), JSON.stringify(version.sidecar));
    const encoder = await Encoder.load(onnx, {
      threads: this.options.threads ?? 0,
      provider: this.options.provider ?? 'auto',
      thread: this.options.thread,
    });
    console.log(`encoder ${version.name}: onnxruntime ${encoder.provider.toUpperCase()} provider`);
    return encoder;
  }

  async close(): Promise<void> {
    const all = await Promise.allSettled(this.loaded.values());
    this.loaded.clear();
    for (const e of all) if (e.status === 'fulfilled') await e.value.close();
  }
}
