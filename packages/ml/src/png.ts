import { inflateSync } from 'node:zlib';

/**
 * PNG decoding that bounds its work before doing it. A PNG's pixel data is one zlib stream;
 * its header says how many bytes that stream should inflate to, so inflating past that is
 * refused instead of allocating what the file asks for (a few hundred KB can inflate to GBs).
 */

/** A PNG that would take more memory than its header allows, or more pixels than the limit. */
export class PngBombError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PngBombError';
  }
}

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA. */
  colourType: number;
  interlaced: boolean;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** The IHDR fields, or null when the bytes are not a PNG with a well-formed header. */
export function pngHeader(bytes: Uint8Array): PngHeader | null {
  if (!isPng(bytes) || bytes.length < 33) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
  const colourType = bytes[25]!;
  if (!(colourType in SAMPLES)) return null;
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    bitDepth: bytes[24]!,
    colourType,
    interlaced: bytes[28] === 1,
  };
}

/** Bytes the pixel data inflates to for this header (filter bytes included; Adam7 passes). */
export function inflatedSize(h: PngHeader): number {
  const bitsPerPixel = SAMPLES[h.colourType]! * h.bitDepth;
  const rows = (width: number, height: number) =>
    width === 0 || height === 0 ? 0 : height * (1 + Math.ceil((width * bitsPerPixel) / 8));
  if (!h.interlaced) return rows(h.width, h.height);
  // Adam7: seven passes over sub-grids of the image.
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ] as const;
  return passes.reduce(
    (sum, [x0, y0, dx, dy]) =>
      sum + rows(Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy)),
    0,
  );
}

/** The concatenated IDAT chunks (the zlib stream of the pixel data). */
function pixelStream(bytes: Uint8Array): Buffer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) break;
    if (type === 'IDAT') parts.push(bytes.subarray(at + 8, at + 8 + length));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return Buffer.concat(parts);
}

/**
 * Inflates a PNG's pixel data, refusing before it allocates more than the header allows (or
 * more than `maxPixels` pixels at all). Throws PngBombError for a PNG that would, a plain
 * Error for one that is only broken.
 */
export function inflatePixels(
  bytes: Uint8Array,
  maxPixels: number,
): { header: PngHeader; data: Buffer } {
  const header = pngHeader(bytes);
  if (!header) throw new Error('not a PNG with a readable header');
  if (header.width * header.height > maxPixels) {
    throw new PngBombError(`${header.width}x${header.height} is over the ${maxPixels}-pixel limit`);
  }
  const expected = inflatedSize(header);
  let data: Buffer;
  try {
    // One byte of room: inflating to more than the header allows is the error, not a clamp.
    data = inflateSync(pixelStream(bytes), { maxOutputLength: expected + 1 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PngBombError(
        `its pixel data inflates to more than the ${expected} bytes its ${header.width}x${header.height} header allows`,
      );
    }
    throw new Error(`cannot inflate its pixel data (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (data.length > expected) {
    throw new PngBombError(
      `its pixel data inflates to more than the ${expected} bytes its header allows`,
    );
  }
  return { header, data };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes an 8-bit gray or RGB, non-interlaced PNG (what the platform stores for small
 * datasets) to raw pixels, within the bound of `inflatePixels`; undefined for any other
 * kind of PNG, which the caller decodes otherwise.
 */
export function decodeSimplePng(
  bytes: Uint8Array,
  maxPixels: number,
): { width: number; height: number; channels: number; data: Uint8Array } | undefined {
  const header = pngHeader(bytes);
  if (
    !header ||
    header.bitDepth !== 8 ||
    header.interlaced ||
    (header.colourType !== 0 && header.colourType !== 2)
  ) {
    return undefined;
  }
  const { data } = inflatePixels(bytes, maxPixels);
  const channels = SAMPLES[header.colourType]!;
  const stride = header.width * channels;
  if (data.length !== header.height * (stride + 1)) {
    throw new Error(
      `its pixel data is ${data.length} bytes, not the ${header.height * (stride + 1)} its header says`,
    );
  }
  const out = new Uint8Array(header.height * stride);
  for (let y = 0; y < header.height; y++) {
    const filter = data[y * (stride + 1)]!;
    const row = data.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const at = y * stride;
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? out[at + x - channels]! : 0;
      const up = y > 0 ? out[at - stride + x]! : 0;
      const upLeft = y > 0 && x >= channels ? out[at - stride + x - channels]! : 0;
      const value = row[x]!;
      out[at + x] =
        filter === 0
          ? value
          : filter === 1
            ? value + left
            : filter === 2
              ? value + up
              : filter === 3
                ? value + ((left + up) >> 1)
                : filter === 4
                  ? value + paeth(left, up, upLeft)
                  : 0;
    }
    if (filter > 4) throw new Error(`row ${y} has unknown filter ${filter}`);
  }
  return { width: header.width, height: header.height, channels, data: out };
}
