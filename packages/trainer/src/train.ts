/**
 * Training: events -> sessions -> token sequences (with the core encoding) -> a GPT-2
 * trained by next-token prediction with AdamW. Same events and options, same weights.
 */
import * as tf from '@tensorflow/tfjs';
import { buildVocabulary, encodeHistory, type HunchEvent, type Vocabulary } from '@hunch/core';
import { useWasmBackend } from './backend.js';
import type { Checkpoint, TrainingMetadata } from './checkpoint.js';
import { Rng } from './lib/prng.js';
import { GPT2, initParameters, type GPT2Config } from './model.js';
import { groupSessions } from './ndjson.js';
import type { TensorMap } from './safetensors.js';

export interface TrainOptions {
  layers: number;
  embd: number;
  heads: number;
  /** Context length in tokens (n_positions). */
  context: number;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  weightDecay?: number;
  /** Add the next-item objective (see GPT2.lossParts). Default true. */
  itemLoss?: boolean;
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  layers: 2,
  embd: 32,
  heads: 2,
  context: 32,
  steps: 1000,
  batch: 32,
  lr: 3e-3,
  seed: 1,
};

export interface TrainingData {
  vocabulary: Vocabulary;
  /** One token-id sequence per session, [BOS] first, at most `context` long. */
  sequences: number[][];
  itemCounts: Record<string, number>;
}

/** Groups events into sessions and encodes each with the core encoding. */
export function prepareData(events: readonly HunchEvent[], context: number): TrainingData {
  const vocabulary = buildVocabulary(events);
  const sequences = groupSessions(events)
    .map((session) => encodeHistory(session, vocabulary, context))
    .filter((ids) => ids.length >= 2); // [BOS] alone predicts nothing
  const itemCounts: Record<string, number> = {};
  const count = (id: string) => (itemCounts[id] = (itemCounts[id] ?? 0) + 1);
  for (const event of events) {
    if (event.params.item_id !== undefined) count(event.params.item_id);
    if (event.name === 'purchase') for (const item of event.params.items ?? []) count(item.item_id);
  }
  return { vocabulary, sequences, itemCounts };
}

export interface Batch {
  ids: tf.Tensor2D;
  /** Next-token targets, [PAD] where none. */
  targets: tf.Tensor2D;
  /** The next item token at or after the next position, [PAD] where none (only with itemIds). */
  nextItems?: tf.Tensor2D;
  /** Real (non-[PAD]) targets. */
  tokens: number;
}

/** Inputs and targets [B, T] for some sequences, right-padded with [PAD]. */
export function makeBatch(sequences: readonly number[][], itemIds?: ReadonlySet<number>): Batch {
  const T = Math.max(...sequences.map((s) => s.length)) - 1;
  const ids = new Int32Array(sequences.length * T);
  const targets = new Int32Array(sequences.length * T);
  const nextItems = new Int32Array(sequences.length * T);
  let tokens = 0;
  sequences.forEach((seq, b) => {
    let upcoming = 0; // walking backwards: the nearest item token to the right
    for (let t = seq.length - 2; t >= 0; t--) {
      ids[b * T + t] = seq[t]!;
      targets[b * T + t] = seq[t + 1]!;
      if (itemIds?.has(seq[t + 1]!)) upcoming = seq[t + 1]!;
      nextItems[b * T + t] = upcoming;
    }
    tokens += seq.length - 1;
  });
  const shape: [number, number] = [sequences.length, T];
  return {
    ids: tf.tensor2d(ids, shape, 'int32'),
    targets: tf.tensor2d(targets, shape, 'int32'),
    ...(itemIds ? { nextItems: tf.tensor2d(nextItems, shape, 'int32') } : {}),
    tokens,
  };
}

const disposeBatch = (batch: Batch) => tf.dispose([batch.ids, batch.targets, ...(batch.nextItems ? [batch.nextItems] : [])]);

/** AdamW (decoupled weight decay on matrices only, as nanoGPT) with global-norm clipping. */
class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;

  constructor(
    private readonly params: Map<string, tf.Variable>,
    private readonly weightDecay: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.95,
    private readonly eps = 1e-8,
    private readonly clipNorm = 1.0,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  step(grads: tf.NamedTensorMap, lr: number): void {
    this.t++;
    const { beta1, beta2, eps, t } = this;
    tf.tidy(() => {
      const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => g.square().sum())));
      const scale = tf.minimum(1, tf.div(this.clipNorm, norm.add(1e-6)));
      for (const [name, p] of this.params) {
        const g = grads[name]!.mul(scale);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(m.mul(beta1).add(g.mul(1 - beta1)));
        v.assign(v.mul(beta2).add(g.square().mul(1 - beta2)));
        const mHat = m.div(1 - beta1 ** t);
        const vHat = v.div(1 - beta2 ** t);
        let update = mHat.div(vHat.sqrt().add(eps));
        if (p.rank >= 2) update = update.add(p.mul(this.weightDecay));
        p.assign(p.sub(update.mul(lr)));
      }
    });
  }

  dispose(): void {
    for (const v of [...this.m.values(), ...this.v.values()]) v.dispose();
  }
}

/** Linear warmup, then cosine decay to a tenth of the peak. */
export function learningRate(step: number, steps: number, peak: number): number {
  const warmup = Math.max(1, Math.min(100, Math.floor(steps / 10)));
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = (step - warmup) / Math.max(1, steps - warmup);
  return peak * (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress)));
}

