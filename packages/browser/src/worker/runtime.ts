/**
 * Where the worker's runtime and model files come from: onnxruntime-web's wasm from our own
 * origin (never a hub or CDN), model files from the shop's model directory.
 */
import { env } from '@huggingface/transformers';
import type { HunchManifest } from '@hunch/core';

const onnxEnv = env.backends.onnx as { wasm: { wasmPaths: unknown; numThreads: number }; webgpu?: { device?: unknown } };

/** Sets transformers.js and onnxruntime-web up once, when the worker starts. */
export function configureRuntime(): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  // The manifest decides which model version is current; until hashes are checked, don't serve stale files from the Cache API.
  env.useBrowserCache = false;
  const ortBase = new URL('./ort/', self.location.href).href;
  onnxEnv.wasm.wasmPaths = {
    mjs: `${ortBase}ort-wasm-simd-threaded.asyncify.mjs`,
    wasm: `${ortBase}ort-wasm-simd-threaded.asyncify.wasm`,
  };
  onnxEnv.wasm.numThreads = 1; // threads need cross-origin isolation and gave nothing on small models
}

/** onnxruntime-web sets its WebGPU device only once the WebGPU backend really initialised. */
export function webgpuDeviceInUse(): boolean {
  return Boolean(onnxEnv.webgpu?.device);
}

/** The id transformers.js resolves under `env.localModelPath`: the directory's last segment. */
function splitModelUrl(modelUrl: string): { root: string; id: string } {
  const url = new URL(modelUrl);
  const parts = url.pathname.replace(/\/+$/, '').split('/');
  const id = parts.pop();
  if (!id) throw new Error(`model URL ${modelUrl} must name a directory`);
  return { root: `${url.origin}${parts.join('/')}/`, id };
}

/**
 * Points transformers.js at the model directory; returns the id to pass to from_pretrained().
 * The manifest lists every file with its SHA-256.
 */
export async function prepareModelFiles(modelUrl: string, _manifest: HunchManifest): Promise<string> {
  const { root, id } = splitModelUrl(modelUrl);
  env.localModelPath = root;
  return id;
}
