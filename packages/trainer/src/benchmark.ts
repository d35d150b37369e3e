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
  predictEvaluationSeconds,
  researchVocabulary,
  toTokens,
  tokenAttributes,
  type BaselineMetrics,
} from './benchmark-evaluation.js';
import { distilTargets, type DistilChoice, type DistilReport } from './distillation.js';
import { describeData, loadBenchmarkData, type BenchmarkData, type BenchmarkInput } from './eval/benchmark-data.js';
import { readItemAttributes } from './eval/cold-items.js';
import { writeNextItemCheckpoint, type NextItemSaveInfo } from './next-item/checkpoint.js';
import { negativesFor } from './next-item/negatives.js';
import { trainSequences, type SequenceTrainOptions, type SequenceTrainResult } from './train-sequences.js';
import { stateDirectory } from './train/run-state.js';

/** `hunch benchmark`'s default time budget: the whole run, evaluation included, in minutes. */
export const DEFAULT_BENCHMARK_MINUTES = 30;

export interface BenchmarkOptions {
  seed: number;
  workers: number;
  /**
   * Minutes the whole run may take, from `startedAt`: reading, baselines, training and the
   * test evaluation (default DEFAULT_BENCHMARK_MINUTES). Training gets what is left after the
   * baselines less the predicted evaluation, and sets its steps from measured throughput.
   */
  timeBudgetMinutes?: number;
  /** When the run started, on performance.now()'s clock (the CLI: 0, the process start). Default: the call. */
  startedAt?: number;
  /** Overrides of the size-based training defaults. */
  train?: Partial<SequenceTrainOptions>;
  /** Distilling STAN (distillation.ts): the weight (0: off) and soft items a position; absent: the default rule. */
  distil?: DistilChoice;
  /**
   * JSON object `{ "<raw item id>": [attribute id, ...] }`: the model composes every item's
   * vector and bias with its attributes' (next-item/heads.ts), and knows the items training
   * never saw by their attributes alone.
   */
  attributes?: string;
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
  /** STAN distilled into the model (its soft targets' pass inside the time budget), or null when off. */
  distil: DistilReport | null;
  /** With `attributes`: the distinct attribute ids and the items the file covers; null without. */
  attributes: { ids: number; items_covered: number } | null;
  /** Training steps run, and the step whose weights were kept (best on validation). */
  steps: number;
  best_step: number;
  /** How the time budget was spent, and whether it (not the recipe's epochs) set the steps. */
  time_budget: {
    minutes: number;
    /** Seconds given to training (validations included), and what training took. */
    training_seconds: number;
    trained_seconds: number;
    /** The test evaluation, predicted before training and measured. */
    predicted_evaluation_seconds: number;
    evaluation_seconds: number;
    /** The recipe's epochs' steps, the steps the budget allowed, and the epochs that makes. */
    planned_steps: number;
    total_steps: number;
    epochs: number;
    limited: boolean;
    ran_out: boolean;
    /** Wall seconds from startedAt to the end of the evaluation. */
    wall_seconds: number;
  };
}

export type Recipe = Omit<SequenceTrainOptions, 'seed' | 'workers'>;

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

/**
 * Small data (Amazon Beauty: 22k users, 150k training clicks): heavier dropout and many more
 * passes, which validation still rewarded at 40 epochs.
 */
const SMALL_DATA_RECIPE: Recipe = { ...DIGINETICA_RECIPE, epochs: 40, dropout: 0.5, cosineScale: 14 };

/**
 * Training defaults by data size: the Diginetica recipe, with more regularisation and epochs
 * for small data. The loss is the full softmax (every item a negative, loss.ts) while the
 * catalog has no more items than a step would sample as negatives: a full step then costs no
 * more than a sampled one and its loss is exact. Above, sampled negatives: at 12,101 items a
 * full step cost 2 to 3.6 sampled ones and gave no better model in the same time (BENCHMARKS.md,
 * "Accuracy levers").
 */
export function recipeFor(trainTokens: number, items: number): Recipe {
  const base = trainTokens >= 500_000 ? DIGINETICA_RECIPE : SMALL_DATA_RECIPE;
  return { ...base, negatives: negativesFor(items, base.negatives, base.negatives) };
}

/** Share of training sessions (the latest, by date) held out for early stopping. */
const VALIDATION_SHARE = 0.05;
const VALIDATE_EVERY_STEPS = 600;

/**
 * What the model trains on and validates with. Sessions: the latest 5% of training
 * sessions are held out. Leave-one-out: each user's training items followed by their
 * validation item, scored at the last position only, history masked, as the test is.
 */
