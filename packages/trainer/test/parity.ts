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
import { GPT2, type GPT2Config } from '../src/model.js';

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

export const toInt64 = (xs: number[]) => BigInt64Array.from(xs.map(BigInt));

/** The graph's inputs besides the cache, in order. */
export const CACHE_INPUTS = (nLayer: number) => Array.from({ length: nLayer }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();

/** An empty KV cache (past length 0) for a first call. */
export function emptyPast(config: GPT2Config, batch: number): Record<string, ort.Tensor> {
  const shape = [batch, config.nHead, 0, config.nEmbd / config.nHead];
  return Object.fromEntries(CACHE_INPUTS(config.nLayer).map((name) => [name, new ort.Tensor('float32', new Float32Array(0), shape)]));
}

/** The present.* outputs of one call as the past_key_values.* inputs of the next. */
export function pastFrom(outputs: ort.InferenceSession.OnnxValueMapType): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(outputs).filter(([name]) => name.startsWith('present.')).map(([name, t]) => [name.replace('present.', 'past_key_values.'), t as ort.Tensor]));
}

/**
 * One onnxruntime-node call: ids and mask [B, T] (mask [B, past + T] with a past);
 * num_logits_to_keep `keep` (0: logits for every position).
 */
export async function ortRun(
  session: ort.InferenceSession,
  config: GPT2Config,
  ids: number[],
  mask: number[],
  dims: [number, number],
  past?: Record<string, ort.Tensor>,
  keep = 0,
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const pastLength = past ? past['past_key_values.0.key']!.dims[2]! : 0;
  return session.run({
    input_ids: new ort.Tensor('int64', toInt64(ids), dims),
    attention_mask: new ort.Tensor('int64', toInt64(mask), [dims[0], pastLength + dims[1]]),
    ...(past ?? emptyPast(config, dims[0])),
    num_logits_to_keep: new ort.Tensor('int64', toInt64([keep]), []),
  });
}

/** Logits [B, T, V] of `checkpoint` in tfjs, and of the exported `modelDir` in onnxruntime-node and transformers.js. */
export async function logitsThreeWays(checkpoint: Checkpoint, modelDir: string, input: ReturnType<typeof fixedInput>) {
  const { ids, mask, dims } = input;
  const [B, T] = dims;
  const V = checkpoint.config.vocabSize;
  const model = new GPT2(checkpoint.config, checkpoint.weights);
  const tfjs = tf.tidy(() => model.forward(tf.tensor2d(ids, [B, T], 'int32'), tf.tensor2d(mask, [B, T], 'int32')).dataSync() as Float32Array);
  model.dispose();

  const session = await ort.InferenceSession.create(join(modelDir, 'onnx/model.onnx'));
  expect(session.inputNames).toEqual(['input_ids', 'attention_mask', ...CACHE_INPUTS(checkpoint.config.nLayer), 'num_logits_to_keep']);
  const ortOut = await ortRun(session, checkpoint.config, ids, mask, dims);
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

/**
 * `checkpoint` with all three next-item heads (next-item/heads.ts), made up but far from trivial:
 * an item bias, a repeat bonus, and cosine scoring with scale `cosineScale`.
 */
export function withHeads(checkpoint: Checkpoint, cosineScale = 14): Checkpoint {
  const { vocabSize: V, nEmbd: D } = checkpoint.config;
  const wave = (n: number, k: number, amplitude: number) => Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin(i * k + 0.3));
  const weights = new Map(checkpoint.weights);
  weights.set('lm_head.bias', { shape: [V], data: wave(V, 1.7, 1) });
  weights.set('hunch.repeat.weight', { shape: [D], data: wave(D, 2.3, 0.5) });
  weights.set('hunch.repeat.bias', { shape: [1], data: Float32Array.of(0.7) });
  if (cosineScale) weights.set('hunch.cosine.scale', { shape: [1], data: Float32Array.of(cosineScale) });
  return { ...checkpoint, weights };
}

/** Indices of the k largest of `scores` among `candidates`. */
export function topK(scores: ArrayLike<number>, candidates: number[], k: number): number[] {
  return [...candidates].sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, k);
}
