// The worker side of InferenceThread (inference-thread.ts): holds onnxruntime sessions and
// runs them off the owning process's main thread. Plain JavaScript so Node loads it as it is,
// whether the owner runs under tsx, vitest or plain node.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** Sessions by the id the owner gave them. */
const sessions = new Map();

function describe(session) {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
  };
}

async function handle(message) {
  switch (message.op) {
    case 'create': {
      const session = await ort.InferenceSession.create(message.model, message.options);
      sessions.set(message.session, session);
      return describe(session);
    }
    case 'run': {
      const session = sessions.get(message.session);
      if (!session) throw new Error(`session ${message.session} is not loaded in this thread`);
      const feeds = {};
      for (const [name, t] of Object.entries(message.feeds)) {
        feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      }
      const outputs = await session.run(feeds);
      const result = {};
      for (const [name, t] of Object.entries(outputs)) {
        result[name] = { type: t.type, data: t.data, dims: t.dims };
      }
      return result;
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
