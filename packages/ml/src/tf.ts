import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

let ready: Promise<typeof tf> | undefined;

/**
 * TensorFlow.js on its WebAssembly backend (XNNPACK; ~6x the pure-JS CPU backend here): autodiff
 * and Adam with nothing to download, since the .wasm files ship inside the npm package. The
 * union package, because tfjs-core alone registers most gradients only through bundler-style
 * ESM imports that Node cannot resolve.
 */
export function tensorflow(): Promise<typeof tf> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasm = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
    setWasmPaths(`${path.dirname(wasm)}/`);
    await tf.setBackend('wasm');
    tf.enableProdMode();
    return tf;
  })();
  return ready;
}
