/**
 * The model worker: owns the GPT-2 (through transformers.js on onnxruntime-web) so
 * that loading and inference never touch the shop's main thread.
 */
import { expose } from 'comlink';
import { AutoModelForCausalLM, Tensor, type PreTrainedModel } from '@huggingface/transformers';
import { Vocabulary, encodeHistory, type HunchManifest } from '@hunch/core';
import { chooseBackend } from './backend.js';
import { configureRuntime, prepareModelFiles, webgpuDeviceInUse } from './runtime.js';
import { addRepeatBonus, lastRow, rankItems } from './ranking.js';
import { chooseDtype } from './variant.js';
import type { Backend, LoadRequest, LoadResult, ModelWorkerApi, RecommendRequest, ScoredItem } from './protocol.js';

configureRuntime();

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

const api: ModelWorkerApi = {
  async load({ modelUrl, manifest, backend: preference, dtype: requested }: LoadRequest): Promise<LoadResult> {
    const choice = await chooseBackend(preference);
    const variant = chooseDtype(manifest, choice.backend, requested);
    const id = await prepareModelFiles(modelUrl, manifest);
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
