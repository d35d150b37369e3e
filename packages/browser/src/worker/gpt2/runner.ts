/**
 * The worker's own GPT-2 as a model runner (runner.ts): on WASM, for a Hunch int8 export,
 * the worker reads the checked file, unpacks its weights and runs it itself (model.ts),
 * scoring items with the SIMD kernel on the int8 table. No onnxruntime-web to start, no
 * session to create: a cold start reads one 3 MB file from the Cache API.
 */
import type { HunchManifest } from '@hunch/core';
import { tableScorer, webgpuTableScorer } from '../item-head/item-table.js';
import type { Backend } from '../protocol.js';
import { keepOnlyModel, verifiedModelFile } from '../model-files.js';
import { isListedShard } from '../shard-listing.js';
import type { ModelCache, ModelRunner, RunnerStep } from '../runner.js';
import type { DtypeChoice } from '../variant.js';
import { Gpt2, Gpt2Cache } from './model.js';
import { readGpt2Weights } from './weights.js';

/** The model's cache, extended in place by each step (the context never reads a cache twice). */
class OwnCache implements ModelCache {
  constructor(readonly cache: Gpt2Cache) {}
  dispose(): void {
    // Plain arrays: collected.
  }
}

/**
 * The runner, or undefined when this model is not one it runs (not int8 or pq, not a Hunch export
 * of exactly a GPT-2, no WebAssembly SIMD for the kernels; on `backend` webgpu: not pq, or no real
 * WebGPU adapter to score its items on): onnxruntime-web then loads it. Throws
 * when the file cannot be read or fails its hash, as onnxruntime's load would.
 */
export async function loadGpt2Runner(modelUrl: string, manifest: HunchManifest, variant: DtypeChoice, backend: Backend = 'wasm'): Promise<ModelRunner | undefined> {
  const heads = manifest.onnx?.cache.heads;
  // On WebGPU only the pq table's scoring moves to the GPU (the transformer is ~100k multiply-adds: the CPU's).
  const readable = backend === 'wasm' ? variant.dtype === 'q8' || variant.dtype === 'pq' : variant.dtype === 'pq';
  if (!readable || heads === undefined) return undefined;
  const entry = Object.hasOwn(manifest.files, variant.file) ? manifest.files[variant.file] : undefined;
  if (!entry) throw new Error(`model file ${variant.file} is not listed in hunch.json`);
  const bytes = new Uint8Array(await verifiedModelFile(modelUrl, variant.file, entry));
  let weights;
  try {
    weights = readGpt2Weights(bytes, heads);
  } catch {
    return undefined; // bytes it cannot read: onnxruntime says what is wrong with them
  }
  const scorer = weights && (backend === 'wasm' ? tableScorer(weights.items, weights.itemBias) : await webgpuTableScorer(weights.items, weights.itemBias));
  const model = weights && Gpt2.create(weights);
  if (!weights || !scorer || !model) {
    scorer?.dispose?.();
    return undefined;
  }
  // As onnxruntime's load: the repeat bonus is added where hunch.json asks for it, and must be there.
  const repeatWanted = Boolean(manifest.onnx?.repeat);
  if (repeatWanted && !weights.repeat) throw new Error(`hunch.json names the repeat output ${manifest.onnx!.repeat!.output} but ${variant.file} has none`);
  // Loaded: keep this version's files (and manifest) for offline visits, drop other versions'.
  await keepOnlyModel(modelUrl, manifest, (path, sha256) => isListedShard(modelUrl, manifest, path, sha256));

  return {
    engine: 'hunch-gpt2',
    itemScoring: scorer.itemScoring,
    returnsQuery: true,
    scoredTokens: weights.vocabulary,
    async step(newTokens, contextLength, past, into): Promise<RunnerStep> {
      const cache = past ? (past as OwnCache).cache : model.newCache();
      if (cache.length + newTokens.length !== contextLength) throw new Error(`gpt2: a cache of ${cache.length} tokens and ${newTokens.length} new for a context of ${contextLength}`);
      const { query, repeat } = model.run(newTokens, cache);
      await scorer.score(query, into);
      return { cache: past ?? new OwnCache(cache), repeat: repeatWanted ? repeat : undefined, query };
    },
    embedNewItems: (rows) => model.setExtraInputs(rows),
    dispose: () => {
      scorer.dispose?.();
      return Promise.resolve();
    },
  };
}
