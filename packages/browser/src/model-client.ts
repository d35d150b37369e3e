/**
 * The page's side of the model worker: starts it, loads the model, and turns a failed
 * or missing model into the popular-items fallback instead of an error.
 */
import { wrap, releaseProxy, type Remote } from 'comlink';
import type { HunchManifest } from '@hunch/core';
import { logOnce } from './lib/log.js';
import type { Backend, BackendPreference, ModelDtype, ModelWorkerApi, RecommendRequest, ScoredItem } from './worker/protocol.js';

export interface ModelStatus {
  /** 'none' when no model runs: recommendations then come from the popular list. */
  backend: Backend | 'none';
  reason: string;
  /** The ONNX variant running (transformers.js dtype), null when none. */
  dtype: ModelDtype | null;
  /** Its file, relative to the model directory (e.g. "onnx/model_q4.onnx"), null when none. */
  modelFile: string | null;
  modelVersion: string | null;
}

export class ModelClient {
  private worker: Worker | undefined;
  private api: Remote<ModelWorkerApi> | undefined;
  readonly status: Promise<ModelStatus>;

  constructor(
    private readonly workerUrl: string,
    readonly manifest: Promise<HunchManifest | undefined>,
    modelUrl: string,
    preference: BackendPreference,
    dtype?: ModelDtype,
  ) {
    this.status = this.start(modelUrl, preference, dtype);
  }

  private async start(modelUrl: string, preference: BackendPreference, dtype: ModelDtype | undefined): Promise<ModelStatus> {
    const manifest = await this.manifest;
    if (!manifest) return { backend: 'none', reason: 'model manifest unavailable', dtype: null, modelFile: null, modelVersion: null };
    try {
      const worker = new Worker(this.workerUrl, { type: 'module', name: 'hunch-model' });
      this.worker = worker;
      this.api = wrap<ModelWorkerApi>(worker);
      // A worker whose script fails to load or run (404, CSP, COEP) only fires `error`: without
      // this race the call below would never settle and recommend() would wait forever.
      const failed = new Promise<never>((_, reject) =>
        worker.addEventListener('error', (event) => reject(new Error(`worker ${this.workerUrl} failed: ${event.message || 'could not start'}`)), { once: true }),
      );
      const result = await Promise.race([this.api.load({ modelUrl, manifest, backend: preference, ...(dtype ? { dtype } : {}) }), failed]);
      return { ...result, modelVersion: manifest.version };
    } catch (error) {
      logOnce('model failed to load, showing popular items', error);
      this.stop();
      return {
        backend: 'none',
        reason: `model failed to load: ${error instanceof Error ? error.message : String(error)}`,
        dtype: null,
        modelFile: null,
        modelVersion: manifest.version,
      };
    }
  }

  /** Ranked items from the model, or undefined when there is no model to ask. */
  async recommend(request: RecommendRequest): Promise<ScoredItem[] | undefined> {
    const status = await this.status;
    if (status.backend === 'none' || !this.api) return undefined;
    try {
      return await this.api.recommend(request);
    } catch (error) {
      logOnce('model inference failed, showing popular items', error);
      return undefined;
    }
  }

  stop(): void {
    this.api?.[releaseProxy]();
    this.worker?.terminate();
    this.api = undefined;
    this.worker = undefined;
  }
}
