/**
 * The wire protocol between the page and the model worker (carried by comlink).
 * Everything here crosses postMessage, so it is plain structured-cloneable data.
 */
import type { CatalogItem, EventName, EventParams, ModelFileEntry, SessionPurchaseModel } from '@hunch/core';

/**
 * Bump when these messages change. It names the shared model worker (model-client.ts), so a
 * page of a newer SDK build never talks to a worker of an older one still alive in the shop.
 */
export const PROTOCOL_VERSION = 5;

export type Backend = 'webgpu' | 'wasm';
export type BackendPreference = 'auto' | Backend;
/**
 * The ONNX variant as a transformers.js dtype: 'fp32' (onnx/model.onnx), 'q8' (int8,
 * onnx/model_quantized.onnx) or 'q4' (4-bit MatMulNBits, onnx/model_q4.onnx); 'pq', the
 * product-quantized item table (onnx/model_pq.onnx), is Hunch's own.
 */
export type ModelDtype = 'fp32' | 'q8' | 'q4' | 'pq';
/**
 * 'pq-simd': the worker's asymmetric-distance kernel over the product-quantized table
 * (item-head/pq-scorer.ts); 'pq-webgpu': the same sums in a WebGPU compute shader (pq-webgpu.ts).
 */
export type ItemScoring = 'graph' | 'int8-simd' | 'pq-simd' | 'pq-webgpu';
/**
 * What runs the model: 'hunch-gpt2', the worker's own GPT-2 over the int8 file's weights
 * (WASM with a Hunch int8 export: no runtime to start); 'onnxruntime-web', the ONNX graph
 * through transformers.js (WebGPU, fp32 and q4 files, other graphs).
 */
export type ModelEngine = 'hunch-gpt2' | 'onnxruntime-web';

export interface LoadRequest {
  /** Absolute URL of the model directory, ending in '/'. The worker reads hunch.json itself: a big manifest is not copied through postMessage. */
  modelUrl: string;
  backend: BackendPreference;
  /** Forces a variant; default: q4 on WebGPU, q8 on WASM, fp32 when the model lacks that file. */
  dtype?: ModelDtype;
  /** The winner of an earlier warm-up race on this device: used instead of racing again when it was for this model version. */
  remembered?: { backend: Backend; reason: string; modelVersion: string };
}

/** Where a load's time went, milliseconds: what a cold start costs, phase by phase. */
export interface LoadTimings {
  /** hunch.json fetched (revalidated) and parsed. */
  manifest: number;
  /** onnxruntime-web's wasm bytes read (Cache API, else network); 0 with the worker's own GPT-2. */
  runtime: number;
  /** Model files read and checked, runtime started, session created (transformers.js from_pretrained); with the worker's own GPT-2, the int8 file read, checked and its weights unpacked. */
  session: number;
  /** Vocabulary indexes built. */
  index: number;
  /**
   * catalog.json read, checked and indexed (with the catalog's categories): alongside the
   * model's load, from the end of `manifest`; the load ends when both have.
   */
  catalog: number;
  /** From the load request to the model being ready, race included. */
  total: number;
}

export interface LoadResult {
  /** The backend the runtime actually used (checked, not assumed). */
  backend: Backend;
  /** Why this backend and this variant: e.g. "WebGPU adapter found; q4 is the default on webgpu". */
  reason: string;
  /** The variant loaded, and its file relative to the model directory. */
  dtype: ModelDtype;
  modelFile: string;
  /** The version of the hunch.json the worker loaded. */
  modelVersion: string;
  /**
   * How items are scored: 'graph', by the ONNX graph's LM head; 'int8-simd', by the worker's
   * kernel on the int8 table, from the graph's final hidden state (WASM with an int8 model).
   */
  itemScoring: ItemScoring;
  engine: ModelEngine;
  /** Whether this load ran a warm-up race (worth remembering: the page passes it back as `remembered`). */
  raced: boolean;
  timings: LoadTimings;
}

/**
 * Catalog entries from the worker, which holds catalog.json: a big shop's catalog (tens of
 * thousands of products) is parsed there once, never on the page's main thread.
 */
