/**
 * `hunch benchmark`: trains the next-item GPT-2 on a research dataset with defaults for
 * its size, evaluates it by full ranking under the dataset's protocol, and evaluates the
 * simple baselines in the same run, so every figure is comparable.
 */
import { useTfBackend } from './backend.js';
import {
  evaluateBaselines,
  evaluateNextItemModel,
  ITEM_OFFSET,
  parameterCount,
  researchVocabulary,
  toTokens,
  type BaselineMetrics,
} from './benchmark-evaluation.js';
import { describeData, loadBenchmarkData, type BenchmarkData, type BenchmarkInput } from './eval/benchmark-data.js';
import { writeNextItemCheckpoint, type NextItemSaveInfo } from './next-item/checkpoint.js';
import { trainSequences, type SequenceTrainOptions, type SequenceTrainResult } from './train-sequences.js';
import { stateDirectory } from './train/run-state.js';

export interface BenchmarkOptions {
  seed: number;
  workers: number;
  /** Overrides of the size-based training defaults. */
  train?: Partial<SequenceTrainOptions>;
  /** Receives every test example's top-20 raw item ids, in the protocol's order. */
  onPredictions?: (topRawIds: string[]) => void;
  /** Save the trained model here as a checkpoint (next-item/checkpoint.ts), for `hunch eval`. */
  out?: string;
  /**
   * Training state saved every `every` steps. A directory that already holds state is
   * continued only with `resume`: otherwise it is an error, so a stale state is never
   * picked up by accident.
   */
  state?: { dir: string; every: number; resume: boolean };
  log: (line: string) => void;
}

export interface BenchmarkResult {
  model: Record<string, number>;
  baselines: BaselineMetrics;
  params: number;
  train_seconds: number;
  tokens_per_second: number;
  /** Test examples, every one the protocol defines. */
  examples: number;
  /** Of them: unknown targets (misses) and wholly unknown prefixes (ranked by popularity). */
  unknown_examples: BenchmarkData['unknown'];
  items: number;
  train_sequences: number;
  skipped: BenchmarkData['skipped'];
  recipe: Recipe;
  /** Training steps run, and the step whose weights were kept (best on validation). */
  steps: number;
  best_step: number;
}

type Recipe = Omit<SequenceTrainOptions, 'seed' | 'workers'>;

/**
 * The recipe for Diginetica-sized data (186k sessions, 43k items; BENCHMARKS.md has its
 * figures). Sequences are [BOS] + item tokens; validation scores from position 1 on the
 * latest sessions by date.
 */
export const DIGINETICA_RECIPE: Recipe = {
  layers: 2,
  embd: 64,
  heads: 2,
  context: 50,
  epochs: 12,
  batchTokens: 2048,
  lr: 3e-3,
  weightDecay: 0.01,
  dropout: 0.2,
  negatives: 2048,
  itemBias: true,
  repeat: true,
  // Cosine scoring ranks the long tail fairly (next-item/heads.ts); scales of 10 to 14 did about as well.
  cosineScale: 12,
};

/** Training defaults by data size: the Diginetica recipe, with more regularisation and epochs for small data. */
export function recipeFor(trainTokens: number): Recipe {
  if (trainTokens >= 500_000) return DIGINETICA_RECIPE;
  // Small data (Amazon Beauty: 22k users, 150k training clicks): heavier dropout and many
  // more passes, which validation still rewarded at 40 epochs.
  return { ...DIGINETICA_RECIPE, epochs: 40, dropout: 0.5, cosineScale: 14 };
}

/** Share of training sessions (the latest, by date) held out for early stopping. */
const VALIDATION_SHARE = 0.05;
const VALIDATE_EVERY_STEPS = 600;

/**
 * What the model trains on and validates with. Sessions: the latest 5% of training
 * sessions are held out. Leave-one-out: each user's training items followed by their
 * validation item, scored at the last position only, history masked, as the test is.
 */
