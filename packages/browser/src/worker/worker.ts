/**
 * The model worker: owns the GPT-2 (through transformers.js on onnxruntime-web) so
 * that loading and inference never touch the shop's main thread.
 */
import { expose } from 'comlink';
import { AutoModelForCausalLM, Tensor, env, type PreTrainedModel } from '@huggingface/transformers';
import { Vocabulary, encodeHistory, type HunchManifest } from '@hunch/core';
import { chooseBackend } from './backend.js';
import { addRepeatBonus, lastRow, rankItems } from './ranking.js';
import { chooseDtype } from './variant.js';
import type { Backend, LoadRequest, LoadResult, ModelWorkerApi, RecommendRequest, ScoredItem } from './protocol.js';

// Self-hosted runtime: model files and onnxruntime-web's wasm come from our own origin, never a hub or CDN.
env.allowRemoteModels = false;
env.allowLocalModels = true;
// The manifest decides which model version is current; until hashes are checked, don't serve stale files from the Cache API.
env.useBrowserCache = false;
const ortBase = new URL('./ort/', self.location.href).href;
const onnxEnv = env.backends.onnx as { wasm: { wasmPaths: unknown; numThreads: number }; webgpu?: { device?: unknown } };
onnxEnv.wasm.wasmPaths = {
  mjs: `${ortBase}ort-wasm-simd-threaded.asyncify.mjs`,
  wasm: `${ortBase}ort-wasm-simd-threaded.asyncify.wasm`,
};
onnxEnv.wasm.numThreads = 1; // threads need cross-origin isolation and gave nothing on small models

interface LoadedModel {
  model: PreTrainedModel;
  manifest: HunchManifest;
  vocabulary: Vocabulary;
  items: Array<{ tokenId: number; itemId: string }>;
  itemTokenIds: ReadonlySet<number>;
  /** The graph output holding the repeat bonus (hunch.json onnx.repeat), if the model has one. */
  repeatOutput: string | undefined;
}

let loaded: LoadedModel | undefined;

/** The id transformers.js resolves under `env.localModelPath`: the directory's last segment. */
function splitModelUrl(modelUrl: string): { root: string; id: string } {
  const url = new URL(modelUrl);
  const parts = url.pathname.replace(/\/+$/, '').split('/');
  const id = parts.pop();
  if (!id) throw new Error(`model URL ${modelUrl} must name a directory`);
  return { root: `${url.origin}${parts.join('/')}/`, id };
}

/** onnxruntime-web sets its WebGPU device only once the WebGPU backend really initialised. */
function webgpuDeviceInUse(): boolean {
  return Boolean(onnxEnv.webgpu?.device);
}

const api: ModelWorkerApi = {
  async load({ modelUrl, manifest, backend: preference, dtype: requested }: LoadRequest): Promise<LoadResult> {
    const choice = await chooseBackend(preference);
    const variant = chooseDtype(manifest, choice.backend, requested);
    const { root, id } = splitModelUrl(modelUrl);
    env.localModelPath = root;
    const model = await AutoModelForCausalLM.from_pretrained(id, {
      local_files_only: true,
      device: choice.backend,
      dtype: variant.dtype,
    });
    const backend: Backend = choice.backend === 'webgpu' && webgpuDeviceInUse() ? 'webgpu' : 'wasm';
    if (backend !== choice.backend) throw new Error(`asked onnxruntime for ${choice.backend} but it runs on ${backend}`);
    const vocabulary = new Vocabulary(manifest.vocabulary, manifest.merges);
    const items = vocabulary.items();
    const repeatOutput = manifest.onnx?.repeat?.output;
    const outputNames = (model as unknown as { sessions: Record<string, { outputNames: string[] }> }).sessions.model?.outputNames;
    if (repeatOutput && outputNames && !outputNames.includes(repeatOutput)) {
      throw new Error(`hunch.json names the repeat output ${repeatOutput} but ${variant.file} has none`);
    }
    loaded = { model, manifest, vocabulary, items, itemTokenIds: new Set(items.map(({ tokenId }) => tokenId)), repeatOutput };
    return { backend, reason: `${choice.reason}; ${variant.reason}`, dtype: variant.dtype, modelFile: variant.file };
  },

  async recommend({ events, k, exclude }: RecommendRequest): Promise<ScoredItem[]> {
    if (!loaded) throw new Error('no model loaded');
    const { model, manifest, vocabulary, items, itemTokenIds, repeatOutput } = loaded;
    const ids = encodeHistory(events, vocabulary, manifest.encoding.maxLength);
    const inputIds = new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
    const attentionMask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
    // A first call with no cache: transformers.js feeds empty past_key_values.*. Only the last
    // position's logits are needed; a graph without num_logits_to_keep ignores it and returns all.
    const numLogitsToKeep = new Tensor('int64', BigInt64Array.of(1n), []);
    const outputs = (await model({ input_ids: inputIds, attention_mask: attentionMask, num_logits_to_keep: numLogitsToKeep })) as Record<string, Tensor>;
    try {
      const logits = outputs.logits!;
      let last = lastRow(logits.data as Float32Array, logits.dims, vocabulary.size, 'logits');
      if (repeatOutput) {
        const bonus = outputs[repeatOutput];
        if (!bonus) throw new Error(`the model returned no ${repeatOutput}`);
        last = addRepeatBonus(last, ids, itemTokenIds, lastRow(bonus.data as Float32Array, bonus.dims, 1, repeatOutput)[0]!);
      }
      return rankItems(last, items, k, new Set(exclude));
    } finally {
      // present.* stay on the GPU under WebGPU: free them, nothing reuses this cache.
      for (const tensor of Object.values(outputs)) tensor.dispose?.();
    }
  },
};

expose(api);
