/**
 * Which onnxruntime-web build this worker bundle goes with, and that build's module: the
 * worker's entry (../entry.ts, ../entry-wasm.ts) names its build; onnxruntime-web and
 * transformers.js live in a module of their own beside the worker (module-*.ts), imported only
 * when a model needs them (WebGPU, fp32 and q4 files). The int8 file on WASM runs on the
 * worker's own GPT-2: a worker that never imports them starts without parsing and running half
 * a megabyte of script.
 */
import type { Backend } from '../protocol.js';
import { runtimeFileUrl } from './locate.js';

/**
 * The onnxruntime-web build a worker bundle goes with. Its module (transformers.js with the
 * build's JS glue inlined) and the .wasm that glue instantiates are served beside the worker
 * (rollup.parts.mjs builds and copies them; the names here are the same files).
 */
export interface OrtBuild {
  /** The worker bundle's file name, for messages. */
  bundle: string;
  /** transformers.js and onnxruntime-web for this build, beside the worker. */
  module: string;
  /** The .wasm under ort/ that the module's glue instantiates. */
  wasmFile: string;
  /** Whether the build has the WebGPU execution provider. */
  webgpu: boolean;
}

/** hunch.worker.js: onnxruntime-web/webgpu (WebGPU and WASM, on the asyncify .wasm). */
export const WEBGPU_BUILD: OrtBuild = { bundle: 'hunch.worker.js', module: 'hunch.worker.ort.js', wasmFile: 'ort-wasm-simd-threaded.asyncify.wasm', webgpu: true };
/** hunch.worker.wasm.js: onnxruntime-web/wasm (the plain .wasm, half the size: forwards ~2x faster, no WebGPU). */
export const WASM_BUILD: OrtBuild = { bundle: 'hunch.worker.wasm.js', module: 'hunch.worker.wasm.ort.js', wasmFile: 'ort-wasm-simd-threaded.wasm', webgpu: false };

/** Set by the worker's entry before the worker gets a message. */
let build: OrtBuild | undefined;

export function useOrtBuild(chosen: OrtBuild): void {
  build = chosen;
}

export function ortBuild(): OrtBuild {
  if (!build) throw new Error('no onnxruntime build named: start the worker from its entry file');
  return build;
}

/** Whether this worker's onnxruntime-web can run `backend` at all. */
export function backendBundled(backend: Backend): boolean {
  return backend === 'wasm' || ortBuild().webgpu;
}

/** What the onnxruntime module exports (module-*.ts). */
export type OrtModule = typeof import('./module.js');

let imported: Promise<OrtModule> | undefined;

/** The onnxruntime module, imported once (from beside the worker, or where the page named it: locate.ts). */
export function importOrt(): Promise<OrtModule> {
  imported ??= (import(/* @vite-ignore */ runtimeFileUrl('ort', `./${ortBuild().module}`)) as Promise<OrtModule>).catch((error: unknown) => {
    imported = undefined; // a later load may find the network back
    throw new Error(`${ortBuild().module} (onnxruntime-web) could not be loaded: ${error instanceof Error ? error.message : String(error)}`);
  });
  return imported;
}