function trainingSplit(data: BenchmarkData): { fit: Int32Array[]; validation: NonNullable<SequenceTrainOptions['validation']> } {
  const all = Array.from({ length: data.train.length }, (_, i) => toTokens(data.train.get(i)));
  if (data.validation) {
    const { prefixes, targets } = data.validation;
    const sequences = prefixes.map((prefix, i) => toTokens([...prefix, targets[i]!]));
    return { fit: all, validation: { sequences, every: VALIDATE_EVERY_STEPS, patience: 3, lastOnly: true, excludeSeen: true } };
  }
  const cut = Math.floor(all.length * (1 - VALIDATION_SHARE));
  return { fit: all.slice(0, cut), validation: { sequences: all.slice(cut), every: VALIDATE_EVERY_STEPS, patience: 3, minPosition: 1 } };
}

/** Mean training loss of the (up to) 20 steps ending at `step`: the kept weights' loss, less noisy than one step's. */
function meanLossUpTo(history: SequenceTrainResult['history'], step: number): number {
  const last = history.filter((h) => h.step <= step).slice(-20);
  return last.length ? last.reduce((sum, h) => sum + h.loss, 0) / last.length : NaN;
}

/** What a benchmark checkpoint records beside the weights: item counts and how it was trained. */
function saveInfo(
  data: BenchmarkData,
  sequences: number,
  validation: NonNullable<SequenceTrainOptions['validation']>,
  recipe: Recipe,
  trained: SequenceTrainResult,
  seed: number,
): NextItemSaveInfo {
  const kept = trained.bestStep > 0 ? trained.bestStep : trained.steps;
  return {
    itemCounts: Object.fromEntries(data.items.rawIds.map((raw, i) => [raw, data.popularity[i]!])),
    training: {
      events: data.train.totalLength,
      sessions: data.train.length,
      sequences,
      steps: trained.steps,
      keptStep: kept,
      epochs: recipe.epochs,
      finalLoss: meanLossUpTo(trained.history, kept),
      seed,
      skippedLines: Object.values(data.skipped).reduce((n, r) => n + r.skipped, 0),
      batch: recipe.batchTokens,
      learningRate: recipe.lr,
      softmax: recipe.negatives > 0 ? recipe.negatives : 'full',
      validation: { sequences: validation.sequences.length, mrr20: trained.bestValMrr },
      base: null,
      seconds: trained.seconds,
      tokensPerSecond: trained.tokensPerSecond,
    },
  };
}

export async function runBenchmark(input: BenchmarkInput, options: BenchmarkOptions): Promise<BenchmarkResult> {
  const { log } = options;
  const state = options.state && stateDirectory(options.state, log);
  const data = await loadBenchmarkData(input);
  await useTfBackend({ log });
  log(describeData(data));
  const numItems = data.items.size;
  const baselines = await evaluateBaselines(data, log);

  const { fit, validation } = trainingSplit(data);
  const recipe = { ...recipeFor(data.train.totalLength), ...options.train };
  const trainOptions: SequenceTrainOptions = { ...recipe, validation, seed: options.seed, workers: options.workers, log, ...(state ? { state } : {}) };
  const isItem = Uint8Array.from({ length: numItems + ITEM_OFFSET }, (_, id) => (id >= ITEM_OFFSET ? 1 : 0));
  const trained: SequenceTrainResult = await trainSequences(fit, { vocabSize: numItems + ITEM_OFFSET, isItem }, trainOptions);
  if (options.out) {
    const { config, heads, weights } = trained;
    const vocabulary = researchVocabulary(data.items.rawIds).tokens;
    await writeNextItemCheckpoint(options.out, { config, heads, weights, vocabulary }, saveInfo(data, fit.length, validation, recipe, trained, options.seed));
    log(`checkpoint -> ${options.out}`);
  }

  const evaluation = await evaluateNextItemModel(data, trained, { ...(options.onPredictions ? { onPredictions: options.onPredictions } : {}), log });
  return {
    model: evaluation.metrics,
    baselines,
    params: parameterCount(trained.weights),
    train_seconds: trained.seconds,
    tokens_per_second: trained.tokensPerSecond,
    examples: evaluation.examples,
    unknown_examples: evaluation.unknown,
    items: numItems,
    train_sequences: data.train.length,
    skipped: data.skipped,
    recipe,
    steps: trained.steps,
    best_step: trained.bestStep,
  };
}
