/**
 * The page's side of the model worker: starts it, loads the model, and turns a failed
 * or missing model into the popular-items fallback instead of an error.
 */
import { wrap, releaseProxy, type Remote } from 'comlink';
import type { HunchManifest } from '@hunch/core';
import { logOnce } from './lib/log.js';
import { BACKEND_KEY } from './lib/names.js';
import type { Backend, BackendPreference, InferenceStats, LoadRequest, ModelDtype, ModelWorkerApi, Prediction, PredictRequest } from './worker/protocol.js';

export interface ModelStatus {
  /** 'none' when no model runs: recommendations then come from the popular list. */
  backend: Backend | 'none';
  reason: string;
  /** The ONNX variant running (transformers.js dtype), null when none. */
  dtype: ModelDtype | null;
  /** Its file, relative to the model directory (e.g. "onnx/model_q4.onnx"), null when none. */
  modelFile: string | null;
  modelVersion: string | null;
  /** How the model answered last: the whole window, an extended KV cache, or the last answer reused; and the worker's time. */
  lastInference?: InferenceStats;
}

type RememberedBackend = NonNullable<LoadRequest['remembered']>;

/** The winner of an earlier warm-up race for this model version, if this device ran one. */
function rememberedBackend(modelVersion: string): RememberedBackend | undefined {
  try {
    const saved = JSON.parse(localStorage.getItem(BACKEND_KEY) ?? 'null') as (RememberedBackend & { modelVersion: string }) | null;
    if (saved?.modelVersion === modelVersion && (saved.backend === 'webgpu' || saved.backend === 'wasm') && typeof saved.reason === 'string') {
      return { backend: saved.backend, reason: saved.reason };
    }
  } catch {
    // No localStorage (or a broken record): race again.
  }
  return undefined;
}

function rememberBackend(modelVersion: string, choice: RememberedBackend): void {
  try {
    localStorage.setItem(BACKEND_KEY, JSON.stringify({ modelVersion, ...choice }));
  } catch {
    // Storage full or blocked: the next visit races again.
  }
}

/** Erases the remembered race result (forget()). */
export function forgetBackendChoice(): void {
  try {
    localStorage.removeItem(BACKEND_KEY);
  } catch {
    // Nothing could have been stored.
  }
}

/** Why the model should not load on this device, or undefined when it may. */
export function deviceSkipReason(nav: Navigator = navigator): string | undefined {
  const { connection, deviceMemory } = nav as Navigator & { connection?: { saveData?: boolean }; deviceMemory?: number };
  if (connection?.saveData === true) return 'Save-Data is on: the model is not downloaded, popular items are shown';
  // navigator.deviceMemory reports 0.25, 0.5, 1, 2, ... GiB: below 1 GiB the runtime alone would crowd the page.
  if (typeof deviceMemory === 'number' && deviceMemory < 1) return `low-memory device (${deviceMemory} GiB): popular items are shown`;
  return undefined;
}

export interface ModelClientOptions {
  /** The worker that runs on WebGPU and WASM (and races them). */
  workerUrl: string;
  /** A WASM-only worker (a smaller, faster onnxruntime build), started when the model will run on WASM anyway. */
  wasmWorkerUrl?: string;
  manifest: Promise<HunchManifest | undefined>;
  modelUrl: string;
  preference: BackendPreference;
  dtype?: ModelDtype;
  /** Release the worker (and its memory) after this long without a recommendation (default 5 minutes). */
  idleMs?: number;
  /** A recommendation that has not answered by then counts as a failed worker (default 10 s). */
  timeoutMs?: number;
}

/** How many times a page recreates a failed worker before settling for popular items. */
const MAX_RESTARTS = 3;

