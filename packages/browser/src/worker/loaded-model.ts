/**
 * One model loaded on one backend, and one forward pass of it: the last position's logits
 * (with the repeat bonus the graph leaves to its caller) and the new KV cache.
 */
import { AutoModelForCausalLM, Tensor, type PreTrainedModel } from '@huggingface/transformers';
import { Vocabulary, type CatalogItem, type HunchManifest } from '@hunch/core';
import { addRepeatBonus, lastRow } from './ranking.js';
import { ItemScorer } from './item-head/scorer.js';
import { splitItemHead } from './item-head/split.js';
import { modelLoaded, prepareModelFiles, webgpuDeviceInUse, type ModelFileRewrite } from './runtime.js';
import { actionTokenIds, type ActionTokenId } from './signals.js';
import { chooseDtype, type DtypeChoice } from './variant.js';
import type { Backend, LoadTimings, ModelDtype } from './protocol.js';

/** past_key_values.{i}.key/value, as the graph takes them. */
export type KvCache = Record<string, Tensor>;

export interface LoadedModel {
  model: PreTrainedModel;
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
      const split = splitItemHead(bytes);
      const scorer = split && ItemScorer.create(split.head);
      if (!split || !scorer) return bytes;
      itemHead = { query: split.head.query, scorer };
      return split.body;
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
  const repeatOutput = manifest.onnx?.repeat?.output;
  const outputNames = (model as unknown as { sessions: Record<string, { outputNames: string[] }> }).sessions.model?.outputNames;
  if (repeatOutput && outputNames && !outputNames.includes(repeatOutput)) {
    await model.dispose();
    throw new Error(`hunch.json names the repeat output ${repeatOutput} but ${variant.file} has none`);
  }
  // Loaded: keep this version's files (and manifest) for offline visits, drop other versions'.
  await modelLoaded(modelUrl, manifest);
  const session = lap();
  const vocabulary = new Vocabulary(manifest.vocabulary, manifest.merges);
  if (itemHead && itemHead.scorer.rows !== vocabulary.size) {
    await model.dispose();
    throw new Error(`${variant.file} scores ${itemHead.scorer.rows} tokens but hunch.json has ${vocabulary.size}`);
  }
  const items = vocabulary.items();
  const itemTokenIds = new Set(items.map(({ tokenId }) => tokenId));
  const actions = actionTokenIds(vocabulary.tokens);
  return {
    timings: { runtime, session, index: lap() },
    model,
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
  const { model, vocabulary, itemTokenIds, repeatOutput, itemHead } = loaded;
  const inputs: Record<string, unknown> = {
    input_ids: new Tensor('int64', BigInt64Array.from(newTokens, BigInt), [1, newTokens.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(contextTokens.length).fill(1n), [1, contextTokens.length]),
    num_logits_to_keep: new Tensor('int64', BigInt64Array.of(1n), []),
  };
  // Without past_key_values transformers.js feeds empty ones (length 0).
  if (past) inputs.past_key_values = past;
  const outputs = (await model(inputs)) as Record<string, Tensor>;
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
