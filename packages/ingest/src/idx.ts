import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { AppError } from '@beanstalk/shared';

/** An IDX array (the MNIST file format): unsigned bytes with big-endian dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

function fail(file: string, reason: string): never {
  throw new AppError('BAD_USER_INPUT', `${file}: ${reason}`, { file, reason });
}

/** Reads an IDX file, gzip-compressed or not; a truncated or malformed file names itself. */
export async function readIdx(file: string): Promise<IdxArray> {
  let bytes: Buffer = await readFile(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      fail(file, `corrupt gzip stream (${(error as Error).message})`);
    }
  }
  if (bytes.length < 4) fail(file, `too short for an IDX header (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) fail(file, 'not an IDX file (bad magic number)');
  if (bytes[2] !== UBYTE) fail(file, `unsupported IDX element type 0x${bytes[2]!.toString(16)}`);
  const rank = bytes[3]!;
  const headerLength = 4 + 4 * rank;
  if (rank < 1 || bytes.length < headerLength) fail(file, 'truncated IDX header');
  const dims = Array.from({ length: rank }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  if (actual !== expected) {
    fail(
      file,
      `truncated: header promises ${expected} bytes of data (${dims.join('x')}), file has ${actual}`,
    );
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerLength, expected) };
}
