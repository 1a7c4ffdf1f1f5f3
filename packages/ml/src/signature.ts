// A small picture of an image for finding near-duplicates: grey, moved so its content's centre
// of mass sits in the middle, shrunk to SIGNATURE_SIDE squared by averaging, less its mean,
// scaled to unit length. Centring forgives a part placed a pixel or two off, shrinking forgives
// grain, and taking out the mean and length forgives brightness and contrast. Features an
// encoder learned for telling classes apart forgive none of this reliably, and put similar
// parts of one class as close as copies (bench:data-quality measured both).

import { decodePixels, type ImageInput } from './pixels.ts';
import { decodeSimplePng } from './png.ts';

export const SIGNATURE_SIDE = 16;
export const SIGNATURE_DIMS = SIGNATURE_SIDE * SIGNATURE_SIDE;
/** Other images are decoded at this size first (grey, a multiple of the signature's side). */
const SIGNATURE_INPUT = { width: 64, height: 64, channels: 1 };
/** Plain PNGs up to this many pixels are read as they are, in JS (no libvips pipeline). */
const NATIVE_PIXELS = 256 * 256;

/**
 * An image file's signature. Small plain PNGs (what datasets like Fashion-MNIST are stored as)
 * are read at their own size; anything else is decoded, bounded as for the encoder, at 64 x 64.
 */
export async function signatureOf(image: ImageInput): Promise<Float32Array> {
  let png;
  try {
    png = decodeSimplePng(image.bytes, NATIVE_PIXELS);
  } catch {
    // Larger than the native bound, or damaged: the general decoder says which.
  }
  if (png) return imageSignature(png.data, png.width, png.height, png.channels);
  const { width, height, channels } = SIGNATURE_INPUT;
  return imageSignature(await decodePixels(image, SIGNATURE_INPUT), width, height, channels);
}

/** The signature of one image given as interleaved 8-bit pixels (HWC), as decodePixels gives. */
export function imageSignature(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
): Float32Array {
  const grey = new Float32Array(width * height);
  for (let p = 0; p < grey.length; p++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += pixels[p * channels + c]!;
    grey[p] = sum / channels;
  }
  // The background is what the border shows; content is whatever differs from it.
  let border = 0;
  let borderCount = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y === 0 || x === 0 || y === height - 1 || x === width - 1) {
        border += grey[y * width + x]!;
        borderCount++;
      }
    }
  }
  const background = border / borderCount;
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const m = Math.abs(grey[y * width + x]! - background);
      mass += m;
      cx += m * x;
      cy += m * y;
    }
  }
  const dx = mass > 0 ? Math.round((width - 1) / 2 - cx / mass) : 0;
  const dy = mass > 0 ? Math.round((height - 1) / 2 - cy / mass) : 0;
  const out = new Float32Array(SIGNATURE_DIMS);
  const weight = new Float32Array(SIGNATURE_DIMS);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(SIGNATURE_SIDE - 1, Math.floor((y * SIGNATURE_SIDE) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(SIGNATURE_SIDE - 1, Math.floor((x * SIGNATURE_SIDE) / width));
      const fromX = x - dx;
      const fromY = y - dy;
      const inside = fromX >= 0 && fromX < width && fromY >= 0 && fromY < height;
      out[sy * SIGNATURE_SIDE + sx]! += inside ? grey[fromY * width + fromX]! : background;
      weight[sy * SIGNATURE_SIDE + sx]! += 1;
    }
  }
  let mean = 0;
  for (let i = 0; i < SIGNATURE_DIMS; i++) {
    out[i] = weight[i]! > 0 ? out[i]! / weight[i]! : 0;
    mean += out[i]!;
  }
  mean /= SIGNATURE_DIMS;
  let norm = 0;
  for (let i = 0; i < SIGNATURE_DIMS; i++) {
    out[i]! -= mean;
    norm += out[i]! ** 2;
  }
  norm = Math.sqrt(norm);
  // A flat image has no shape to compare: it stays the zero vector (distance 1 to anything).
  if (norm > 0) for (let i = 0; i < SIGNATURE_DIMS; i++) out[i]! /= norm;
  return out;
}
