// Signatures forgive what a re-shot or re-saved part changes (position by a pixel, brightness,
// grain) and keep what tells two parts apart.
import { describe, expect, it } from 'vitest';
import { grayPng } from '@beanstalk/testing';
import { imageSignature, signatureOf } from '../src/signature.ts';

const SIDE = 28;

/** A bright ring on black, centred at (cx, cy). */
function ring(cx: number, cy: number, brightness = 200): Uint8Array {
  const out = new Uint8Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const r = Math.hypot(x - cx, y - cy);
      out[y * SIDE + x] = r > 6 && r < 9 ? brightness : 0;
    }
  }
  return out;
}

/** A bright bar on black. */
function bar(): Uint8Array {
  const out = new Uint8Array(SIDE * SIDE);
  for (let y = 4; y < 24; y++) for (let x = 11; x < 17; x++) out[y * SIDE + x] = 200;
  return out;
}

const distance = (a: Float32Array, b: Float32Array) => 1 - a.reduce((s, v, i) => s + v * b[i]!, 0);
const sig = (pixels: Uint8Array) => imageSignature(pixels, SIDE, SIDE, 1);

describe('image signatures', () => {
  it('are unit vectors; a flat image gives zeros', () => {
    const s = sig(ring(13.5, 13.5));
    expect(Math.hypot(...s)).toBeCloseTo(1, 5);
    expect(sig(new Uint8Array(SIDE * SIDE).fill(90)).every((v) => v === 0)).toBe(true);
  });

  it('forgive a shift of two pixels and a change of brightness, not another shape', () => {
    const original = sig(ring(13.5, 13.5));
    expect(distance(original, sig(ring(15.5, 12.5)))).toBeLessThan(0.01);
    expect(distance(original, sig(ring(13.5, 13.5, 120)))).toBeLessThan(0.001);
    expect(distance(original, sig(bar()))).toBeGreaterThan(0.3);
  });

  it('read a small PNG at its own size, as the raw pixels give it', async () => {
    const pixels = ring(13.5, 13.5);
    const fromFile = await signatureOf({
      name: 'ring',
      bytes: grayPng(SIDE, SIDE, (i) => pixels[i]!),
    });
    expect(Array.from(fromFile)).toEqual(Array.from(sig(pixels)));
  });
});
