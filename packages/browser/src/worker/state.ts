/**
 * What the model worker holds between requests, and the only ways it changes: this module is
 * that state (worker.ts imports it as `state`). Its variables are private to it; each change is
 * a named transition below.
 *
 *   the model:  idle ──loaded()──▶ ready ──unload()──▶ idle
 *   its load:   none ──startLoading()──▶ loading ──(its result settles)──▶ none
 *
 * A load waits in the queue like any request: until its turn, the model already ready answers
 * the requests queued before it; then the load unloads that model for its own. A load that
 * fails before its turn (hunch.json unreadable) leaves the ready model as it was; one that fails
 * after leaves the worker idle.
 *
 * A module rather than a class: the bundler shortens a module's names, not a class's method
 * names, and the worker's bundle is to stay as small as it is.
 */
import type { SessionPurchaseModel } from '@hunch/core';
import type { ModelCatalog } from './catalog-shards.js';
import type { IncrementalContext } from './incremental.js';
import type { LoadedModel } from './loaded-model.js';
import type { ModelDirectoryRead } from './manifest.js';
import type { CategoryIndex } from './signals.js';
import type { ItemScores } from './softmax/item-scores.js';
import type { LoadRequest, LoadResult, ScoredItem } from './protocol.js';

/** A loaded model, and what its predictions keep beside it. */
export interface RunningModel {
  loaded: LoadedModel;
  /** The model's catalog: the entries predictions return, the items' categories (of a sharded catalog, those of the shards read). */
  catalog: ModelCatalog;
  context: IncrementalContext;
  categories: CategoryIndex;
  /** The session purchase model hunch.json names (purchase.json), checked; null when none ships or it could not be read. */
  purchase: SessionPurchaseModel | null;
  /** The items' scores on a step's logits, with at least the best `count` (softmax/item-softmax.ts). */
  scoreItems: (logits: Float32Array, count: number) => ItemScores;
  /**
   * The item scores of the last logits (by ContextAnswer.version), with the answers drawn
   * from it (top items by k and exclusions, categories): a repeated question (nothing new) skips
   * the passes over the catalog.
   */
  lastScores?: { version: number; scores: ItemScores; tops: Map<string, ScoredItem[]>; categories?: Array<{ category: string; score: number }> };
}

/**
 * The model predictions run on, and the load that made it: its request, its answer and
 * hunch.json's validator, so that a page asking for the same, unchanged model gets it at once.
 */
export interface ReadyModel {
  model: RunningModel;
  request: LoadRequest;
  result: LoadResult;
  validator: string | undefined;
}

/** Whether `a` and `b` ask for the same model on the same terms (the remembered race aside). */
function sameLoad(a: LoadRequest, b: LoadRequest): boolean {
  return a.modelUrl === b.modelUrl && a.backend === b.backend && a.dtype === b.dtype;
}

let readyModel: ReadyModel | undefined;
/** The load under way, for a page asking for the same model meanwhile. */
let loading: { request: LoadRequest; result: Promise<LoadResult> } | undefined;
let lastDirectory: ModelDirectoryRead | undefined;
/** Requests share one model and one cache: each waits for the one before. */
let queue: Promise<unknown> = Promise.resolve();

/** The model predictions run on; undefined while idle. */
export function ready(): ReadyModel | undefined {
  return readyModel;
}

/**
 * hunch.json and catalog.json of the model directory last asked for: catalog requests answer
 * from them while the model loads.
 */
export function directory(): ModelDirectoryRead | undefined {
  return lastDirectory;
}

/** The ready model, when it was loaded for the model `request` asks for. */
export function readyFor(request: LoadRequest): ReadyModel | undefined {
  return readyModel && sameLoad(readyModel.request, request) ? readyModel : undefined;
}

/** The load under way for the model `request` asks for (another page's), if any. */
export function loadUnderWay(request: LoadRequest): Promise<LoadResult> | undefined {
  return loading && sameLoad(loading.request, request) ? loading.result : undefined;
}

/** Runs `task` after every task queued before it, failed or not. */
export function serially<T>(task: () => Promise<T>): Promise<T> {
  const result = queue.then(task, task);
  queue = result.catch(() => undefined);
  return result;
}

/** → loading: `result` is the load of `request`, from the model directory `read`; loading ends when it settles. */
export function startLoading(request: LoadRequest, read: ModelDirectoryRead, result: Promise<LoadResult>): void {
  const pending = { request, result };
  loading = pending;
  lastDirectory = read;
  void result.catch(() => undefined).finally(() => {
    if (loading === pending) loading = undefined;
  });
}

/** ready → idle: frees the model, for the load that replaces it. */
export function unload(): void {
  readyModel?.model.context.dispose();
  void readyModel?.model.loaded.runner.dispose();
  readyModel = undefined;
}

/** idle → ready: predictions run on `next.model` from now on. */
export function loaded(next: ReadyModel): void {
  readyModel = next;
}
