/**
 * Where the worker's runtime and model files come from: onnxruntime-web's wasm from our own
 * origin (never a hub or CDN), model files from the shop's model directory, both kept in the
 * Cache API for offline use, model files only once their bytes match hunch.json.
 */
import { env } from '@huggingface/transformers';
import type { HunchManifest } from '@hunch/core';
// This module's onnxruntime-web, the one transformers.js runs on: rollup resolves the name to the
// build of the worker it goes with (WebGPU + WASM in hunch.worker.ort.js, WASM only in hunch.worker.wasm.ort.js).
import { registerBackend } from 'onnxruntime-web/webgpu';
import { keepOnlyModel, verifiedModelFile } from '../model-files.js';
import { isListedShard } from '../shard-listing.js';
import { keepOnlyRuntime, runtimeFile } from './files.js';
import type { OrtBuild } from './build.js';
import { runtimeFileUrl } from './locate.js';

const onnxEnv = env.backends.onnx as {
  versions?: { web?: string; common?: string };
  wasm: { wasmPaths: unknown; wasmBinary?: ArrayBuffer | Uint8Array; numThreads: number };
  webgpu?: { device?: unknown };
};

/**
 * The build configureRuntime() was given: this module is bundled apart from the worker's entry
 * (build.ts), so it keeps its own copy.
 */
let build: OrtBuild | undefined;
const ortBuild = (): OrtBuild => {
  if (!build) throw new Error('configureRuntime() was not called: import the onnxruntime module through its entry file');
  return build;
};
const ortVersion = () => onnxEnv.versions?.web ?? onnxEnv.versions?.common ?? 'unknown';
const ortWasmUrl = () => runtimeFileUrl('wasm', `./ort/${ortBuild().wasmFile}`);

/**
 * onnxruntime-web's WASM build has no WebGPU backend; asked for one it would only say "backend not
 * found". This stand-in says why, wherever WebGPU is asked for (an explicit 'webgpu', the race of 'auto').
 */
function refuseWebgpu(bundle: string): void {
  const why = `${bundle} carries onnxruntime-web's WASM build only: WebGPU runs in hunch.worker.js`;
  registerBackend(
    'webgpu',
    {
      init: () => Promise.reject(new Error(why)),
      createInferenceSessionHandler: () => Promise.reject(new Error(why)),
    },
    -1, // below 0: never picked when no execution provider is named
  );
}