export class ModelClient {
  private worker: Worker | undefined;
  private api: Remote<ModelWorkerApi> | undefined;
  private loading: Promise<ModelStatus>;
  private restarts = 0;
  /** Whether the current worker has answered once (its first call may be slow). */
  private warm = false;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: ModelClientOptions) {
    this.loading = this.start();
  }

  /** The model's status: after a restart, the new worker's. */
  get status(): Promise<ModelStatus> {
    return this.loading;
  }

  private async start(): Promise<ModelStatus> {
    const { modelUrl, preference, dtype } = this.options;
    const manifest = await this.options.manifest;
    if (!manifest) return none('model manifest unavailable', null);
    const skip = deviceSkipReason();
    if (skip) return none(skip, manifest.version);
    const remembered = preference === 'auto' ? rememberedBackend(manifest.version) : undefined;
    const workerUrl = (await this.wasmOnly(remembered)) ? this.options.wasmWorkerUrl! : this.options.workerUrl;
    try {
      const worker = new Worker(workerUrl, { type: 'module', name: 'hunch-model' });
      this.worker = worker;
      this.api = wrap<ModelWorkerApi>(worker);
      // A worker whose script fails to load or run (404, CSP, COEP) only fires `error`: without
      // this race the call below would never settle and recommend() would wait forever.
      const failed = new Promise<never>((_, reject) =>
        worker.addEventListener('error', (event) => reject(new Error(`worker ${workerUrl} failed: ${event.message || 'could not start'}`)), { once: true }),
      );
      const request: LoadRequest = { modelUrl, backend: preference, ...(dtype ? { dtype } : {}), ...(remembered ? { remembered } : {}) };
      const { raced, ...result } = await Promise.race([this.api.load(request), failed]);
      if (raced) rememberBackend(result.modelVersion, { backend: result.backend, reason: result.reason });
      // Later uncaught errors in the worker (a runtime crash): drop it, the next call starts a new one.
      worker.addEventListener('error', () => this.fail(worker, new Error('the model worker crashed')));
      return result;
    } catch (error) {
      logOnce('model failed to load, showing popular items', error);
      this.stop();
      return none(`model failed to load: ${error instanceof Error ? error.message : String(error)}`, manifest.version);
    }
  }

  /**
   * Whether the WASM-only worker will do: WASM was asked for, won an earlier race here, or the
   * browser offers no WebGPU adapter (then 'auto' would pick WASM anyway).
   */
  private async wasmOnly(remembered: RememberedBackend | undefined): Promise<boolean> {
    const { preference, wasmWorkerUrl } = this.options;
    if (!wasmWorkerUrl || preference === 'webgpu') return false;
    if (preference === 'wasm' || remembered?.backend === 'wasm') return true;
    if (remembered?.backend === 'webgpu') return false;
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    const adapter = await gpu?.requestAdapter().catch(() => null);
    return !adapter;
  }

  /** How the model answered last (see ModelStatus.lastInference). */
  lastInference: InferenceStats | undefined;

  /** The model's prediction, or undefined when there is no model to ask (the caller falls back). */
  async predict(request: PredictRequest): Promise<Prediction | undefined> {
    // A worker released when idle, or dropped after a failure, is started again on demand.
    const before = await this.loading;
    if (!this.api && before.backend !== 'none') {
      this.loading =
        this.restarts < MAX_RESTARTS
          ? this.start()
          : Promise.resolve(none(`the model worker failed ${MAX_RESTARTS} times: popular items from now on`, before.modelVersion));
      this.restarts++;
      this.warm = false;
    }
    const status = await this.loading;
    const { api, worker } = this;
    if (status.backend === 'none' || !api || !worker) return undefined;
    try {
      // The first call of a worker may compile kernels or shaders for seconds: only later ones are timed.
      const timeoutMs = this.options.timeoutMs ?? 10_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answer = api.predict(request);
      const prediction = await (this.warm
        ? Promise.race([answer, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from the model worker in ${timeoutMs} ms`)), timeoutMs)))])
        : answer
      ).finally(() => clearTimeout(timer));
      this.warm = true;
      this.releaseWhenIdle();
      this.lastInference = prediction.stats;
      return prediction;
    } catch (error) {
      this.fail(worker, error);
      return undefined;
    }
  }

  /** Drops a failed worker (once per worker); the next recommend() starts another, up to MAX_RESTARTS. */
  private fail(worker: Worker, error: unknown): void {
    logOnce('model worker failed, showing popular items until it is restarted', error);
    if (this.worker === worker) this.stop();
  }

  /** Frees the model's memory after a quiet spell; a later recommend() loads it again (from the HTTP cache). */
  private releaseWhenIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.stop();
      this.restarts--; // an idle release is not a failure: the restart it causes does not count
    }, this.options.idleMs ?? 5 * 60_000);
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    this.api?.[releaseProxy]();
    this.worker?.terminate();
    this.api = undefined;
    this.worker = undefined;
  }
}

function none(reason: string, modelVersion: string | null): ModelStatus {
  return { backend: 'none', reason, dtype: null, modelFile: null, modelVersion };
}
