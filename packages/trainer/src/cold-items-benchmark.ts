/**
 * `hunch benchmark --cold-items --attributes FILE`: the new-items protocol of issue 21
 * part 2 (eval/cold-items.ts) on a leave-one-out dataset with an item -> attribute ids
 * file. In one run: the attribute-only baseline (and popularity and Markov, which never
 * saw the new items), the next-item model with attribute-composed item vectors
 * (next-item/heads.ts) and the same model without attributes, each reported apart for
 * test targets that are new and for the rest.
 */
import { useTfBackend } from './backend.js';
import { DEFAULT_BENCHMARK_MINUTES, recipeFor, reserveSeconds, trainingSplit, type Recipe } from './benchmark.js';
import { ITEM_OFFSET, modelRecommender, parameterCount, predictEvaluationSeconds, tokenAttributes } from './benchmark-evaluation.js';
import { encodeSequences, ItemIndex } from './data/item-index.js';
import { readSequences } from './data/research.js';
import { createBaseline } from './eval/baselines/index.js';
import type { BenchmarkData } from './eval/benchmark-data.js';
import {
  AttributeRecommender,
  coldItemSplit,
  evaluateColdItems,
  newItemsByRawId,
  readItemAttributes,
  withoutNewItems,
  type ColdItemMetrics,
  type ColdItemSplit,
} from './eval/cold-items.js';
import { countUnknown } from './eval/protocols.js';
import { NextItemScorer } from './next-item/scorer.js';
import { trainSequences, type SequenceTrainOptions, type SequenceTrainResult } from './train-sequences.js';

export interface ColdItemsOptions {
  /** Leave-one-out data: `user item item ...` per line. */
  data: string;
  /** JSON object: raw item id -> attribute ids. */
  attributes: string;
  /** Items whose numeric raw id is divisible by this are new (default 10). */
  newEvery?: number;
  seed: number;
  workers: number;
  /** Minutes for the whole run; the two models share what is left for training equally. */
  timeBudgetMinutes?: number;
  startedAt?: number;
  train?: Partial<SequenceTrainOptions>;
  /** The model with attributes: share of items scored by their attributes alone each step (next-item/loss.ts). Default 0. */
  embeddingDrop?: number;
  log: (line: string) => void;
}

type Metrics = Record<string, number>;
const pick = (m: Metrics) => ({ 'HR@10': m['HR@10']!, 'NDCG@10': m['NDCG@10']!, 'HR@20': m['HR@20']!, 'NDCG@20': m['NDCG@20']! });
const summary = (m: ColdItemMetrics) => ({ new: pick(m.new), known: pick(m.known), all: pick(m.all) });
type Summary = ReturnType<typeof summary>;

export interface ColdItemsResult {
  protocol: 'cold-items';
  items: number;
  new_items: number;
  /** Attribute ids, and items of the data the attribute file covers. */
  attributes: { ids: number; items_covered: number };
  examples: ColdItemMetrics['examples'];
  validation_examples: number;
  train_sequences: number;
  train_clicks: number;
  model_with_attributes: Summary;
  model_without_attributes: Summary;
  baselines: Record<string, Summary>;
  /** The issue's targets, measured: new-target HR@10 over the attribute baseline's and over the known targets'; the known targets' change against the model without attributes. */
  targets: { new_hr10_vs_attribute_baseline: number; new_hr10_over_known_hr10: number; known_hr10_change: number; known_ndcg10_change: number };
  recipe: Recipe;
  training: Record<'with_attributes' | 'without_attributes', { params: number; steps: number; best_step: number; seconds: number; epochs: number; limited: boolean }>;
  time_budget: { minutes: number; training_seconds_each: number; wall_seconds: number };
  embedding_drop: number;
}

/** The split as the benchmark's evaluation helpers take it. */
function asBenchmarkData(items: ItemIndex, split: ColdItemSplit): BenchmarkData {
  return {
    protocol: 'leave-one-out',
    items,
    train: split.train,
    test: split.test,
    validation: split.validation,
    popularity: split.popularity,
    mask: 'history',
    skipped: {},
    unknownTestItems: 0,
    unknown: countUnknown(split.test),
    tooShortUsers: split.tooShort,
  };
}