export interface CatalogRequest {
  /** Entries for these item ids (unknown ids are left out). */
  ids: string[];
  /** A slice of the popular list, most popular first. */
  popular?: { offset: number; count: number };
}

export interface CatalogAnswer {
  items: CatalogItem[];
  popular: CatalogItem[];
  /** Whether the popular list goes on after this slice. */
  morePopular: boolean;
  modelVersion: string;
}

export interface PredictRequest {
  /** The shopper's recent history, oldest first, with the events' ids (they tell the worker what is new). */
  events: Array<{ id: string; name: EventName; params: EventParams }>;
  /** The most events the model should see (the SDK's historyLimit). */
  maxEvents: number;
  /** How many ranked items to return. */
  k: number;
  /** Item ids never to return. */
  exclude: string[];
  /** Item ids to score whatever their rank (hunch.rerank()); unknown ids are left out. */
  candidates?: string[];
  /** Item ids whose catalog entries to return with the answer (e.g. the history's products). */
  lookup?: string[];
}

export interface ScoredItem {
  itemId: string;
  /** Probability of this item being next, among the catalog's items. */
  score: number;
}

/** How the worker answered: ran the whole window, extended its KV cache, or reused the last answer. */
export interface InferenceStats {
  mode: 'full' | 'incremental' | 'reused';
  /** Tokens run through the model for this answer (0 when reused). */
  tokens: number;
  /** Tokens the model saw in all (its context window, [BOS] included). */
  contextTokens: number;
  /** The model's update: encoding the events, running the new tokens on the KV cache and scoring every token (ms; ~0 when reused). */
  updateMs: number;
  /** All of the worker's time for the answer: the update, then the item softmax, ranking and catalog entries (ms). */
  ms: number;
  /** Of `ms`: the items' softmax pass (log-sum-exp and the best items; 0 when the logits' pass was made for an earlier answer). */
  scoreMs?: number;
  /** Of `ms`: the top items picked, with the vocabulary shards of their product ids when the item tokens are sharded. */
  rankMs?: number;
  /** Of `ms`: the catalog entries of the items shown, with their catalog shards when the catalog is sharded. */
  entriesMs?: number;
}

export interface Prediction {
  /** The k best items, excluded ones left out. */
  items: ScoredItem[];
  /** The candidates' scores, best first (when the request named candidates). */
  candidates: ScoredItem[];
  /**
   * Probability of each kind of next event the model knows, summing to 1: "view_item" is the
   * mass of all item tokens (a product view is written as the item alone), the rest are the
   * action tokens of the model's vocabulary ("add_to_cart", "search", "purchase", ...).
   */
  nextAction: Record<string, number>;
  /** Catalog categories by the probability mass of their items among the next-item predictions, best first. */
  categories: Array<{ category: string; score: number }>;
  /**
   * The session purchase model shipped with the model (hunch.json's `purchase`, checked against its
   * hash), null when it ships none: the page computes P(the session ends in a purchase) with it from
   * the session's events, which it holds (intent.ts). Absent from a worker of an older build.
   */
  purchaseModel?: SessionPurchaseModel | null;
  /** Catalog entries of `items` and of the request's `lookup` ids. */
  entries: CatalogItem[];
  /** The version of the model (hunch.json) that answered, whose catalog the entries are from. */
  modelVersion: string;
  stats: InferenceStats;
}

/** The strategy policy hunch.json names (its path and listed hash and size), or null: none shipped. */
export type PolicyAnswer = { path: string; file: ModelFileEntry } | null;

export interface ModelWorkerApi {
  load(request: LoadRequest): Promise<LoadResult>;
  predict(request: PredictRequest): Promise<Prediction>;
  /** Answers as soon as hunch.json is read, while the model may still be loading. */
  catalog(request: CatalogRequest): Promise<CatalogAnswer>;
  /** The policy hunch.json names, as soon as it is read: the page fetches and checks the small file itself, never hunch.json. */
  policy(): Promise<PolicyAnswer>;
}
