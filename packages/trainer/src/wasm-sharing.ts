/**
 * Zero-copy Identity and same-dtype Cast for the TensorFlow.js wasm backend. Its own kernels
 * copy the whole buffer, and tfjs-core calls Identity for every tensor it keeps for the
 * backward pass (engine.saveTensorsForBackwardMode clones them) and Cast to float32 in the
 * gradients of Multiply, Div and others: hundreds of copies per training step. Tensors are
 * immutable, so sharing the buffer with a reference count is what the backend's own Reshape
 * already does (incRef, the same dataId); the engine frees it when the last user is disposed.
 */
import * as tf from '@tensorflow/tfjs';

interface SharingBackend {
  incRef(dataId: object): void;
}
type KernelArgs = { inputs: { x: tf.TensorInfo }; attrs?: { dtype?: string }; backend: SharingBackend };

const share = ({ inputs: { x }, backend }: KernelArgs): tf.TensorInfo => {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

let installed = false;

/** Replaces the wasm backend's Identity, and Cast where the dtype stays, by buffer sharing (once per thread). */
export function shareWasmBuffers(): void {
  if (installed) return;
  const identity = tf.getKernel('Identity', 'wasm');
  const cast = tf.getKernel('Cast', 'wasm');
  if (!identity || !cast) throw new Error('the wasm backend registered no Identity or Cast kernel');
  // Strings live outside the wasm heap: their kernels stay as they are.
  const replace = (config: tf.KernelConfig, shares: (args: KernelArgs) => boolean) => {
    const copying = config.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo;
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel({ ...config, kernelFunc: ((args: KernelArgs) => (shares(args) ? share(args) : copying(args))) as unknown as tf.KernelFunc });
  };
  replace(identity, (args) => args.inputs.x.dtype !== 'string');
  replace(cast, (args) => args.inputs.x.dtype !== 'string' && args.attrs?.dtype === args.inputs.x.dtype);
  installed = true;
}
