/**
 * The wire protocol between the page and the model worker (carried by comlink).
 * Everything here crosses postMessage, so it is plain structured-cloneable data.
 */
import type { EventName, EventParams, HunchManifest } from '@hunch/core';

export type Backend = 'webgpu' | 'wasm';
export type BackendPreference = 'auto' | Backend;

export interface LoadRequest {
  /** Absolute URL of the model directory, ending in '/'. */
  modelUrl: string;
  manifest: HunchManifest;
  backend: BackendPreference;
}

export interface LoadResult {
  /** The backend the runtime actually used (checked, not assumed). */
  backend: Backend;
  /** Why this backend: e.g. "WebGPU adapter found" or "no WebGPU adapter". */
  reason: string;
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
