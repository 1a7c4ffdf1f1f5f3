// The worker side of InferenceThread (inference-thread.ts): holds onnxruntime sessions and
// runs them off the owning process's main thread. Plain JavaScript so Node loads it as it is,
// whether the owner runs under tsx, vitest or plain node.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** Sessions by the id the owner gave them. */
const sessions = new Map();

/**
 * `normaliseRows` (exact-knn.ts), which this file cannot import (it is plain JavaScript): the
 * same arithmetic, so a chain run here gives the calling thread's answers to the last bit.
 */
function unitRows(data, dims) {
  const out = new Float32Array(data.length);
  for (let r = 0; r < data.length / dims; r++) {
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += data[r * dims + d] ** 2;
    norm = Math.sqrt(norm) + 1e-12;
    for (let d = 0; d < dims; d++) out[r * dims + d] = data[r * dims + d] / norm;
  }
  return out;
}

function describe(session) {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
  };
}

/**
 * Runs one session; each feed is a tensor or an earlier step's output (its rows made unit
 * length when asked), as runSteps in inference-thread.ts does on the calling thread.
 */
async function runStep({ session: id, feeds: given }, results) {
  const session = sessions.get(id);
  if (!session) throw new Error(`session ${id} is not loaded in this thread`);
  const feeds = {};
  for (const [name, f] of Object.entries(given)) {
    if (typeof f.step === 'number') {
      const t = results[f.step][f.output];
      const data = f.normalise ? unitRows(t.data, t.dims[1]) : t.data;
      feeds[name] = new ort.Tensor(t.type, data, t.dims);
    } else {
      feeds[name] = new ort.Tensor(f.type, f.data, f.dims);
    }
  }
  const outputs = await session.run(feeds);
  const result = {};
  for (const [name, t] of Object.entries(outputs)) {
    result[name] = { type: t.type, data: t.data, dims: t.dims };
  }
  return result;
}

async function handle(message) {
  switch (message.op) {
    case 'create': {
      const session = await ort.InferenceSession.create(message.model, message.options);
      sessions.set(message.session, session);
      return describe(session);
    }
    case 'run':
      return runStep(message, []);
    case 'steps': {
      const results = [];
      for (const step of message.steps) results.push(await runStep(step, results));
      return results;
    }
    case 'release': {
      const session = sessions.get(message.session);
      sessions.delete(message.session);
      await session?.release();
      return null;
    }
    default:
      throw new Error(`unknown operation ${message.op}`);
  }
}

// One message at a time: onnxruntime-node runs a session synchronously on this thread anyway.
let queue = Promise.resolve();
parentPort.on('message', (message) => {
  queue = queue.then(async () => {
    try {
      parentPort.postMessage({ id: message.id, result: await handle(message) });
    } catch (error) {
      parentPort.postMessage({ id: message.id, error: String(error?.message ?? error) });
    }
  });
});
