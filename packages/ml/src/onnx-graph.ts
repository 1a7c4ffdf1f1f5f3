import onnxProto from 'onnx-proto';
import { createSession, type InferenceThread, type Session } from './inference-thread.ts';

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;

// Small fixed graphs built in code and run by onnxruntime: its matrix kernels are one to two
// orders of magnitude faster than loops in JS for the bulk linear algebra of a round.

export type Initializer =
  | { name: string; dims: number[]; float32: Float32Array }
  | { name: string; dims: number[]; int64: BigInt64Array };

export interface GraphSpec {
  nodes: { op: string; inputs: string[]; outputs: string[]; attributes?: Record<string, number> }[];
  initializers: Initializer[];
  /** Float inputs: name and shape, `null` for a dimension given at run time. */
  inputs: { name: string; dims: (number | null)[] }[];
  outputs: { name: string; type: 'float32' | 'int64'; dims: (number | null)[] }[];
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function valueInfo(name: string, elemType: number, dims: (number | null)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d, i) => (d === null ? { dimParam: `d${i}` } : { dimValue: d })) },
      },
    },
  });
}

/** Serialises a graph (opset 13) to the bytes onnxruntime loads. */
function modelBytes(spec: GraphSpec): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: 'beanstalk',
    node: spec.nodes.map((n) =>
      onnx.NodeProto.create({
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([name, i]) =>
          onnx.AttributeProto.create({ name, i, type: onnx.AttributeProto.AttributeType.INT }),
        ),
      }),
    ),
    initializer: spec.initializers.map((t) =>
      onnx.TensorProto.create({
        name: t.name,
        dims: t.dims,
        dataType: 'float32' in t ? DataType.FLOAT : DataType.INT64,
        rawData: bytesOf('float32' in t ? t.float32 : t.int64),
      }),
    ),
    input: spec.inputs.map((i) => valueInfo(i.name, DataType.FLOAT, i.dims)),
    output: spec.outputs.map((o) =>
      valueInfo(o.name, o.type === 'float32' ? DataType.FLOAT : DataType.INT64, o.dims),
    ),
  });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'beanstalk',
      graph,
    }),
  ).finish();
}

/**
 * An inference session for a graph; `threads` 0 lets onnxruntime decide. Runs in `thread` when
 * one is given, else on the calling thread.
 */
export function graphSession(
  spec: GraphSpec,
  threads = 0,
  thread?: InferenceThread,
): Promise<Session> {
  return createSession(
    modelBytes(spec),
    { intraOpNumThreads: threads, graphOptimizationLevel: 'all' },
    thread,
  );
}
