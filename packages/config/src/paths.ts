import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The monorepo root; defaults (data folder, .env) are resolved against it, not the cwd. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
