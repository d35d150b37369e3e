/**
 * The wire protocol between the page and the model worker (carried by comlink).
 * Everything here crosses postMessage, so it is plain structured-cloneable data.
 */
import type { EventName, EventParams, HunchManifest } from '@hunch/core';

export type Backend = 'webgpu' | 'wasm';
export type BackendPreference = 'auto' | Backend;
/**
 * The ONNX variant as a transformers.js dtype: 'fp32' (onnx/model.onnx), 'q8' (int8,
 * onnx/model_quantized.onnx) or 'q4' (4-bit MatMulNBits, onnx/model_q4.onnx).
 */
export type ModelDtype = 'fp32' | 'q8' | 'q4';

export interface LoadRequest {
  /** Absolute URL of the model directory, ending in '/'. */
  modelUrl: string;
  manifest: HunchManifest;
  backend: BackendPreference;
  /** Forces a variant; default: q4 on WebGPU, q8 on WASM, fp32 when the model lacks that file. */
  dtype?: ModelDtype;
}

export interface LoadResult {
  /** The backend the runtime actually used (checked, not assumed). */
  backend: Backend;
  /** Why this backend and this variant: e.g. "WebGPU adapter found; q4 is the default on webgpu". */
  reason: string;
  /** The variant loaded, and its file relative to the model directory. */
  dtype: ModelDtype;
  modelFile: string;
}

export interface RecommendRequest {
  /** The shopper's history, oldest first. */
  events: Array<{ name: EventName; params: EventParams }>;
  k: number;
  /** Item ids never to return. */
  exclude: string[];
}

export interface ScoredItem {
  itemId: string;
  /** Probability of this item being next, among the catalog's items. */
  score: number;
}

export interface ModelWorkerApi {
  load(request: LoadRequest): Promise<LoadResult>;
  recommend(request: RecommendRequest): Promise<ScoredItem[]>;
}
