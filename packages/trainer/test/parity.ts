/**
 * Checks that an exported model directory computes what our tfjs model computes, in
 * onnxruntime-node and in transformers.js, and that its tokenizer.json tokenizes a
 * history exactly as the Hunch encoding does. Shared by the export and fine-tuning tests.
 */
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { MAX_SEARCH_PIECES, encodeHistory, type HunchEvent, type Vocabulary } from '@hunch/core';
import { expect } from 'vitest';
import type { Checkpoint } from '../src/checkpoint.js';
import { GPT2 } from '../src/model.js';

/** Token ids of a full row and a right-padded row (7 positions), and their attention mask. */
export function fixedInput(vocabulary: Vocabulary) {
  const tokens = (...t: string[]) => [vocabulary.bos, ...t.map((token) => vocabulary.id(token))];
  const full = tokens('<page_view>', 'item:mugs-01', 'item:mugs-02', '<add_to_cart>', 'item:mugs-02', 'item:tea-03');
  const short = tokens('<page_view>', 'item:shoes-02', '<search>');
  const n = full.length;
  const ids = [...full, ...short, ...Array<number>(n - short.length).fill(vocabulary.pad)];
  const mask = [...Array<number>(n).fill(1), ...Array<number>(short.length).fill(1), ...Array<number>(n - short.length).fill(0)];
  return { ids, mask, dims: [2, n] as [number, number] };
}

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
};

const toInt64 = (xs: number[]) => BigInt64Array.from(xs.map(BigInt));

/** Logits [B, T, V] of `checkpoint` in tfjs, and of the exported `modelDir` in onnxruntime-node and transformers.js. */
export async function logitsThreeWays(checkpoint: Checkpoint, modelDir: string, input: ReturnType<typeof fixedInput>) {
  const { ids, mask, dims } = input;
  const [B, T] = dims;
  const V = checkpoint.config.vocabSize;
  const model = new GPT2(checkpoint.config, checkpoint.weights);
  const tfjs = tf.tidy(() => model.forward(tf.tensor2d(ids, [B, T], 'int32'), tf.tensor2d(mask, [B, T], 'int32')).dataSync() as Float32Array);
  model.dispose();

  const session = await ort.InferenceSession.create(join(modelDir, 'onnx/model.onnx'));
  expect(session.inputNames).toEqual(['input_ids', 'attention_mask']);
  const ortOut = await session.run({
    input_ids: new ort.Tensor('int64', toInt64(ids), dims),
    attention_mask: new ort.Tensor('int64', toInt64(mask), dims),
  });
  expect(ortOut.logits!.dims).toEqual([B, T, V]);
  await session.release();

  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${dirname(modelDir)}/`;
  const hf = await AutoModelForCausalLM.from_pretrained(basename(modelDir), { local_files_only: true, dtype: 'fp32', device: 'cpu' });
  const hfOut = (await hf({
    input_ids: new Tensor('int64', toInt64(ids), dims),
    attention_mask: new Tensor('int64', toInt64(mask), dims),
  })) as { logits: Tensor };
  expect(hfOut.logits.dims).toEqual([B, T, V]);
  await hf.dispose();
  return { tfjs, ort: ortOut.logits!.data as Float32Array, transformers: hfOut.logits.data as Float32Array };
}

/** A history with views, cart, and searches (one with punctuation, case and a non-ASCII letter). */
export const TOKENIZER_EVENTS: Array<Pick<HunchEvent, 'name' | 'params'>> = [
  { name: 'page_view', params: {} },
  { name: 'search', params: { search_term: '  Green TEA!' } },
  { name: 'view_item', params: { item_id: 'tea-02' } },
  { name: 'add_to_cart', params: { item_id: 'tea-02' } },
  { name: 'search', params: { search_term: 'Tea für' } },
];

/**
 * Asserts that transformers.js, reading `modelDir`'s tokenizer.json, turns the history
 * (raw search text, other events as their Hunch token strings) into the Hunch ids.
 */
export async function expectTokenizerMatches(modelDir: string, vocabulary: Vocabulary, events = TOKENIZER_EVENTS): Promise<number[]> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${dirname(modelDir)}/`;
  const tokenizer = await AutoTokenizer.from_pretrained(basename(modelDir));
  const hunchIds = encodeHistory(events, vocabulary, 64);
  const bos = vocabulary.tokens[vocabulary.bos]!;
  const text = [bos, ...events.map((e) => (e.name === 'search' ? `<search> ${e.params.search_term}` : vocabulary.eventTokens(e).join(' ')))].join(' ');
  for (const event of events.filter((e) => e.name === 'search')) {
    expect(vocabulary.eventTokens(event).length - 1, vocabulary.eventTokens(event).join(' ')).toBeLessThan(MAX_SEARCH_PIECES); // no piece capped away
  }
  expect(hunchIds).not.toContain(vocabulary.unk);
  expect(tokenizer.encode(text, { add_special_tokens: false })).toEqual(hunchIds);
  return hunchIds;
}
