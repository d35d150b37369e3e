/**
 * One model loaded on one backend, and one forward pass of it: the last position's logits
 * (with the repeat bonus the graph leaves to its caller) and the new KV cache.
 * transformers.js loads the model directory; each step then runs its onnxruntime session
 * directly, on onnxruntime tensors: its model call (input checks, a wrapper per tensor) cost
 * a tenth of a millisecond or more per event, and the worker keeps the cache itself anyway.
 */
import { AutoModelForCausalLM, type PreTrainedModel } from '@huggingface/transformers';
import { Vocabulary, type CatalogItem, type HunchManifest } from '@hunch/core';
import { addRepeatBonus, lastRow } from './ranking.js';
import { ItemScorer } from './item-head/scorer.js';
import { splitItemHead } from './item-head/split.js';
import { modelLoaded, prepareModelFiles, webgpuDeviceInUse, type ModelFileRewrite } from './runtime.js';
import { actionTokenIds, type ActionTokenId } from './signals.js';
import { chooseDtype, type DtypeChoice } from './variant.js';
import type { Backend, LoadTimings, ModelDtype } from './protocol.js';
// The onnxruntime-web transformers.js runs on (rollup resolves it to the worker's bundle build).
import { Tensor } from 'onnxruntime-web/webgpu';

/** past_key_values.{i}.key/value, as the graph takes them. */
export type KvCache = Record<string, Tensor>;

/** What a step needs of the onnxruntime session transformers.js created. */
export interface ModelSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
}

export interface LoadedModel {
  model: PreTrainedModel;
  /** The model's onnxruntime session, which forward() runs. */
  session: ModelSession;
  /** An empty cache (past length 0): the past_key_values of a first call. */
  emptyCache: () => KvCache;
  backend: Backend;
  variant: DtypeChoice;
  manifest: HunchManifest;
  vocabulary: Vocabulary;
  items: Array<{ tokenId: number; itemId: string }>;
  /** items[i].tokenId, as a typed array for the softmax over every item (ranking.ts itemDistribution). */
  itemTokens: Int32Array;
  itemTokenIds: ReadonlySet<number>;
  actions: ActionTokenId[];
  catalog: ReadonlyMap<string, CatalogItem>;
  /** The graph output holding the repeat bonus (hunch.json onnx.repeat), if the model has one. */
  repeatOutput: string | undefined;
  /**
   * Set when the worker scores items itself (item-head/): the graph was loaded without its
   * int8 LM head and returns `query`, which `scorer` turns into the logits. WASM only: on
   * WebGPU the head stays in the graph, on the GPU.
   */
  itemHead: { query: string; scorer: ItemScorer } | undefined;
  /** Milliseconds spent reading the runtime, creating the session and building the indexes. */
  timings: Pick<LoadTimings, 'runtime' | 'session' | 'index'>;
}

/** hunch.json and its catalog by item id: read once per load, shared by both backends of a race and the page's catalog requests. */
export interface ModelManifest {
  manifest: HunchManifest;
  catalog: ReadonlyMap<string, CatalogItem>;
}

export async function loadModel(modelUrl: string, { manifest, catalog }: ModelManifest, backend: Backend, requested?: ModelDtype): Promise<LoadedModel> {
  const variant = chooseDtype(manifest, backend, requested);
  let lapStart = performance.now();
  /** Milliseconds since the previous lap. */
  const lap = () => {
    const now = performance.now();
    const ms = now - lapStart;
    lapStart = now;
    return ms;
  };
  let itemHead: LoadedModel['itemHead'];
  const cutHead: ModelFileRewrite = {
    path: variant.file,
    rewrite: (bytes) => {
      const cut = withOwnItemHead(bytes);
      itemHead = cut?.itemHead;
      return cut?.body ?? bytes;
    },
  };
  const id = await prepareModelFiles(modelUrl, manifest, backend === 'wasm' ? cutHead : undefined);
  const runtime = lap();
  const model = await AutoModelForCausalLM.from_pretrained(id, { local_files_only: true, device: backend, dtype: variant.dtype });
  // onnxruntime-web would fall back to WASM silently: check that WebGPU really runs.
  if (backend === 'webgpu' && !webgpuDeviceInUse()) {
    await model.dispose();
    throw new Error('asked onnxruntime for webgpu but it runs on wasm');
  }
  const session = (model as unknown as { sessions: Record<string, ModelSession | undefined> }).sessions.model;
  if (!session) {
    await model.dispose();
    throw new Error(`transformers.js made no session for ${variant.file}`);
  }
  const repeatOutput = manifest.onnx?.repeat?.output;
  if (repeatOutput && !session.outputNames.includes(repeatOutput)) {
    await model.dispose();
    throw new Error(`hunch.json names the repeat output ${repeatOutput} but ${variant.file} has none`);
  }
  const config = model.config as unknown as { n_head?: number; n_embd?: number };
  const heads = manifest.onnx?.cache.heads ?? config.n_head ?? 1;
  const headDim = manifest.onnx?.cache.headDim ?? (config.n_embd ?? heads) / heads;
  const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values.'));
  const emptyCache = () => Object.fromEntries(pastNames.map((name) => [name, new Tensor('float32', new Float32Array(0), [1, heads, 0, headDim])]));
  // Loaded: keep this version's files (and manifest) for offline visits, drop other versions'.
  await modelLoaded(modelUrl, manifest);
  const sessionMs = lap();
  const vocabulary = new Vocabulary(manifest.vocabulary, manifest.merges);
  if (itemHead && itemHead.scorer.rows !== vocabulary.size) {
    await model.dispose();
    throw new Error(`${variant.file} scores ${itemHead.scorer.rows} tokens but hunch.json has ${vocabulary.size}`);
  }
  const items = vocabulary.items();
  const itemTokenIds = new Set(items.map(({ tokenId }) => tokenId));
  const actions = actionTokenIds(vocabulary.tokens);
  return {
    timings: { runtime, session: sessionMs, index: lap() },
    model,
    session,
    emptyCache,
    backend,
    variant,
    manifest,
    vocabulary,
    items,
    itemTokens: Int32Array.from(items, ({ tokenId }) => tokenId),
    itemTokenIds,
    actions,
    catalog,
    repeatOutput,
    itemHead,
  };
}

