/**
 * One model loaded on one backend, and one forward pass of it: the last position's logits
 * (with the repeat bonus the graph leaves to its caller) and the new KV cache. On WASM a Hunch
 * int8 or pq export runs on the worker's own GPT-2 (gpt2/), and on WebGPU a pq export too, its
 * items scored in a compute shader where the adapter is a real GPU; everything else on onnxruntime-web
 * through transformers.js (ort/runner.ts, in a module of its own: ort/build.ts).
 */
import { Vocabulary, vocabularySize, type HunchManifest } from '@hunch/core';
import { loadGpt2Runner } from './gpt2/runner.js';
import type { ItemScorer } from './item-head/scorer.js';
import { ItemList } from './item-list.js';
import { importOrt } from './ort/build.js';
import { addRepeatBonus } from './ranking.js';
import type { ModelCache, ModelRunner } from './runner.js';
import { actionTokenIds, type ActionTokenId } from './signals.js';
import { chooseDtype, type DtypeChoice } from './variant.js';
import type { Backend, LoadTimings, ModelDtype } from './protocol.js';

export type { ModelCache } from './runner.js';

export interface LoadedModel {
  /** What runs the forward pass. */
  runner: ModelRunner;
  backend: Backend;
  variant: DtypeChoice;
  manifest: HunchManifest;
  /** hunch.json's tokens: with sharded item tokens, those before them (item ids come from `items`). */
  vocabulary: Vocabulary;
  /** Token count of the whole vocabulary, sharded item tokens included: the model's scored tokens. */
  vocabularySize: number;
  /** The items ranked, by index (item-list.ts): their tokens, and their product ids on demand. */
  items: ItemList;
  actions: ActionTokenId[];
  /**
   * The catalog's new products, scored from their attributes (new-items/load.ts): their logits
   * follow the vocabulary's, at vocabulary size + row. Absent: the vocabulary's items only.
   */
  newItems?: ItemScorer;
  /** Whether the runner also takes the new products as inputs (ModelRunner.embedNewItems): a history's views of them are their tokens, not the unknown one. */
  newItemsEmbedded?: boolean;
  /** Milliseconds spent reading the runtime, creating the session and building the indexes. */
  timings: Pick<LoadTimings, 'runtime' | 'session' | 'index'>;
}

/** `manifest` (hunch.json, read once per load: both backends of a race share it) loaded on `backend`. */
export async function loadModel(modelUrl: string, manifest: HunchManifest, backend: Backend, requested?: ModelDtype): Promise<LoadedModel> {
  const variant = chooseDtype(manifest, backend, requested);
  const started = performance.now();
  const own = await loadGpt2Runner(modelUrl, manifest, variant, backend);
  const { runner, runtimeMs } = own ? { runner: own, runtimeMs: 0 } : await (await importOrt()).loadOrtRunner(modelUrl, manifest, backend, variant);
  const indexStarted = performance.now();
  const vocabulary = new Vocabulary(manifest.vocabulary, manifest.merges);
  const size = vocabularySize(manifest);
  if (runner.scoredTokens !== undefined && runner.scoredTokens !== size) {
    await runner.dispose();
    throw new Error(`${variant.file} scores ${runner.scoredTokens} tokens but hunch.json has ${size}`);
  }
  const items = ItemList.of(modelUrl, manifest, manifest.vocabulary);
  const actions = actionTokenIds(vocabulary.tokens);
  return {
    timings: { runtime: runtimeMs, session: indexStarted - started - runtimeMs, index: performance.now() - indexStarted },
    runner,
    backend,
    variant,
    manifest,
    vocabulary,
    vocabularySize: size,
    items,
    actions,
  };
}

/** How many logits a step leaves: the vocabulary's, then the new products'. */
export const scoredLength = (loaded: LoadedModel): number => loaded.vocabularySize + (loaded.newItems?.rows ?? 0);

export interface ForwardResult {
  /** The last position's logits, repeat bonus added: `into`, or a new array. */
  logits: Float32Array;
  /** The cache after these tokens: `past` and the new tokens. */
  cache: ModelCache;
}

/**
 * Runs `newTokens` after `past` (the cache of `contextTokens[0 .. past length)`; none: from
 * scratch). `contextTokens` is the whole window, new tokens included: the repeat bonus goes
 * to every item in it. The logits are written to `into` when given (scoredLength, reused
 * across steps: allocating a fresh vocabulary-sized copy per event is most of its cost).
 */
export async function forward(
  loaded: LoadedModel,
  newTokens: readonly number[],
  contextTokens: readonly number[],
  past?: ModelCache,
  into: Float32Array = new Float32Array(scoredLength(loaded)),
): Promise<ForwardResult> {
  const { newItems, vocabularySize: size } = loaded;
  const { cache, repeat, query } = await loaded.runner.step(newTokens, contextTokens.length, past, newItems ? into.subarray(0, size) : into);
  if (newItems) {
    if (query) newItems.score(query, into.subarray(size));
    else into.fill(-Infinity, size); // no query this step: never recommended
  }
  if (repeat !== undefined) addRepeatBonus(into, contextTokens, loaded.items, repeat, into);
  return { logits: into, cache };
}

export function disposeCache(cache: ModelCache | undefined): void {
  cache?.dispose();
}
