import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import pgCopy from 'pg-copy-streams';
import { checkout, type Queryable } from './queryable.ts';

// Binary forms of the values that bulk vector I/O moves. Text vectors ("[x,y,...]") cost a
// float format and a float parse per component on each side; at reindex sizes (tens of
// millions of components) that was most of a reindex's write time.

/**
 * pgvector's binary form, as `vector_send` returns it and COPY BINARY carries it: int16
 * dimensions, int16 unused, then each component as a big-endian float4.
 */
export function decodeVector(bytes: Buffer): Float32Array {
  const dims = bytes.readUInt16BE(0);
  const out = new Float32Array(dims);
  for (let i = 0; i < dims; i++) out[i] = bytes.readFloatBE(4 + 4 * i);
  return out;
}

function encodeVector(values: ArrayLike<number>): Buffer {
  const bytes = Buffer.allocUnsafe(4 + 4 * values.length);
  bytes.writeUInt16BE(values.length, 0);
  bytes.writeUInt16BE(0, 2);
  for (let i = 0; i < values.length; i++) bytes.writeFloatBE(values[i]!, 4 + 4 * i);
  return bytes;
}

/** A field of one COPY row: a uuid, an enum label or text, a vector, or SQL NULL. */
export type CopyField = { uuid: string } | { text: string } | { vector: ArrayLike<number> } | null;

function encodeField(field: CopyField): Buffer | null {
  if (field === null) return null;
  if ('uuid' in field) return Buffer.from(field.uuid.replaceAll('-', ''), 'hex');
  if ('text' in field) return Buffer.from(field.text, 'utf8');
  return encodeVector(field.vector);
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * The whole body of a `COPY ... FROM STDIN (FORMAT binary)`: signature, flags, rows (field
 * count, then each field's length and bytes, -1 for NULL), trailer. Callers check values
 * first (uuids well formed, vectors finite); Postgres rejects malformed fields itself.
 */
function copyBinaryBody(rows: CopyField[][]): Buffer {
  const parts: Buffer[] = [SIGNATURE, Buffer.alloc(8)];
  for (const row of rows) {
    const count = Buffer.allocUnsafe(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const field of row) {
      const bytes = encodeField(field);
      const length = Buffer.allocUnsafe(4);
      length.writeInt32BE(bytes ? bytes.length : -1);
      parts.push(length);
      if (bytes) parts.push(bytes);
    }
  }
  const trailer = Buffer.allocUnsafe(2);
  trailer.writeInt16BE(-1);
  parts.push(trailer);
  return Buffer.concat(parts);
}

/**
 * Bulk-loads rows with `COPY <target> FROM STDIN (FORMAT binary)`; `target` is a table and
 * its column list, matching each row's fields in order. One statement: all rows or none.
 */
export async function copyRows(db: Queryable, target: string, rows: CopyField[][]): Promise<void> {
  const copy = (client: pg.PoolClient) =>
    pipeline(
      Readable.from([copyBinaryBody(rows)]),
      client.query(pgCopy.from(`COPY ${target} FROM STDIN (FORMAT binary)`)),
    );
  if (!(db instanceof pg.Pool)) return copy(db);
  const client = await checkout(db);
  try {
    await copy(client);
  } finally {
    client.release();
  }
}
