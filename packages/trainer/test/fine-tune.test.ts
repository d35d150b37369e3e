import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Vocabulary, type HunchEvent } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { initFromBase, readBaseModel, type BaseModel } from '../src/base-model.js';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../src/checkpoint.js';
import { exportModel } from '../src/export.js';
import { decodeSafetensors, encodeSafetensors } from '../src/safetensors.js';
import { DEFAULT_EVENT_TRAIN_OPTIONS, trainEvents, type EventTrainOptions } from '../src/train-events.js';
import { writeEventsFile } from './event-files.js';
import { catalogPath, simulated } from './helpers.js';
import { expectTokenizerMatches, fixedInput, logitsThreeWays, maxAbsDiff } from './parity.js';
import { writeTinyGpt2, type TinyGpt2 } from './tiny-gpt2.js';

let work: string;
let eventsPath: string;
let tiny: TinyGpt2;
let base: BaseModel;
let tuned: Checkpoint;
let losses: number[];

const options: EventTrainOptions = { ...DEFAULT_EVENT_TRAIN_OPTIONS, context: 16, epochs: 6, batchTokens: 256, lr: 1e-2, dropout: 0, seed: 5, workers: 1 };

beforeAll(async () => {
  await useWasmBackend();
  work = await mkdtemp(join(tmpdir(), 'hunch-fine-tune-'));
  eventsPath = join(work, 'events.ndjson');
  await writeEventsFile(eventsPath, simulated(300, 6));
  tiny = await writeTinyGpt2(join(work, 'gpt2'), { seed: 1, nPositions: 24 });
  base = await readBaseModel(tiny.dir);
  const result = await trainEvents(eventsPath, { ...options, base });
  tuned = result.checkpoint;
  losses = result.trained.history.map((h) => h.loss);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('reading a Hugging Face GPT-2 directory', () => {
  it('takes its tokens by id and its tensors without the transformer. prefix, buffers dropped', () => {
    expect(base.vocabulary.tokens).toEqual(tiny.tokens);
    expect(base.config).toMatchObject({ vocabSize: tiny.tokens.length, nPositions: 24, nEmbd: 16, nLayer: 2, nHead: 2 });
    expect(base.weights.get('transformer.wte.weight')!.data).toEqual(tiny.wte);
    expect([...base.weights.keys()].every((name) => name.startsWith('transformer.'))).toBe(true);
    expect([...base.weights.keys()].some((name) => name.endsWith('.attn.bias'))).toBe(false);
  });

  it('accepts a tied lm_head.weight and refuses an untied one', async () => {
    const withHead = await writeTinyGpt2(join(work, 'gpt2-head'), { seed: 1, nPositions: 24, lmHead: true });
    expect((await readBaseModel(withHead.dir)).weights.has('lm_head.weight')).toBe(false);
    const path = join(withHead.dir, 'model.safetensors');
    const { tensors } = decodeSafetensors(await readFile(path));
    tensors.get('lm_head.weight')!.data[3]! += 1;
    await writeFile(path, encodeSafetensors(tensors));
    await expect(readBaseModel(withHead.dir)).rejects.toThrow(/lm_head.weight differs/);
  });
});

describe('reading a published model directory (hunch export)', () => {
  it('takes its vocabulary and merges from hunch.json, its weights checked against config.json', async () => {
    const dir = fileURLToPath(new URL('../../../models/demo', import.meta.url));
    const published = await readBaseModel(dir);
    const manifest = JSON.parse(await readFile(join(dir, 'hunch.json'), 'utf8')) as { vocabulary: string[]; merges: Array<[string, string]> };
    expect(published.vocabulary.tokens).toEqual(manifest.vocabulary);
    expect(published.vocabulary.merges).toEqual(manifest.merges);
    expect(published.config.vocabSize).toBe(manifest.vocabulary.length);
    expect(published.weights.get('transformer.wte.weight')!.shape).toEqual([manifest.vocabulary.length, published.config.nEmbd]);
    // Its tokenizer.json is rebuilt from the grown vocabulary on export, not extended.
    expect(published.tokenizer).toBeUndefined();
  });
});

describe('fine-tuning from a GPT-2', () => {
  it('extends the vocabulary: base tokens at their ids, then [UNK], actions and items', () => {
    const V = tiny.tokens.length;
    const vocabulary = new Vocabulary(tuned.metadata.vocabulary, tuned.metadata.merges);
    expect(vocabulary.tokens.slice(0, V)).toEqual(tiny.tokens);
    const added = vocabulary.tokens.slice(V);
    expect(added[0]).toBe('[UNK]');
    const actions = ['<add_to_cart>', '<begin_checkout>', '<page_view>', '<purchase>', '<remove_from_cart>', '<search>', '<select_item>', '<view_cart>', '<view_item_list>'];
    expect(added.filter((t) => t.startsWith('<'))).toEqual(actions);
    expect(added.filter((t) => t.startsWith('item:')).length).toBe(added.length - 1 - actions.length);
    expect(vocabulary.bos).toBe(V - 1); // <|endoftext|>
    // Search text is in the base model's own BPE tokens.
    const pieces = vocabulary.eventTokens({ name: 'search', params: { search_term: 'Green tea mugs' } }).slice(1);
    expect(pieces).toEqual(['green', 'Ġtea', 'Ġmugs']);
    expect(pieces.every((p) => vocabulary.id(p) < V)).toBe(true);
    expect(tuned.config).toMatchObject({ vocabSize: vocabulary.size, nPositions: 16, nEmbd: 16, nLayer: 2 });
  });

  it('starts from the base weights: wte rows copied exactly, new rows near their mean, wpe cut to the context', () => {
    const vocabulary = new Vocabulary(tuned.metadata.vocabulary, tuned.metadata.merges);
    const { config, init } = initFromBase(base, vocabulary, 16, 5);
    const V = tiny.tokens.length;
    const D = 16;
    const wte = init.get('transformer.wte.weight')!;
    expect(wte.shape).toEqual([vocabulary.size, D]);
    expect(wte.data.subarray(0, V * D)).toEqual(tiny.wte);
    const mean = Array.from({ length: D }, (_, d) => tiny.wte.filter((_, i) => i % D === d).reduce((a, b) => a + b, 0) / V);
    for (let row = V; row < vocabulary.size; row++) {
      for (let d = 0; d < D; d++) expect(Math.abs(wte.data[row * D + d]! - mean[d]!)).toBeLessThan(0.1); // 5 sigma of the 0.02 noise
    }
    expect(wte.data.subarray(V * D, (V + 1) * D)).not.toEqual(wte.data.subarray((V + 1) * D, (V + 2) * D));
    expect(init.get('transformer.wpe.weight')!.data).toEqual(base.weights.get('transformer.wpe.weight')!.data.slice(0, 16 * D));
    expect(init.get('transformer.h.1.mlp.c_fc.weight')).toBe(base.weights.get('transformer.h.1.mlp.c_fc.weight'));
    expect(config.nPositions).toBe(16);
    expect(() => initFromBase(base, vocabulary, 25, 5)).toThrow(/exceeds the base model's 24 positions/);
  });

  it('makes the loss fall', () => {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`fine-tuning loss: first steps ${mean(losses.slice(0, 3)).toFixed(3)}, last steps ${mean(losses.slice(-5)).toFixed(3)}`);
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 3)) * 0.8);
  });

  it('refuses a context beyond the base model positions', async () => {
    await expect(trainEvents(eventsPath, { ...options, context: 32, base })).rejects.toThrow(/context 32 exceeds .* 24 positions/);
  });

  it('exports a model whose logits agree in tfjs, onnxruntime-node and transformers.js, with the extended tokenizer', async () => {
    const checkpointDir = join(work, 'tuned');
    const modelDir = join(work, 'tuned-model');
    await writeCheckpoint(checkpointDir, tuned);
    const read = await readCheckpoint(checkpointDir);
    await exportModel({ checkpoint: checkpointDir, catalog: catalogPath, out: modelDir });
    const vocabulary = new Vocabulary(read.metadata.vocabulary, read.metadata.merges);

    const logits = await logitsThreeWays(read, modelDir, fixedInput(vocabulary));
    expect(maxAbsDiff(logits.ort, logits.tfjs)).toBeLessThan(1e-4);
    expect(maxAbsDiff(logits.transformers, logits.tfjs)).toBeLessThan(1e-4);

    const ids = await expectTokenizerMatches(modelDir, vocabulary);
    expect(ids[0]).toBe(tiny.tokens.length - 1);
    const tokenizer = JSON.parse(await readFile(join(modelDir, 'tokenizer.json'), 'utf8')) as {
      added_tokens: Array<{ id: number; content: string }>;
      model: { vocab: Record<string, number>; merges: string[] };
    };
    // The base tokenizer, extended: its BPE model untouched, the behaviour tokens added with their ids.
    const baseJson = JSON.parse(await readFile(join(tiny.dir, 'tokenizer.json'), 'utf8')) as typeof tokenizer;
    expect(tokenizer.model.vocab).toEqual(baseJson.model.vocab);
    expect(tokenizer.model.merges).toEqual(baseJson.model.merges);
    expect(tokenizer.added_tokens.map((t) => [t.id, t.content])).toEqual(vocabulary.tokens.slice(tiny.tokens.length - 1).map((t, i) => [tiny.tokens.length - 1 + i, t]));
    const config = JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as Record<string, number>;
    expect([config.bos_token_id, config.pad_token_id, config.vocab_size]).toEqual([vocabulary.bos, vocabulary.pad, vocabulary.size]);
  });

  it('fine-tunes one of our checkpoints on new events, adding their new items', async () => {
    const ours = join(work, 'ours');
    await writeCheckpoint(ours, tuned);
    const extra: HunchEvent = { id: '00000000-0000-4000-8000-00000000beef', name: 'view_item', ts: Date.UTC(2025, 0, 1), sessionId: 'new', params: { item_id: 'new-01' } };
    const more = join(work, 'more.ndjson');
    // New sessions over the items it knows (a new simulation also reaches items the first one missed), and one new item.
    const known = new Set(tuned.metadata.vocabulary);
    await writeEventsFile(more, [...simulated(40, 9).filter((event) => event.params.item_id === undefined || known.has(`item:${event.params.item_id}`)), extra]);
    const again = await trainEvents(more, { ...options, epochs: 1, base: await readBaseModel(ours) });
    expect(again.checkpoint.metadata.vocabulary).toEqual([...tuned.metadata.vocabulary, 'item:new-01']);
    expect(again.checkpoint.metadata.training.base).toBe(ours);
    // Its tokenizer is the GPT-2's, extended once more.
    const added = (again.checkpoint.tokenizer as { added_tokens: Array<{ content: string }> }).added_tokens.map((t) => t.content);
    expect(added.at(-1)).toBe('item:new-01');
    expect(added.filter((t) => t === '[UNK]')).toHaveLength(1);
  });
});
