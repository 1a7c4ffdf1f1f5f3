import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { AppError } from '@beanstalk/shared';
import {
  createSession,
  runSteps,
  type InferenceThread,
  type Session,
  type Step,
} from './inference-thread.ts';
import { decodePixels, type ImageInput } from './pixels.ts';

/** The trainer's JSON sidecar (apps/trainer/beanstalk_trainer/train.py, `sidecar`). */
export interface EncoderSidecar {
  format: string;
  input: {
    name: string;
    layout: 'NCHW';
    dtype: 'float32';
    channels: number;
    height: number;
    width: number;
  };
  normalisation: { scale: number; mean: number[]; std: number[] };
  output: { name: string; dims: number };
  training?: Record<string, unknown>;
}

export type ExecutionProvider = 'cpu' | 'cuda';

export interface EncoderOptions {
  /** Defaults to the ONNX path with .json instead of .onnx. */
  sidecarPath?: string;
  /** Intra-op threads; 0 lets onnxruntime decide. */
  threads?: number;
  /** auto: CUDA when onnxruntime-node was installed with it, else CPU. */
  provider?: 'auto' | ExecutionProvider;
  batchSize?: number;
  /** Runs the model in this thread instead of the calling one (decoding stays here). */
  thread?: InferenceThread;
}

/** A model that does not match its sidecar (or the platform's expectations). */
export class ModelShapeError extends AppError {
  constructor(message: string) {
    super('BAD_USER_INPUT', message);
    this.name = 'ModelShapeError';
  }
}

function cudaAvailable(): boolean {
  return ort.listSupportedBackends().some((b) => b.name === 'cuda' && b.bundled);
}

/**
 * Maps images to backbone feature vectors with the trainer's ONNX encoder: decode and resize
 * with sharp, normalise as the sidecar says, run batches through onnxruntime.
 */
export class Encoder {
  private constructor(
    private readonly session: Session,
    readonly sidecar: EncoderSidecar,
    readonly provider: ExecutionProvider,
    private readonly batchSize: number,
  ) {}

  get dims(): number {
    return this.sidecar.output.dims;
  }

  static async load(onnxPath: string, options: EncoderOptions = {}): Promise<Encoder> {
    const sidecarPath = options.sidecarPath ?? onnxPath.replace(/\.onnx$/, '.json');
    let sidecar: EncoderSidecar;
    try {
      sidecar = JSON.parse(await readFile(sidecarPath, 'utf8')) as EncoderSidecar;
    } catch (error) {
      throw new ModelShapeError(
        `${sidecarPath}: cannot read the encoder sidecar (${(error as Error).message})`,
      );
    }
    const wanted = options.provider ?? 'auto';
    const provider: ExecutionProvider =
      wanted === 'auto' ? (cudaAvailable() ? 'cuda' : 'cpu') : wanted;
    const session = await createSession(
      onnxPath,
      {
        executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
        intraOpNumThreads: options.threads ?? 0,
        graphOptimizationLevel: 'all',
      },
      options.thread,
    );
    const encoder = new Encoder(session, sidecar, provider, options.batchSize ?? 256);
    encoder.checkShapes(onnxPath);
    return encoder;
  }

  private checkShapes(onnxPath: string) {
    const { input, output } = this.sidecar;
    const meta = this.session.inputMetadata.find((m) => m.name === input.name);
    if (!meta || !meta.isTensor) {
      throw new ModelShapeError(
        `${onnxPath}: has no tensor input "${input.name}" (inputs: ${this.session.inputNames.join(', ')})`,
      );
    }
    const expected = [input.channels, input.height, input.width];
    const actual = meta.shape.slice(1);
    if (meta.shape.length !== 4 || actual.some((d, i) => d !== expected[i])) {
      throw new ModelShapeError(
        `${onnxPath}: model input is [${meta.shape.join(', ')}] but its sidecar says ` +
          `[batch, ${expected.join(', ')}]`,
      );
    }
    const out = this.session.outputMetadata.find((m) => m.name === output.name);
    if (!out || !out.isTensor || out.shape.at(-1) !== output.dims) {
      throw new ModelShapeError(
        `${onnxPath}: model output ${out ? `[${out.isTensor ? out.shape.join(', ') : '?'}]` : 'is missing'} ` +
          `but its sidecar says "${output.name}" with ${output.dims} dimensions`,
      );
    }
    if (this.sidecar.normalisation.mean.length !== input.channels) {
      throw new ModelShapeError(
        `${onnxPath}: sidecar normalisation has ${this.sidecar.normalisation.mean.length} channels, input ${input.channels}`,
      );
    }
  }

  /** Decodes, resizes and normalises one image into a C x H x W float tensor. */
  async preprocess(image: ImageInput): Promise<Float32Array> {
    const { channels, height, width } = this.sidecar.input;
    const raw = await decodePixels(image, this.sidecar.input);
    const { scale, mean, std } = this.sidecar.normalisation;
    const plane = width * height;
    const out = new Float32Array(channels * plane);
    for (let c = 0; c < channels; c++) {
      for (let p = 0; p < plane; p++) {
        out[c * plane + p] = (raw[p * channels + c]! * scale - mean[c]!) / std[c]!;
      }
    }
    return out;
  }

  /** Runs already-normalised tensors (batch x C x H x W, flat) through the model. */
  async embedTensor(tensor: Float32Array, batch: number): Promise<Float32Array> {
    const [result] = await runSteps([this.embedStep(tensor, batch)]);
    return result![this.outputName]!.data as Float32Array;
  }

  /** `embedTensor` as a step of a chain (runSteps): its features are the output `outputName`. */
  embedStep(tensor: Float32Array, batch: number): Step {
    const { channels, height, width } = this.sidecar.input;
    if (tensor.length !== batch * channels * height * width) {
      throw new ModelShapeError(
        `tensor has ${tensor.length} values; ${batch} x ${channels} x ${height} x ${width} needs ${batch * channels * height * width}`,
      );
    }
    return {
      session: this.session,
      feeds: {
        [this.sidecar.input.name]: new ort.Tensor('float32', tensor, [
          batch,
          channels,
          height,
          width,
        ]),
      },
    };
  }

  get outputName(): string {
    return this.sidecar.output.name;
  }

  /**
   * Feature vectors for images, in order. The next batch is decoded while the current one runs
   * through the model. A bad image fails the call, naming the image.
   */
  async embedImages(images: ImageInput[]): Promise<Float32Array[]> {
    const size = this.sidecar.input.channels * this.sidecar.input.height * this.sidecar.input.width;
    const prepare = async (start: number) => {
      const chunk = images.slice(start, start + this.batchSize);
      const tensors = await Promise.all(chunk.map((image) => this.preprocess(image)));
      const batch = new Float32Array(chunk.length * size);
      tensors.forEach((t, i) => batch.set(t, i * size));
      return { batch, count: chunk.length };
    };
    const vectors: Float32Array[] = [];
    let next = images.length > 0 ? prepare(0) : undefined;
    for (let start = 0; next; start += this.batchSize) {
      const { batch, count } = await next;
      next = start + this.batchSize < images.length ? prepare(start + this.batchSize) : undefined;
      // A failed prefetch must not go unobserved while this batch runs; it is awaited next turn.
      next?.catch(() => {});
      const out = await this.embedTensor(batch, count);
      for (let i = 0; i < count; i++) vectors.push(out.slice(i * this.dims, (i + 1) * this.dims));
    }
    return vectors;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
