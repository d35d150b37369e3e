import type { Backend, BackendPreference } from './protocol.js';

export interface BackendChoice {
  backend: Backend;
  reason: string;
}

/**
 * WebGPU when the browser gives an adapter, else WASM. onnxruntime-web would fall
 * back to WASM silently, so the adapter is probed here and the result checked later.
 */
export async function chooseBackend(preference: BackendPreference): Promise<BackendChoice> {
  if (preference === 'wasm') return { backend: 'wasm', reason: 'WASM requested' };
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  let adapter: unknown = null;
  try {
    adapter = gpu ? await gpu.requestAdapter() : null;
  } catch {
    adapter = null;
  }
  if (adapter) return { backend: 'webgpu', reason: 'WebGPU adapter found' };
  if (preference === 'webgpu') throw new Error('WebGPU requested but no adapter is available');
  return { backend: 'wasm', reason: gpu ? 'no WebGPU adapter' : 'WebGPU not supported by this browser' };
}
