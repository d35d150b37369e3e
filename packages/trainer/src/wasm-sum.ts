/**
 * Sum over leading axes (the bias and gain gradients of every broadcast add and multiply:
 * [N, D] → [D]) for the TensorFlow.js wasm backend without its transpose: its Sum kernel
 * moves the reduced axes last with a Transpose of the whole input, then sums each row in
 * order. Here each output column is summed down the rows in the same order in float32
 * (a Float32Array accumulator rounds every addition as the kernel's float sum does), so the
 * results are the same bits. Any other reduction goes to the backend's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelArgs = { inputs: { x: tf.TensorInfo }; attrs: { axis: number | number[]; keepDims: boolean }; backend: BackendWasm };

/** How many leading axes `axis` reduces (0 when it is not a run of leading axes, or all of them). */
function leadingAxes(axis: number | number[], rank: number): number {
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  return axes.length < rank && axes.every((a, i) => a === i) ? axes.length : 0;
}

function sumLeading(args: KernelArgs, lead: number): tf.TensorInfo {
  const { inputs: { x }, attrs: { keepDims }, backend } = args;
  const outShape = x.shape.slice(lead);
  const out = backend.makeOutput(keepDims ? [...x.shape.slice(0, lead).map(() => 1), ...outShape] : outShape, 'float32');
  // Views taken after the allocation: it may have grown (and replaced) the heap.
  const input = backend.typedArrayFromHeap(x) as Float32Array;
  const sums = backend.typedArrayFromHeap(out) as Float32Array;
  const columns = sums.length;
  sums.fill(0);
  for (let at = 0; at < input.length; at += columns) for (let j = 0; j < columns; j++) sums[j] = sums[j]! + input[at + j]!;
  return out;
}

let installed = false;

/** Replaces the wasm backend's Sum, for float32 reductions over leading axes, by sumLeading (once per thread). */
export function installLeadingAxesSum(): void {
  if (installed) return;
  const config = tf.getKernel('Sum', 'wasm');
  if (!config) throw new Error('the wasm backend registered no Sum kernel');
  const own = config.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo;
  tf.unregisterKernel('Sum', 'wasm');
  tf.registerKernel({
    ...config,
    kernelFunc: ((args: KernelArgs) => {
      const lead = args.inputs.x.dtype === 'float32' ? leadingAxes(args.attrs.axis, args.inputs.x.shape.length) : 0;
      return lead > 0 && tf.util.sizeFromShape(args.inputs.x.shape) > 0 ? sumLeading(args, lead) : own(args);
    }) as unknown as tf.KernelFunc,
  });
  installed = true;
}
