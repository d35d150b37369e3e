/**
 * Which backend the model runs on, WebGPU or WASM: the one asked for, the one an earlier visit's
 * race chose, or the winner of a race between both (race.ts).
 */
import type { HunchManifest } from '@hunch/core';
import { loadModel, type LoadedModel } from './loaded-model.js';
import { backendBundled } from './ort/build.js';
import { race } from './race.js';
import type { Backend, BackendPreference, LoadRequest } from './protocol.js';

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

/**
 * The model on the chosen backend. 'auto' with a WebGPU adapter races both backends (once per
 * model version and device: the page remembers the winner); a failing WebGPU falls back to WASM.
 */
export async function loadOnBestBackend(
  { modelUrl, backend: preference, dtype, remembered }: LoadRequest,
  manifest: HunchManifest,
): Promise<{ loaded: LoadedModel; reason: string; raced: boolean }> {
  const load = (backend: LoadedModel['backend']) => loadModel(modelUrl, manifest, backend, dtype);
  const earlier = remembered && `${remembered.reason} (an earlier visit's result)`;
  // The WASM-only bundle cannot race: 'auto' means WASM there ('webgpu' is refused by its runtime, clearly).
  if (preference === 'auto' && !backendBundled('webgpu')) {
    return { loaded: await load('wasm'), reason: remembered?.backend === 'wasm' ? earlier! : 'no WebGPU adapter: the WASM-only worker', raced: false };
  }
  const choice = await chooseBackend(preference);
  if (choice.backend === 'wasm' || preference === 'webgpu') return { loaded: await load(choice.backend), reason: choice.reason, raced: false };
  // A race run for another model version says little about this one: race again.
  if (remembered?.modelVersion === manifest.version) {
    try {
      return { loaded: await load(remembered.backend), reason: earlier!, raced: false };
    } catch {
      // The remembered backend no longer works here (driver change, lost adapter): race again.
    }
  }
  let webgpu: LoadedModel;
  try {
    webgpu = await load('webgpu');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { loaded: await load('wasm'), reason: `${choice.reason} but it failed (${why})`, raced: false };
  }
  const wasm = await load('wasm').catch(async (error: unknown) => {
    await webgpu.runner.dispose();
    throw error;
  });
  const { winner, reason } = await race(webgpu, wasm);
  return { loaded: winner, reason: `${choice.reason}; ${reason}`, raced: true };
}