export async function runColdItemsBenchmark(options: ColdItemsOptions): Promise<ColdItemsResult> {
  const { log } = options;
  const startedAt = options.startedAt ?? performance.now();
  const wall = () => (performance.now() - startedAt) / 1000;
  const minutes = options.timeBudgetMinutes ?? DEFAULT_BENCHMARK_MINUTES;
  if (!(minutes > 0 && Number.isFinite(minutes))) throw new Error(`the time budget must be a positive number of minutes, got ${minutes}`);
  const raw = await readSequences(options.data);
  const items = ItemIndex.fromSequences(raw.sequences);
  const attributes = await readItemAttributes(options.attributes, items);
  const isNew = newItemsByRawId(items.rawIds, options.newEvery ?? 10);
  const split = coldItemSplit(encodeSequences(raw.sequences, items).sequences, isNew);
  const data = asBenchmarkData(items, split);
  const newItems = isNew.reduce((n, x) => n + x, 0);
  log(
    `cold items: ${items.size} items, ${newItems} new (never trained on), ${attributes.count} attribute ids covering ${attributes.covered} items; ` +
      `${split.train.length} training sequences (${split.train.totalLength} clicks), ${split.validation.targets.length} validation and ${split.test.targets.length} test examples`,
  );
  await useTfBackend({ log });

  const baselines: Record<string, Summary> = {};
  const attributeOnly = await evaluateColdItems(new AttributeRecommender(attributes), split, items.rawIds);
  baselines.attributes = summary(attributeOnly);
  for (const name of ['popularity', 'markov'] as const) {
    baselines[name] = summary(await evaluateColdItems(withoutNewItems(createBaseline(name, split.train, items.size, split.popularity), isNew), split, items.rawIds));
  }
  log(`baselines: ${Object.entries(baselines).map(([name, m]) => `${name} HR@10 new ${m.new['HR@10'].toFixed(4)} known ${m.known['HR@10'].toFixed(4)}`).join('; ')}`);

  const { fit, validation } = trainingSplit(data);
  const recipe: Recipe = { ...recipeFor(split.train.totalLength, items.size), ...options.train };
  const vocabSize = items.size + ITEM_OFFSET;
  const config = { vocabSize, nPositions: recipe.context, nEmbd: recipe.embd, nLayer: recipe.layers, nHead: recipe.heads, layerNormEpsilon: 1e-5 };
  const predicted = await predictEvaluationSeconds(data, config, { itemBias: recipe.itemBias, repeat: recipe.repeat, ...(recipe.cosineScale ? { cosineScale: recipe.cosineScale } : {}) });
  const budgetSeconds = minutes * 60;
  // Two models, each trained then evaluated: the time left is shared equally.
  const each = Math.max(1, (budgetSeconds - wall() - 2 * predicted - reserveSeconds(budgetSeconds)) / 2);
  log(`time budget ${minutes} min: ${wall().toFixed(0)} s spent, each model's test evaluation predicted at ${predicted.toFixed(0)} s, ${each.toFixed(0)} s of training for each of the two models`);
  const isItem = Uint8Array.from({ length: vocabSize }, (_, id) => (id >= ITEM_OFFSET ? 1 : 0));

  const train = async (withAttributes: boolean): Promise<{ trained: SequenceTrainResult; metrics: ColdItemMetrics }> => {
    log(`training the model ${withAttributes ? 'with' : 'without'} attributes`);
    const trained = await trainSequences(fit, { vocabSize, isItem }, {
      ...recipe,
      validation,
      seed: options.seed,
      workers: options.workers,
      timeBudget: { seconds: each, afterSeconds: predicted },
      log,
      ...(withAttributes ? { itemAttributes: tokenAttributes(attributes), embeddingDrop: options.embeddingDrop ?? 0 } : {}),
    });
    const scorer = new NextItemScorer(trained.config, trained.weights, trained.isItem);
    try {
      const recommender = modelRecommender(scorer, items.size);
      // Without attributes the new items mean nothing to the model: they leave its input (not the mask).
      const metrics = await evaluateColdItems(withAttributes ? recommender : withoutNewItems(recommender, isNew), split, items.rawIds);
      log(`model ${withAttributes ? 'with' : 'without'} attributes: HR@10 new ${metrics.new['HR@10']!.toFixed(4)} known ${metrics.known['HR@10']!.toFixed(4)}`);
      return { trained, metrics };
    } finally {
      scorer.dispose();
    }
  };
  const withAttr = await train(true);
  const without = await train(false);
  const info = ({ trained }: { trained: SequenceTrainResult }) => ({
    params: parameterCount(trained.weights),
    steps: trained.steps,
    best_step: trained.bestStep,
    seconds: trained.seconds,
    epochs: trained.budget ? (trained.totalSteps / trained.budget.plannedSteps) * recipe.epochs : recipe.epochs,
    limited: trained.budget?.limited ?? false,
  });
  const ratio = (a: number, b: number) => (b > 0 ? a / b : a > 0 ? Infinity : NaN);
  const w = withAttr.metrics;
  const o = without.metrics;
  return {
    protocol: 'cold-items',
    items: items.size,
    new_items: newItems,
    attributes: { ids: attributes.count, items_covered: attributes.covered },
    examples: w.examples,
    validation_examples: split.validation.targets.length,
    train_sequences: split.train.length,
    train_clicks: split.train.totalLength,
    model_with_attributes: summary(w),
    model_without_attributes: summary(o),
    baselines,
    targets: {
      new_hr10_vs_attribute_baseline: ratio(w.new['HR@10']!, attributeOnly.new['HR@10']!),
      new_hr10_over_known_hr10: ratio(w.new['HR@10']!, w.known['HR@10']!),
      known_hr10_change: ratio(w.known['HR@10']!, o.known['HR@10']!) - 1,
      known_ndcg10_change: ratio(w.known['NDCG@10']!, o.known['NDCG@10']!) - 1,
    },
    recipe,
    training: { with_attributes: info(withAttr), without_attributes: info(without) },
    time_budget: { minutes, training_seconds_each: each, wall_seconds: wall() },
    embedding_drop: options.embeddingDrop ?? 0,
  };
}
