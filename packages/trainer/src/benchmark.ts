/**
 * `hunch benchmark`: trains the next-item GPT-2 on a research dataset with defaults for
 * its size, evaluates it by full ranking under the dataset's protocol, and evaluates the
 * simple baselines in the same run, so every figure is comparable.
 */
import { SPECIAL_TOKENS, Vocabulary, itemToken } from '@hunch/core';
import { useTfBackend } from './backend.js';
import {
  BASELINE_NAMES,
  createBaseline,
  evaluate,
  loadLeaveOneOutBenchmark,
  loadSessionsBenchmark,
  type BenchmarkData,
  type Evaluation,
  type Recommender,
} from './eval/index.js';
import { NextItemScorer } from './next-item/scorer.js';
import { writeNextItemCheckpoint, type NextItemSaveInfo } from './next-item/checkpoint.js';
import { trainSequences, type SequenceTrainOptions, type SequenceTrainResult } from './train-sequences.js';
import { stateDirectory } from './train/run-state.js';

export type BenchmarkInput = { format: 'sessions'; train: string; test: string } | { format: 'sequences'; data: string };

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
  baselines: Record<string, Record<string, number>>;
  params: number;
  train_seconds: number;
  tokens_per_second: number;
  examples: number;
  items: number;
  train_sequences: number;
  skipped: BenchmarkData['skipped'];
  recipe: Recipe;
  /** Training steps run, and the step whose weights were kept (best on validation). */
  steps: number;
  best_step: number;
}

/** Token ids: the three special tokens, then the items in ItemIndex order (id = index + 3). */
const ITEM_OFFSET = SPECIAL_TOKENS.length;
const BOS_ID = 1;

/** The research items as a Hunch vocabulary, so a benchmark model exports like any other. */
export function researchVocabulary(rawIds: readonly string[]): Vocabulary {
  return new Vocabulary([...SPECIAL_TOKENS, ...rawIds.map(itemToken)]);
}

function toTokens(items: ArrayLike<number>): Int32Array {
  const tokens = new Int32Array(items.length + 1);
  tokens[0] = BOS_ID;
  for (let i = 0; i < items.length; i++) tokens[i + 1] = items[i]! + ITEM_OFFSET;
  return tokens;
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

/** The trained model as a Recommender over dense item indices. */
function modelRecommender(scorer: NextItemScorer, numItems: number): Recommender {
  const V = scorer.config.vocabSize;
  return {
    name: 'model',
    score(prefixes) {
      const scores = scorer.scorePrefixes(prefixes.map(toTokens));
      return prefixes.map((_, row) => scores.subarray(row * V + ITEM_OFFSET, row * V + ITEM_OFFSET + numItems));
    },
  };
}

/** Reads a research dataset under its protocol (sessions: SR-GNN prefixes; sequences: leave-one-out). */
export function loadBenchmarkData(input: BenchmarkInput): Promise<BenchmarkData> {
  return input.format === 'sessions' ? loadSessionsBenchmark(input.train, input.test) : loadLeaveOneOutBenchmark(input.data);
}

/** One progress line saying what was read. */
export const describeData = (data: BenchmarkData) =>
  `${data.protocol}: ${data.train.length} training sequences, ${data.train.totalLength} clicks, ${data.items.size} items, ${data.test.targets.length} test examples`;

const evalOptionsOf = (data: BenchmarkData) => ({ popularity: data.popularity, rawIds: data.items.rawIds, mask: data.mask });

/** The baselines (popularity, Markov, SKNN) fitted on the training sequences, by full ranking on the test examples. */
export async function evaluateBaselines(data: BenchmarkData, log: (line: string) => void): Promise<BenchmarkResult['baselines']> {
  const baselines: BenchmarkResult['baselines'] = {};
  for (const name of BASELINE_NAMES) {
    const evaluation = await evaluate(createBaseline(name, data.train, data.items.size, data.popularity), data.test, evalOptionsOf(data));
    baselines[name] = evaluation.metrics;
    log(`baseline ${name}: P@20 ${evaluation.metrics['P@20']!.toFixed(4)} MRR@20 ${evaluation.metrics['MRR@20']!.toFixed(4)} (${evaluation.seconds.toFixed(1)} s)`);
  }
  return baselines;
}

/**
 * A next-item model's full-ranking metrics on the test examples: the same tie-break, mask
 * and metrics as the baselines. Its vocabulary must be researchVocabulary(data.items.rawIds).
 */
export async function evaluateNextItemModel(
  data: BenchmarkData,
  scorer: NextItemScorer,
  options: { onPredictions?: (topRawIds: string[]) => void; log: (line: string) => void },
): Promise<Evaluation> {
  const { onPredictions } = options;
  const evaluation = await evaluate(modelRecommender(scorer, data.items.size), data.test, {
    ...evalOptionsOf(data),
    ...(onPredictions ? { onTopK: (top: string[]) => onPredictions(top) } : {}),
  });
  options.log(`model: P@20 ${evaluation.metrics['P@20']!.toFixed(4)} MRR@20 ${evaluation.metrics['MRR@20']!.toFixed(4)} (${evaluation.seconds.toFixed(1)} s)`);
  return evaluation;
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
  const params = [...trained.weights.values()].reduce((sum, t) => sum + t.data.length, 0);
  if (options.out) {
    const { config, heads, weights } = trained;
    const vocabulary = researchVocabulary(data.items.rawIds).tokens;
    await writeNextItemCheckpoint(options.out, { config, heads, weights, vocabulary }, saveInfo(data, fit.length, validation, recipe, trained, options.seed));
    log(`checkpoint -> ${options.out}`);
  }

  const scorer = new NextItemScorer(trained.config, trained.weights, trained.isItem);
  try {
    const evaluation = await evaluateNextItemModel(data, scorer, { ...(options.onPredictions ? { onPredictions: options.onPredictions } : {}), log });
    return {
      model: evaluation.metrics,
      baselines,
      params,
      train_seconds: trained.seconds,
      tokens_per_second: trained.tokensPerSecond,
      examples: evaluation.examples,
      items: numItems,
      train_sequences: data.train.length,
      skipped: data.skipped,
      recipe,
      steps: trained.steps,
      best_step: trained.bestStep,
    };
  } finally {
    scorer.dispose();
  }
}
