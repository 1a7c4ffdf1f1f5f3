// Hand-made PNG files for tests: ordinary gray images with chosen pixels, and bombs.
import { createDeflate, crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

function grayHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  return ihdr;
}

/** A `width` x `height` 8-bit gray PNG whose pixel i is `pixel(i)` (a new image per function). */
export function grayPng(width: number, height: number, pixel: (i: number) => number): Buffer {
  const rows = Buffer.alloc((width + 1) * height); // each row: filter byte 0, then pixels
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows[y * (width + 1) + 1 + x] = pixel(y * width + x) & 0xff;
  }
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', grayHeader(width, height)),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A decompression bomb: a valid PNG that says it is `width` x `height` 8-bit gray, whose
 * pixel data inflates to `inflatedMiB` MiB of zeros (a few hundred KB on disk for 800 MiB).
 */
export async function pngBomb(width: number, height: number, inflatedMiB: number): Promise<Buffer> {
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < inflatedMiB; i++) {
    if (!deflate.write(zeros)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', grayHeader(width, height)),
    chunk('IDAT', Buffer.concat(parts)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
