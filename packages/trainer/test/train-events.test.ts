import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Vocabulary, type HunchEvent } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import { GPT2, type GPT2Config } from '../src/model.js';
import { nextItemShapes } from '../src/next-item/heads.js';
import { shardGradients, type ShardInput } from '../src/next-item/loss.js';
import { ParamLayout } from '../src/next-item/param-layout.js';
import { rankNextItems } from '../src/predict.js';
import { DEFAULT_EVENT_TRAIN_OPTIONS, trainEvents, type EventTrainOptions } from '../src/train-events.js';
import { writeEventsFile } from './event-files.js';
import { expectFiniteDifferences, simulated } from './helpers.js';

let work: string;
let eventsPath: string;
/** The line number of the one broken line, after the simulated events. */
let brokenLine: number;
beforeAll(async () => {
  await useWasmBackend();
  work = await mkdtemp(join(tmpdir(), 'hunch-train-events-'));
  eventsPath = join(work, 'events.ndjson');
  const events = simulated(1200, 2);
  brokenLine = events.length + 1;
  await writeEventsFile(eventsPath, events, ['{"broken": true}']);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const tiny: EventTrainOptions = {
  ...DEFAULT_EVENT_TRAIN_OPTIONS,
  layers: 2,
  embd: 16,
  heads: 2,
  context: 16,
  epochs: 6,
  batchTokens: 256,
  lr: 5e-3,
  dropout: 0,
  seed: 3,
  workers: 1,
};

describe('the loss hunch train optimises (plain heads, full softmax)', () => {
  // Tokens 0..2 specials, 3..5 "actions", 6..13 items; a full softmax scores 3..13.
  const config: GPT2Config = { vocabSize: 14, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };
  const layout = new ParamLayout(nextItemShapes(config, { itemBias: false, repeat: false }));
  const isItem = Uint8Array.from({ length: 14 }, (_, i) => (i >= 6 ? 1 : 0));
  const candidates = Int32Array.from({ length: 11 }, (_, i) => i + 3);
  const params = new Float32Array(layout.size);
  const rng = new Rng(8);
  for (const { name, offset, size } of layout.entries) {
    const gain = /ln_(\d|f)\.weight$/.test(name) ? 1 : 0;
    for (let i = offset; i < offset + size; i++) params[i] = gain + rng.normal() * 0.3;
  }
  // Action targets, an item repeat (7), and a shorter row.
  const rows = [Int32Array.from([1, 7, 3, 7, 9, 4, 12]), Int32Array.from([1, 6, 5, 13])];
  const input: ShardInput = {
    rows,
    rowSeeds: [1, 2],
    negatives: candidates,
    negativeLogKQ: new Float32Array(candidates.length),
    normalizer: 9,
    dropout: 0,
  };

  it('is the cross-entropy of the GPT-2 logits over the candidate tokens', () => {
    const loss = shardGradients(config, layout, params, isItem, input).lossSum / input.normalizer;
    const model = new GPT2(config, layout.toTensorMap(params));
    let total = 0;
    for (const row of rows) {
      const logits = tf.tidy(() => model.forward(tf.tensor2d([Array.from(row.slice(0, -1))], [1, row.length - 1], 'int32')).arraySync()[0]!);
      for (let t = 0; t + 1 < row.length; t++) {
        const scores = Array.from(candidates, (c) => logits[t]![c]!);
        const max = Math.max(...scores);
        const logSum = max + Math.log(scores.reduce((s, x) => s + Math.exp(x - max), 0));
        total += logSum - logits[t]![row[t + 1]!]!;
      }
    }
    model.dispose();
    expect(loss).toBeCloseTo(total / 9, 4);
  });

  it('has gradients that match central finite differences', () => {
    const out = shardGradients(config, layout, params, isItem, input);
    const lossAt = () => shardGradients(config, layout, params, isItem, input).lossSum / input.normalizer;
    const wte = new Float32Array(14 * 8);
    out.rows.forEach((token, u) => wte.set(out.wteGrad.subarray(u * 8, u * 8 + 8), token * 8));
    const analytic = new Map<string, Float32Array>([...out.dense, ['transformer.wte.weight', wte]]);
    const checked = ['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.attn.c_attn.weight', 'transformer.h.1.mlp.c_proj.weight', 'transformer.ln_f.weight'];
    expect(expectFiniteDifferences(params, (name) => layout.view(params, name), analytic, checked, lossAt)).toBe(checked.length * 3);
  });
});

describe('trainEvents', () => {
  it('makes the loss fall, validates, and learns that mugs follow mugs', async () => {
    const lines: string[] = [];
    const { checkpoint, trained, skipped } = await trainEvents(eventsPath, { ...tiny, log: (line) => lines.push(line) });
    expect(skipped).toBe(1);
    expect(lines.join('\n')).toContain(`skipped 1 invalid line(s): line ${brokenLine} (unknown event name`);
    const { training } = checkpoint.metadata;
    expect(training.softmax).toBe('full');
    expect(training.validation!.sequences).toBeGreaterThan(0);
    expect(training.validation!.mrr20).toBeGreaterThan(0.1);
    const losses = trained.history.map((h) => h.loss);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 3)) * 0.7);
    // Plain GPT-2 tensors only: what the ONNX graph computes.
    expect([...checkpoint.weights.keys()].filter((name) => !name.startsWith('transformer.'))).toEqual([]);
    expect(checkpoint.config.nPositions).toBe(16);

    const vocabulary = new Vocabulary(checkpoint.metadata.vocabulary, checkpoint.metadata.merges);
    const history: Array<Pick<HunchEvent, 'name' | 'params'>> = ['mugs-01', 'mugs-04', 'mugs-08'].map((item_id) => ({ name: 'view_item', params: { item_id } }));
    const top = await rankNextItems(checkpoint.config, checkpoint.weights, vocabulary, history, 6);
    expect(top.filter((t) => t.itemId.startsWith('mugs-')).length).toBeGreaterThanOrEqual(4);
  });

  it('gives the same weights for the same seed, and switches to sampled negatives for a large vocabulary', async () => {
    const short = { ...tiny, epochs: 1 };
    const first = await trainEvents(eventsPath, short);
    const again = await trainEvents(eventsPath, short);
    for (const [name, tensor] of first.checkpoint.weights) expect(again.checkpoint.weights.get(name)!.data, name).toEqual(tensor.data);
    const sampled = await trainEvents(eventsPath, { ...short, fullSoftmaxMax: 10, negatives: 32 });
    expect(sampled.checkpoint.metadata.training.softmax).toBe(32);
    expect(sampled.checkpoint.weights.get('transformer.wte.weight')!.data).not.toEqual(first.checkpoint.weights.get('transformer.wte.weight')!.data);
  });

  it('saves state, refuses to reuse it without resume, and resumes a run stopped midway to the same result', async () => {
    const state = { dir: join(work, 'state'), every: 5, resume: false };
    const short = { ...tiny, epochs: 1 };
    const straight = await trainEvents(eventsPath, { ...short, state: { ...state, dir: join(work, 'state-straight') } });
    const total = straight.trained.steps;
    expect(total).toBeGreaterThan(10);
    // Stopped after 7 steps, as if killed: the state holds step 5.
    const stopped = await trainEvents(eventsPath, { ...short, state, stopAfter: 7 });
    expect(stopped.trained.steps).toBe(7);
    await expect(trainEvents(eventsPath, { ...short, state })).rejects.toThrow(/already holds training state: resume it \(--resume\)/);
    const lines: string[] = [];
    const resumed = await trainEvents(eventsPath, { ...short, state: { ...state, resume: true }, log: (line) => lines.push(line) });
    expect(lines).toContain(`resuming from step 5/${total}`);
    // Steps 6 to the last ran in this call (and only they): their progress lines.
    const ran = lines.map((line) => / step (\d+)\/\d+ ep /.exec(line)?.[1]).filter((step) => step !== undefined).map(Number);
    expect(ran.length).toBeGreaterThan(0);
    expect(Math.min(...ran)).toBeGreaterThan(5);
    expect(ran.at(-1)).toBe(total);
    expect(resumed.trained.steps).toBe(straight.trained.steps);
    // The same run as one never interrupted: every step's loss and validation, and the weights kept.
    const course = (history: typeof straight.trained.history) => history.map(({ seconds: _s, ...entry }) => entry);
    expect(course(resumed.trained.history)).toEqual(course(straight.trained.history));
    expect(resumed.checkpoint.metadata.training.keptStep).toBe(straight.checkpoint.metadata.training.keptStep);
    for (const [name, tensor] of straight.checkpoint.weights) expect(resumed.checkpoint.weights.get(name)!.data, name).toEqual(tensor.data);
  });
});