/** Sets transformers.js and onnxruntime-web up once, when the worker first imports them (the onnxruntime module's entry calls it). */
export function configureRuntime(chosen: OrtBuild): void {
  build = chosen;
  if (!chosen.webgpu) refuseWebgpu(chosen.bundle);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  // Model files reach transformers.js only through modelFetch() below, checked; its own cache would keep them unchecked.
  env.useBrowserCache = false;
  // transformers.js would fetch ORT's .mjs factory and import it from a blob: URL, which a
  // Content-Security-Policy without blob: in script-src refuses. The factory is already in this
  // bundle (onnxruntime-web's *.bundle build): naming only the .wasm makes ORT use it.
  env.useWasmCache = false;
  onnxEnv.wasm.wasmPaths = { wasm: ortWasmUrl() };
  onnxEnv.wasm.numThreads = 1; // threads need cross-origin isolation and gave nothing on small models
  env.fetch = modelFetch;
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

/** Rewrites one model file's checked bytes before transformers.js gets them (runner.ts cuts the item head off this way). */
export interface ModelFileRewrite {
  /** The file, relative to the model directory (e.g. "onnx/model_quantized.onnx"). */
  path: string;
  /** The listed file whose bytes answer for `path` (default `path`): pq's graph is asked for as fp32's. */
  source?: string;
  rewrite(bytes: Uint8Array): Uint8Array;
}

/** The model directory (ending in '/'), manifest and rewrite that modelFetch() answers for. */
let current: { modelUrl: string; manifest: HunchManifest; rewrite: ModelFileRewrite | undefined } | undefined;

/** Loaded once per worker: the wasm bytes, from the Cache API when there (offline too). */
let wasmReady: Promise<void> | undefined;

/**
 * Points transformers.js at the model directory; returns the id to pass to from_pretrained().
 * The manifest lists every file with its SHA-256: transformers.js gets only files it lists, checked.
 */
export async function prepareModelFiles(modelUrl: string, manifest: HunchManifest, rewrite?: ModelFileRewrite): Promise<string> {
  if (typeof manifest.files !== 'object' || manifest.files === null) throw new Error('hunch.json lists no files (files: { path: { sha256, bytes } })');
  const { root, id } = splitModelUrl(modelUrl);
  env.localModelPath = root;
  current = { modelUrl: `${root}${id}/`, manifest, rewrite };
  await readRuntime();
  return id;
}

/**
 * Reads onnxruntime-web's wasm bytes (once per worker). Not started earlier, alongside hunch.json:
 * that saves no more than the read, once, and slowed the one-token ORT call on every event after
 * (bench:inference).
 */
function readRuntime(): Promise<void> {
  wasmReady ??= runtimeFile(ortWasmUrl(), ortVersion())
    .then((response) => response.arrayBuffer())
    .then((bytes) => {
      onnxEnv.wasm.wasmBinary = bytes;
    })
    .catch((error: unknown) => {
      wasmReady = undefined; // a later load may find the network back
      throw error;
    });
  return wasmReady;
}

/**
 * After from_pretrained() succeeded: keep this model's manifest for offline visits, and drop
 * cached files of other model versions and other onnxruntime-web builds (the other worker bundle's
 * .wasm included: a device keeps using the worker its backend needs).
 */
export async function modelLoaded(modelUrl: string, manifest: HunchManifest): Promise<void> {
  const { root, id } = splitModelUrl(modelUrl);
  onnxEnv.wasm.wasmBinary = undefined; // onnxruntime-web has its instance: free our copy of the bytes
  await Promise.all([keepOnlyModel(`${root}${id}/`, manifest, (path, sha256) => isListedShard(`${root}${id}/`, manifest, path, sha256)), keepOnlyRuntime(ortVersion(), ortWasmUrl())]);
}

/**
 * transformers.js's `env.fetch`, through which it reads every model file. For the model
 * directory it answers only files hunch.json lists (others: 404, as if absent), with bytes
 * checked against the manifest. Anything else goes to the network untouched.
 */
async function modelFetch(input: string | URL, init?: RequestInit): Promise<unknown> {
  const url = new URL(String(input), self.location.href);
  if (!current || !url.href.startsWith(current.modelUrl)) return fetch(input, init);
  const asked = decodeURIComponent(url.pathname.slice(new URL(current.modelUrl).pathname.length));
  const { rewrite } = current;
  const path = rewrite?.path === asked && rewrite.source !== undefined ? rewrite.source : asked;
  const entry = Object.hasOwn(current.manifest.files, path) ? current.manifest.files[path] : undefined;
  if (!entry) return new Response(null, { status: 404, statusText: `${path} is not listed in hunch.json` });
  const checked = verifiedModelFile(current.modelUrl, path, entry);
  const bytes = rewrite?.path === asked ? checked.then((file) => rewrite.rewrite(new Uint8Array(file))) : checked.then((file) => new Uint8Array(file));
  bytes.catch(() => undefined); // read (and reported) through arrayBuffer() below
  // Not a Response: transformers.js swallows errors thrown by fetch, and a Response body that
  // errors reaches it as a bare "Failed to fetch". It reads a model file with arrayBuffer(),
  // so that rejects with the error naming the file and what is wrong with it.
  return {
    ok: true,
    status: 200,
    statusText: 'OK',
    url: url.href,
    headers: new Headers({ 'content-length': String(entry.bytes) }),
    arrayBuffer: () => bytes.then(arrayBufferOf),
    text: async () => new TextDecoder().decode(await bytes),
    json: async () => JSON.parse(new TextDecoder().decode(await bytes)) as unknown,
  };
}

/** The bytes as an ArrayBuffer of their own (copied only when they are a view on a bigger one). */
function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return (whole ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
}
