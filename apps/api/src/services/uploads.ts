import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import defaultProcessRequest, { type FileUpload } from 'graphql-upload/processRequest.mjs';
import Upload from 'graphql-upload/Upload.mjs';
import { AppError } from '@beanstalk/shared';

/**
 * Reads an uploaded file into memory. graphql-upload stops the stream at the configured size
 * limit; that and any other read failure becomes BAD_USER_INPUT naming the file.
 */
export async function readUpload(
  upload: Promise<FileUpload>,
): Promise<{ name: string; bytes: Uint8Array }> {
  const file = await upload;
  const name = file.filename || 'upload';
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of file.createReadStream()) chunks.push(chunk as Buffer);
  } catch (error) {
    const reason = (error as Error).message;
    throw new AppError('BAD_USER_INPUT', `${name}: ${reason}`, { file: name, reason });
  }
  return { name, bytes: Buffer.concat(chunks) };
}

/** Multipart requests up to this size are parsed in memory; larger ones are spooled to disk. */
export const IN_MEMORY_REQUEST_BYTES = 2 * 1024 * 1024;

type ProcessRequest = typeof defaultProcessRequest;
type UploadOptions = NonNullable<Parameters<ProcessRequest>[2]>;

/** An error the upload middleware answers with its status and message. */
const refusal = (status: number, message: string) =>
  Object.assign(new Error(message), {
    status,
    expose: true,
  });

/**
 * The GraphQL multipart request (the upload spec), as graphql-upload parses it, but for small
 * requests (a Content-Length of at most IN_MEMORY_REQUEST_BYTES, checked before any body is
 * read) each file is kept in memory instead of a temporary file: no file to create, write, read
 * back and delete per image, which profiling put among the API's largest own costs per
 * `classify`. The request's size bounds the memory. Larger requests go to graphql-upload.
 */
export const processUploadRequest: ProcessRequest = (request, response, options = {}) => {
  const length = Number(request.headers['content-length']);
  if (!(length <= IN_MEMORY_REQUEST_BYTES)) {
    return defaultProcessRequest(request, response, options);
  }
  return parseInMemory(request, options);
};

function parseInMemory(
  request: IncomingMessage,
  { maxFieldSize = 1_000_000, maxFileSize = Infinity, maxFiles = Infinity }: UploadOptions,
): ReturnType<ProcessRequest> {
  return new Promise((resolve, reject) => {
    let operations: Awaited<ReturnType<ProcessRequest>> | undefined;
    let map: Map<string, Upload> | null = null;
    let failed = false;
    const parser = busboy({
      headers: request.headers,
      defParamCharset: 'utf8',
      limits: { fieldSize: maxFieldSize, fields: 2, fileSize: maxFileSize, files: maxFiles },
    });
    const exit = (error: Error) => {
      if (failed) return;
      failed = true;
      for (const upload of map?.values() ?? []) if (!upload.file) upload.reject(error);
      request.unpipe(parser);
      setImmediate(() => request.resume());
      reject(error);
    };

    parser.on('field', (name, value, { valueTruncated }) => {
      if (valueTruncated) {
        return exit(refusal(413, `the '${name}' field is over ${maxFieldSize} bytes`));
      }
      if (name === 'operations') {
        try {
          operations = JSON.parse(value);
        } catch {
          return exit(refusal(400, "invalid JSON in the 'operations' field"));
        }
        if (typeof operations !== 'object' || operations === null) {
          return exit(refusal(400, "the 'operations' field is not an object or array"));
        }
      } else if (name === 'map') {
        if (operations === undefined) {
          return exit(refusal(400, "misordered fields: 'map' must follow 'operations'"));
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(value);
        } catch {
          return exit(refusal(400, "invalid JSON in the 'map' field"));
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          return exit(refusal(400, "the 'map' field is not an object"));
        }
        const entries = Object.entries(parsed);
        if (entries.length > maxFiles)
          return exit(refusal(413, `${maxFiles} max file uploads exceeded`));
        map = new Map();
        for (const [field, paths] of entries) {
          if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string')) {
            return exit(refusal(400, `the 'map' entry '${field}' is not an array of paths`));
          }
          const upload = new Upload();
          map.set(field, upload);
          for (const path of paths as string[]) {
            if (!placeAt(operations, path, upload)) {
              return exit(
                refusal(400, `the 'map' entry '${field}' names no variable at '${path}'`),
              );
            }
          }
        }
        resolve(operations);
      }
    });

    parser.on('file', (field, stream, { filename, encoding, mimeType }) => {
      const upload = map?.get(field);
      if (!map) {
        stream.resume();
        return exit(refusal(400, "misordered fields: files must follow 'map'"));
      }
      if (!upload) return void stream.resume(); // a file no variable asks for
      const chunks: Buffer[] = [];
      let tooLarge: Error | null = null;
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        tooLarge = refusal(413, `file truncated as it exceeds the ${maxFileSize} byte size limit`);
      });
      stream.on('error', (error) => upload.reject(error));
      stream.on('end', () => {
        const bytes = Buffer.concat(chunks);
        upload.resolve({
          filename,
          mimetype: mimeType,
          encoding,
          fieldName: field,
          createReadStream: () => {
            if (tooLarge) throw tooLarge;
            return Readable.from([bytes]) as unknown as ReturnType<FileUpload['createReadStream']>;
          },
        } as FileUpload);
      });
    });

    parser.once('filesLimit', () => exit(refusal(413, `${maxFiles} max file uploads exceeded`)));
    parser.once('finish', () => {
      request.unpipe(parser);
      request.resume();
      if (operations === undefined) return exit(refusal(400, "missing the 'operations' field"));
      if (!map) return exit(refusal(400, "missing the 'map' field"));
      for (const upload of map.values()) {
        if (!upload.file) upload.reject(refusal(400, 'file missing in the request'));
      }
    });
    parser.on('error', (error: Error) => exit(error));
    request.once('close', () => {
      if (!request.readableEnded) exit(refusal(499, 'request disconnected during the upload'));
    });
    request.pipe(parser);
  });
}

/** Keys a path may not walk through (they reach prototypes, not variables). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Sets `value` at a dotted path ("variables.images.0") inside `root`, making the containers on
 * the way as the upload spec's reference implementation does; false for a path through a
 * prototype or a value that is not a container.
 */
function placeAt(root: unknown, path: string, value: unknown): boolean {
  const keys = path.split('.');
  if (keys.some((k) => FORBIDDEN_KEYS.has(k) || k === '')) return false;
  let at = root as Record<string, unknown>;
  for (const [i, k] of keys.entries()) {
    if (typeof at !== 'object' || at === null) return false;
    if (i === keys.length - 1) {
      at[k] = value;
      return true;
    }
    if (at[k] === undefined || at[k] === null) at[k] = /^\d+$/.test(keys[i + 1]!) ? [] : {};
    at = at[k] as Record<string, unknown>;
  }
  return false;
}