export function trainingSplit(data: BenchmarkData): { fit: Int32Array[]; validation: NonNullable<SequenceTrainOptions['validation']> } {
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
      // The epochs the steps made: fewer than the recipe's when the time budget set them.
      epochs: trained.budget ? (trained.totalSteps / trained.budget.plannedSteps) * recipe.epochs : recipe.epochs,
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

/** Seconds kept back from training besides the predicted evaluation: the checkpoint, the report, misjudged timing. */
export const reserveSeconds = (budgetSeconds: number) => 5 + 0.02 * budgetSeconds;

export async function runBenchmark(input: BenchmarkInput, options: BenchmarkOptions): Promise<BenchmarkResult> {
  const { log } = options;
  const startedAt = options.startedAt ?? performance.now();
  const minutes = options.timeBudgetMinutes ?? DEFAULT_BENCHMARK_MINUTES;
  if (!(minutes > 0 && Number.isFinite(minutes))) throw new Error(`the time budget must be a positive number of minutes, got ${minutes}`);
  const budgetSeconds = minutes * 60;
  const wall = () => (performance.now() - startedAt) / 1000;
  const state = options.state && stateDirectory(options.state, log);
  const data = await loadBenchmarkData(input);
  const attributes = options.attributes === undefined ? undefined : await readItemAttributes(options.attributes, data.items);
  await useTfBackend({ log });
  log(describeData(data));
  if (attributes) log(`item attributes: ${attributes.count} attribute ids covering ${attributes.covered} of ${data.items.size} items`);
  const numItems = data.items.size;
  const baselines = await evaluateBaselines(data, log);

  const { fit, validation } = trainingSplit(data);
  const recipe = { ...recipeFor(data.train.totalLength, numItems), ...options.train };
  const isItem = Uint8Array.from({ length: numItems + ITEM_OFFSET }, (_, id) => (id >= ITEM_OFFSET ? 1 : 0));
  // The teacher's pass is part of the run: the time it takes is left out of training's below.
  const distilled = distilTargets(fit, isItem, options.distil ?? {}, { budgetSeconds, itemAttributes: attributes !== undefined }, log);
  const predictedEvaluation = await predictEvaluationSeconds(
    data,
    { vocabSize: numItems + ITEM_OFFSET, nPositions: recipe.context, nEmbd: recipe.embd, nLayer: recipe.layers, nHead: recipe.heads, layerNormEpsilon: 1e-5 },
    { itemBias: recipe.itemBias, repeat: recipe.repeat, ...(recipe.cosineScale ? { cosineScale: recipe.cosineScale } : {}) },
  );
  const spent = wall();
  const trainingSeconds = budgetSeconds - spent - predictedEvaluation - reserveSeconds(budgetSeconds);
  log(
    `time budget ${minutes} min: ${spent.toFixed(0)} s spent reading and on the baselines${distilled ? ` (${distilled.report.seconds.toFixed(1)} s of it on STAN's soft targets)` : ''}, the test evaluation predicted at ${predictedEvaluation.toFixed(0)} s, ` +
      (trainingSeconds > 1 ? `${trainingSeconds.toFixed(0)} s left for training` : 'nothing left for training: it runs only the steps it times'),
  );
  const trainOptions: SequenceTrainOptions = {
    ...recipe,
    validation,
    seed: options.seed,
    workers: options.workers,
    timeBudget: { seconds: Math.max(1, trainingSeconds), afterSeconds: predictedEvaluation },
    log,
    ...(state ? { state } : {}),
    ...(distilled ? { distil: distilled.distil } : {}),
    ...(attributes ? { itemAttributes: tokenAttributes(attributes) } : {}),
  };
  const trained: SequenceTrainResult = await trainSequences(fit, { vocabSize: numItems + ITEM_OFFSET, isItem }, trainOptions);
  if (options.out) {
    const { config, heads, weights } = trained;
    const vocabulary = researchVocabulary(data.items.rawIds).tokens;
    await writeNextItemCheckpoint(options.out, { config, heads, weights, vocabulary }, saveInfo(data, fit.length, validation, recipe, trained, options.seed));
    log(`checkpoint -> ${options.out}`);
  }

  const evaluation = await evaluateNextItemModel(data, trained, { ...(options.onPredictions ? { onPredictions: options.onPredictions } : {}), log });
  const spentAll = wall();
  log(`whole run ${spentAll.toFixed(0)} s of the ${budgetSeconds.toFixed(0)} s budget`);
  const budget = trained.budget!;
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
    distil: distilled?.report ?? null,
    attributes: attributes ? { ids: attributes.count, items_covered: attributes.covered } : null,
    steps: trained.steps,
    best_step: trained.bestStep,
    time_budget: {
      minutes,
      training_seconds: Math.max(1, trainingSeconds),
      trained_seconds: trained.seconds,
      predicted_evaluation_seconds: predictedEvaluation,
      evaluation_seconds: evaluation.seconds,
      planned_steps: budget.plannedSteps,
      total_steps: trained.totalSteps,
      epochs: (trained.totalSteps / budget.plannedSteps) * recipe.epochs,
      limited: budget.limited,
      ran_out: budget.ranOut,
      wall_seconds: spentAll,
    },
  };
}
