// The multipart request parser on its own, over real HTTP on loopback: small requests are
// parsed in memory, large ones spooled by graphql-upload, with the same answers and refusals.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import type Upload from 'graphql-upload/Upload.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IN_MEMORY_REQUEST_BYTES,
  processUploadRequest,
  readUpload,
} from '../src/services/uploads.ts';

/** What the server saw: each variable's file (name, size, spooled or not), or the refusal. */
type Seen =
  | { files: Record<string, { name: string; size: number; spooled: boolean } | string> }
  | { status: number; message: string };

describe('multipart uploads', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const answer = (seen: Seen) => res.end(JSON.stringify(seen));
      processUploadRequest(req, res, { maxFileSize: 3 * 1024 * 1024, maxFiles: 2 }).then(
        async (operations) => {
          const variables = (operations as { variables: Record<string, Upload> }).variables;
          const files: Record<string, { name: string; size: number; spooled: boolean } | string> =
            {};
          for (const [name, upload] of Object.entries(variables)) {
            try {
              const file = (await upload.promise) as FileUpload & { capacitor?: unknown };
              const { bytes } = await readUpload(Promise.resolve(file));
              // graphql-upload's files carry the temporary file they were spooled to.
              files[name] = {
                name: file.filename,
                size: bytes.length,
                spooled: 'capacitor' in file,
              };
            } catch (error) {
              files[name] = (error as Error).message;
            }
          }
          answer({ files });
        },
        (error: { status?: number; message: string }) =>
          answer({ status: error.status ?? 500, message: error.message }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const send = async (
    operations: string,
    map: string | null,
    files: { field: string; name: string; size: number }[],
  ): Promise<Seen> => {
    const form = new FormData();
    form.append('operations', operations);
    if (map !== null) form.append('map', map);
    for (const f of files) form.append(f.field, new Blob([new Uint8Array(f.size).fill(7)]), f.name);
    const response = await fetch(url, { method: 'POST', body: form });
    return (await response.json()) as Seen;
  };
  const ops = JSON.stringify({ query: '{ x }', variables: { a: null, b: null } });
  const map = JSON.stringify({ 0: ['variables.a'], 1: ['variables.b'] });

  it('a small request is read in memory, a large one spooled, with the same files', async () => {
    const small = await send(ops, map, [
      { field: '0', name: 'a.png', size: 1000 },
      { field: '1', name: 'b.png', size: 20 },
    ]);
    expect(small).toEqual({
      files: {
        a: { name: 'a.png', size: 1000, spooled: false },
        b: { name: 'b.png', size: 20, spooled: false },
      },
    });
    const large = await send(ops, map, [
      { field: '0', name: 'a.png', size: IN_MEMORY_REQUEST_BYTES + 10 },
      { field: '1', name: 'b.png', size: 20 },
    ]);
    expect(large).toEqual({
      files: {
        a: { name: 'a.png', size: IN_MEMORY_REQUEST_BYTES + 10, spooled: true },
        b: { name: 'b.png', size: 20, spooled: true },
      },
    });
  });

  it('a file over the size limit is refused by name, the other still read', async () => {
    const big = await send(ops, map, [
      { field: '0', name: 'a.png', size: 10 },
      { field: '1', name: 'b.png', size: 3 * 1024 * 1024 + 1 },
    ]);
    // Over 2 MiB in all, so this one goes to graphql-upload; its words are the reference.
    expect(big).toMatchObject({ files: { a: { size: 10 } } });
    expect((big as { files: Record<string, string> }).files.b).toMatch(/^b\.png: .*exceeds/);
    const limited = await new Promise<Seen>((resolve, reject) => {
      // In memory: a limit below the request's size.
      const s = createServer((req, res) => {
        processUploadRequest(req, res, { maxFileSize: 100 }).then(async (o) => {
          const up = (o as { variables: Record<string, Upload> }).variables.a!;
          try {
            await readUpload(up.promise as Promise<FileUpload>);
            res.end(JSON.stringify({ files: {} }));
          } catch (error) {
            res.end(JSON.stringify({ files: { a: (error as Error).message } }));
          }
        }, reject);
      });
      s.listen(0, '127.0.0.1', async () => {
        const form = new FormData();
        form.append('operations', ops);
        form.append('map', JSON.stringify({ 0: ['variables.a'] }));
        form.append('0', new Blob([new Uint8Array(500)]), 'a.png');
        const port = (s.address() as AddressInfo).port;
        const r = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: form });
        resolve((await r.json()) as Seen);
        s.close();
      });
    });
    expect(limited).toEqual({
      files: { a: 'a.png: file truncated as it exceeds the 100 byte size limit' },
    });
  });

  it('malformed requests are refused with a status, prototype paths included', async () => {
    const refused = async (o: string, m: string | null, status: number, words: RegExp) => {
      const seen = (await send(o, m, [{ field: '0', name: 'a.png', size: 5 }])) as {
        status: number;
        message: string;
      };
      expect(seen.status).toBe(status);
      expect(seen.message).toMatch(words);
    };
    await refused(ops, JSON.stringify({ 0: ['__proto__.polluted'] }), 400, /names no variable/);
    await refused(ops, JSON.stringify({ 0: ['variables.constructor'] }), 400, /names no variable/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await refused(ops, null, 400, /misordered fields|missing the 'map'/);
    await refused('{nope', map, 400, /invalid JSON in the 'operations'/);
    await refused(ops, '[1]', 400, /'map' field is not an object/);
    await refused(
      ops,
      JSON.stringify({ 0: ['variables.a'], 1: ['variables.b'], 2: ['variables.c'] }),
      413,
      /2 max file uploads exceeded/,
    );
  });
});
