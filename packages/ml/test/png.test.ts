import { crc32, deflateSync } from 'node:zlib';
import { decode as decodeFastPng, encode as encodeFastPng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { pngBomb } from '@beanstalk/testing';
import { decodeSimplePng, inflatePixels, PngBombError } from '../src/index.ts';

/** Deterministic pixels with every PNG filter's work to do (gradients, edges, noise). */
function pixels(width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  for (let i = 0; i < out.length; i++) out[i] = (i * 37 + ((i / width) | 0) * 11) % 251;
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** A PNG whose row y uses filter y % 5 (None, Sub, Up, Average, Paeth), written by hand. */
function pngWithEveryFilter(data: Uint8Array, width: number, height: number, channels: 1 | 3) {
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const filter = y % 5;
    raw[y * (stride + 1)] = filter;
    for (let x = 0; x < stride; x++) {
      const at = y * stride + x;
      const left = x >= channels ? data[at - channels]! : 0;
      const up = y > 0 ? data[at - stride]! : 0;
      const upLeft = y > 0 && x >= channels ? data[at - stride - channels]! : 0;
      const predicted = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter]!;
      raw[y * (stride + 1) + 1 + x] = (data[at]! - predicted) & 0xff;
    }
  }
  const chunk = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('bounded PNG decoding', () => {
  it('decodes gray and RGB PNGs exactly as a full decoder does, whatever their filters', () => {
    for (const channels of [1, 3] as const) {
      const data = pixels(57, 33, channels);
      // Every row filter by hand, and what fast-png writes (filter 0 throughout).
      const everyFilter = pngWithEveryFilter(data, 57, 33, channels);
      const viaFastPng = encodeFastPng({ width: 57, height: 33, data, channels, depth: 8 });
      for (const png of [everyFilter, viaFastPng]) {
        const decoded = decodeSimplePng(png, 1e6)!;
        expect(decoded).toMatchObject({ width: 57, height: 33, channels });
        expect(Buffer.from(decoded.data).equals(Buffer.from(data))).toBe(true);
        expect(Buffer.from(decoded.data).equals(Buffer.from(decodeFastPng(png).data))).toBe(true);
      }
    }
  });

  it('refuses a bomb before inflating it: 800 MiB of pixel data behind a 28x28 header', async () => {
    const bomb = await pngBomb(28, 28, 800);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().rss;
    const started = performance.now();
    expect(() => decodeSimplePng(bomb, 1e6)).toThrow(PngBombError);
    expect(() => inflatePixels(bomb, 1e6)).toThrow(/inflates to more than the 812 bytes/);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a header over the pixel limit without reading its data', async () => {
    const big = await pngBomb(20_000, 20_000, 1);
    expect(() => inflatePixels(big, 40_000_000)).toThrow(/over the 40000000-pixel limit/);
  });
});