/**
 * The graph without its int8 LM head, and the worker's scorer in its place; undefined keeps the
 * graph whole (its logits are not an int8 tied head, no WebAssembly SIMD, or bytes this cannot
 * read: still a valid model, whose head onnxruntime then runs).
 */
function withOwnItemHead(bytes: Uint8Array): { body: Uint8Array; itemHead: NonNullable<LoadedModel['itemHead']> } | undefined {
  try {
    const split = splitItemHead(bytes);
    const scorer = split && ItemScorer.create(split.head);
    return split && scorer ? { body: split.body, itemHead: { query: split.head.query, scorer } } : undefined;
  } catch {
    return undefined;
  }
}

export interface ForwardResult {
  /** The last position's logits, repeat bonus added: `into`, or a new array (the outputs are freed). */
  logits: Float32Array;
  /** The cache after these tokens: `past` and the new tokens. */
  cache: KvCache;
}

/**
 * Runs `newTokens` after `past` (the cache of `contextTokens[0 .. past length)`; none: from
 * scratch). `contextTokens` is the whole window, new tokens included: the repeat bonus goes
 * to every item in it. Only the last position's logits are computed (num_logits_to_keep = 1;
 * a graph without that input ignores it and returns every position, of which the last is read).
 * The logits are written to `into` when given (vocabulary-sized, reused across steps: a fresh
 * 43k-float copy per event cost ~0.5 ms in Chromium, in allocating it).
 */
export async function forward(
  loaded: LoadedModel,
  newTokens: readonly number[],
  contextTokens: readonly number[],
  past?: KvCache,
  into: Float32Array = new Float32Array(loaded.vocabulary.size),
): Promise<ForwardResult> {
  const { session, vocabulary, itemTokenIds, repeatOutput, itemHead } = loaded;
  const inputs: Record<string, Tensor> = {
    input_ids: new Tensor('int64', BigInt64Array.from(newTokens, BigInt), [1, newTokens.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(contextTokens.length).fill(1n), [1, contextTokens.length]),
    num_logits_to_keep: new Tensor('int64', BigInt64Array.of(1n), []),
    ...(past ?? loaded.emptyCache()),
  };
  // Only the inputs the graph has (an older export has no num_logits_to_keep).
  const missing = session.inputNames.filter((name) => !inputs[name]);
  if (missing.length > 0) throw new Error(`the model wants inputs this worker does not feed: ${missing.join(', ')}`);
  const outputs = await session.run(Object.fromEntries(session.inputNames.map((name) => [name, inputs[name]!])));
  const cache: KvCache = {};
  try {
    const output = (name: string) => {
      const tensor = outputs[name];
      if (!tensor) throw new Error(`the model returned no ${name}`);
      return tensor;
    };
    // The logits go to `into`: scored there, or copied from the graph's output (freed below).
    if (itemHead) {
      const query = output(itemHead.query);
      itemHead.scorer.score(lastRow(query.data as Float32Array, query.dims, itemHead.scorer.width, itemHead.query), into);
    } else {
      const logits = output('logits');
      into.set(lastRow(logits.data as Float32Array, logits.dims, vocabulary.size, 'logits'));
    }
    if (repeatOutput) {
      const bonus = output(repeatOutput);
      addRepeatBonus(into, contextTokens, itemTokenIds, lastRow(bonus.data as Float32Array, bonus.dims, 1, repeatOutput)[0]!, into);
    }
    const logits = into;
    for (const [name, tensor] of Object.entries(outputs)) {
      if (name.startsWith('present.')) cache[name.replace('present.', 'past_key_values.')] = tensor;
    }
    return { logits, cache };
  } catch (error) {
    disposeCache(cache);
    throw error;
  } finally {
    // Everything but the cache is read: free it (under WebGPU tensors may hold GPU buffers).
    for (const [name, tensor] of Object.entries(outputs)) if (!name.startsWith('present.')) tensor.dispose?.();
  }
}

export function disposeCache(cache: KvCache | undefined): void {
  for (const tensor of Object.values(cache ?? {})) tensor.dispose?.();
}
