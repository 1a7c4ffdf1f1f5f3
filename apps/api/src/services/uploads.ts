import type { FileUpload } from 'graphql-upload/processRequest.mjs';
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