/** Mean per-token next-token (LM) loss over all sequences. */
export function evaluate(model: GPT2, sequences: readonly number[][], batch: number): number {
  let total = 0;
  let tokens = 0;
  for (let i = 0; i < sequences.length; i += batch) {
    const b = makeBatch(sequences.slice(i, i + batch));
    const loss = model.loss(b.ids, b.targets);
    total += loss.dataSync()[0]! * b.tokens;
    tokens += b.tokens;
    loss.dispose();
    disposeBatch(b);
  }
  return tokens === 0 ? NaN : total / tokens;
}

export interface TrainResult {
  config: GPT2Config;
  weights: TensorMap;
  data: TrainingData;
  /** Next-token (LM) loss of each step's batch. */
  losses: number[];
  training: Omit<TrainingMetadata, 'events' | 'skippedLines'>;
}

/** The checkpoint `hunch train` writes for a training result over `events` read events. */
export function trainingCheckpoint(result: TrainResult, events: number, skippedLines: number): Checkpoint {
  return {
    config: result.config,
    weights: result.weights,
    state: {
      format: 'hunch-checkpoint',
      vocabulary: [...result.data.vocabulary.tokens],
      merges: result.data.vocabulary.merges.map(([a, b]): [string, string] => [a, b]),
      itemCounts: result.data.itemCounts,
      training: { events, skippedLines, ...result.training },
    },
  };
}

export async function train(events: readonly HunchEvent[], options: TrainOptions): Promise<TrainResult> {
  await useWasmBackend();
  for (const key of ['layers', 'embd', 'heads', 'context', 'steps', 'batch'] as const) {
    if (!Number.isInteger(options[key]) || options[key] < 1) throw new Error(`${key} must be a positive integer`);
  }
  if (options.context < 2) throw new Error('context must be at least 2');
  if (!(options.lr > 0)) throw new Error('lr must be a positive number');
  const data = prepareData(events, options.context);
  if (data.sequences.length === 0) throw new Error('no session has any events to learn from');
  const config: GPT2Config = {
    vocabSize: data.vocabulary.size,
    nPositions: options.context,
    nEmbd: options.embd,
    nLayer: options.layers,
    nHead: options.heads,
    layerNormEpsilon: 1e-5,
  };
  const log = options.log ?? (() => {});
  const model = new GPT2(config, initParameters(config, options.seed));
  const optimizer = new AdamW(model.variables, options.weightDecay ?? 0.01);
  const rng = new Rng((options.seed ^ 0x5bd1e995) >>> 0);
  const itemIds = options.itemLoss === false ? undefined : new Set(data.vocabulary.items().map(({ tokenId }) => tokenId));
  const itemBias = itemIds && tf.tensor1d(data.vocabulary.tokens.map((_, id) => (itemIds.has(id) ? 0 : -1e9)));
  let order: number[] = [];
  const losses: number[] = [];
  const every = Math.max(1, Math.floor(options.steps / 20));
  const started = performance.now();
  let tokens = 0;
  log(`training ${config.nLayer} layers, n_embd ${config.nEmbd}, ${config.nHead} heads, context ${config.nPositions}, vocab ${config.vocabSize} on ${data.sequences.length} sequences`);
  try {
    for (let step = 0; step < options.steps; step++) {
      // Sample without replacement, reshuffling each epoch.
      if (order.length < options.batch) order = [...order, ...rng.shuffle(data.sequences.map((_, i) => i))];
      const picked = order.splice(0, options.batch).map((i) => data.sequences[i]!);
      const batch = makeBatch(picked, itemIds);
      const lr = learningRate(step, options.steps, options.lr);
      let parts: { lm: tf.Scalar; item?: tf.Scalar } | undefined;
      const { value, grads } = tf.variableGrads(() => {
        parts = model.lossParts(batch.ids, batch.targets, batch.nextItems && itemBias ? { items: batch.nextItems, itemBias } : undefined);
        tf.keep(parts.lm);
        if (parts.item) tf.keep(parts.item);
        return parts.item ? parts.lm.add(parts.item) : parts.lm;
      }, [...model.variables.values()]);
      optimizer.step(grads, lr);
      const loss = parts!.lm.dataSync()[0]!;
      const itemLoss = parts!.item?.dataSync()[0];
      tf.dispose([value, parts!.lm, ...(parts!.item ? [parts!.item] : []), ...Object.values(grads)]);
      disposeBatch(batch);
      if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at step ${step + 1}; try a lower --lr`);
      losses.push(loss);
      tokens += batch.tokens;
      if ((step + 1) % every === 0 || step === options.steps - 1) {
        const seconds = (performance.now() - started) / 1000;
        log(`step ${step + 1}/${options.steps}  loss ${loss.toFixed(4)}${itemLoss === undefined ? '' : `  item loss ${itemLoss.toFixed(4)}`}  lr ${lr.toExponential(2)}  ${Math.round(tokens / seconds)} tok/s`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const finalLoss = evaluate(model, data.sequences, Math.max(options.batch, 64));
    log(`done in ${seconds.toFixed(1)} s; loss over all sequences ${finalLoss.toFixed(4)}`);
    return {
      config,
      weights: model.weights(),
      data,
      losses,
      training: {
        sequences: data.sequences.length,
        steps: options.steps,
        finalLoss,
        seed: options.seed,
        batch: options.batch,
        learningRate: options.lr,
        seconds,
        tokensPerSecond: Math.round(tokens / seconds),
      },
    };
  } finally {
    optimizer.dispose();
    model.dispose();
    itemBias?.dispose();
  }
}
