import { zipSync } from 'fflate';

export type NpyArray =
  | { dtype: 'u1'; data: Uint8Array; shape: number[] }
  | { dtype: 'i8'; data: BigInt64Array; shape: number[] }
  | { dtype: 'U'; data: string[]; shape: number[] };

/** One array in NumPy's .npy format (version 1.0, C order, little-endian). */
export function npyBytes(array: NpyArray): Uint8Array {
  let descr: string;
  let body: Uint8Array;
  if (array.dtype === 'U') {
    // Fixed-width UTF-32 strings, as NumPy stores str arrays.
    const width = Math.max(1, ...array.data.map((s) => [...s].length));
    descr = `<U${width}`;
    const codes = new Uint32Array(array.data.length * width);
    array.data.forEach((s, i) =>
      [...s].forEach((ch, j) => (codes[i * width + j] = ch.codePointAt(0)!)),
    );
    body = new Uint8Array(codes.buffer);
  } else {
    descr = array.dtype === 'u1' ? '|u1' : '<i8';
    body = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  }
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64.
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(body, 10 + header.length);
  return out;
}

/** An .npz archive (a zip of .npy files, stored uncompressed like numpy.savez). */
export function npzBytes(arrays: Record<string, NpyArray>): Uint8Array {
  return zipSync(
    Object.fromEntries(Object.entries(arrays).map(([name, a]) => [`${name}.npy`, npyBytes(a)])),
    { level: 0 },
  );
}
