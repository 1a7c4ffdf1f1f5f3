import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, ImageDecodeError, ModelShapeError } from '../src/index.ts';

const repo = path.resolve(import.meta.dirname, '../../..');
const MODEL = path.join(repo, 'models/fashion-mnist-dae/encoder.onnx');

async function fashionImages(count: number): Promise<Uint8Array[]> {
  const raw = gunzipSync(
    await readFile('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'),
  );
  return Array.from({ length: count }, (_, i) => raw.subarray(16 + i * 784, 16 + (i + 1) * 784));
}

const png = (pixels: Uint8Array) =>
  sharp(Buffer.from(pixels), { raw: { width: 28, height: 28, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();

describe('ONNX encoder', () => {
  let encoder: Encoder;
  let dir: string;
  beforeAll(async () => {
    encoder = await Encoder.load(MODEL, { threads: 2 });
    dir = await mkdtemp(path.join(tmpdir(), 'encoder-'));
  });
  afterAll(async () => {
    await encoder.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives a PNG the same vector as the model fed the same normalised tensor', async () => {
    const pixels = await fashionImages(4);
    const vectors = await encoder.embedImages(
      await Promise.all(
        pixels.map(async (p, i) => ({ name: `test-${i}.png`, bytes: await png(p) })),
      ),
    );
    const { mean, std, scale } = encoder.sidecar.normalisation;
    const tensor = new Float32Array(4 * 784);
    pixels.forEach((p, i) =>
      p.forEach((v, j) => (tensor[i * 784 + j] = (v * scale - mean[0]!) / std[0]!)),
    );
    const direct = await encoder.embedTensor(tensor, 4);
    expect(vectors).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      expect(vectors[i]!.length).toBe(encoder.dims);
      const expected = direct.subarray(i * encoder.dims, (i + 1) * encoder.dims);
      expect(Math.max(...vectors[i]!.map((v, j) => Math.abs(v - expected[j]!)))).toBeLessThan(1e-5);
    }
    expect(vectors[0]).not.toEqual(vectors[1]);
    expect(encoder.provider).toBe('cpu');
  });

  it('converts and resizes JPEG, WebP and RGB input as the sidecar says', async () => {
    const [pixels] = await fashionImages(1);
    const big = sharp(Buffer.from(pixels!), { raw: { width: 28, height: 28, channels: 1 } })
      .resize(56, 56)
      .toColourspace('srgb');
    const [jpeg, webp] = await Promise.all([
      big.clone().jpeg().toBuffer(),
      big.clone().webp().toBuffer(),
    ]);
    const [a, b] = await encoder.embedImages([
      { name: 'a.jpg', bytes: jpeg },
      { name: 'b.webp', bytes: webp },
    ]);
    expect(a!.length).toBe(encoder.dims);
    const cosine = (x: Float32Array, y: Float32Array) =>
      x.reduce((s, v, i) => s + v * y[i]!, 0) / Math.hypot(...x) / Math.hypot(...y);
    expect(cosine(a!, b!)).toBeGreaterThan(0.9); // the same picture through two codecs
  });

  it('raises a typed error naming a corrupt or empty image', async () => {
    const good = await png((await fashionImages(1))[0]!);
    const broken = Buffer.concat([good.subarray(0, 8), Buffer.from('garbage garbage garbage')]);
    await expect(
      encoder.embedImages([
        { name: 'ok.png', bytes: good },
        { name: 'broken.png', bytes: broken },
      ]),
    ).rejects.toThrow(ImageDecodeError);
    await expect(encoder.embedImages([{ name: 'broken.png', bytes: broken }])).rejects.toThrow(
      /^broken\.png: cannot decode image/,
    );
    await expect(
      encoder.embedImages([{ name: 'empty.png', bytes: new Uint8Array() }]),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'empty.png: empty image (0 bytes)',
    });
    await expect(encoder.embedTensor(new Float32Array(10), 1)).rejects.toThrow(
      /tensor has 10 values/,
    );
  });

  it('refuses at load a model whose shape does not match its sidecar', async () => {
    const sidecar = JSON.parse(await readFile(MODEL.replace('.onnx', '.json'), 'utf8'));
    const model = path.join(dir, 'model.onnx');
    await copyFile(MODEL, model);
    const writeSidecar = (value: unknown) =>
      writeFile(path.join(dir, 'model.json'), JSON.stringify(value));
    await writeSidecar({
      ...sidecar,
      input: { ...sidecar.input, channels: 3, height: 32, width: 32 },
    });
    await expect(Encoder.load(model)).rejects.toThrow(ModelShapeError);
    await expect(Encoder.load(model)).rejects.toThrow(
      /model input is \[batch, 1, 28, 28\] but its sidecar says \[batch, 3, 32, 32\]/,
    );
    await writeSidecar({ ...sidecar, output: { name: 'features', dims: 64 } });
    await expect(Encoder.load(model)).rejects.toThrow(
      /model output \[batch, 128\] but its sidecar says "features" with 64 dimensions/,
    );
    await expect(Encoder.load(path.join(dir, 'nothing.onnx'))).rejects.toThrow(
      /cannot read the encoder sidecar/,
    );
  });
});
