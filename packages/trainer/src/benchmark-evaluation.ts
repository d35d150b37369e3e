/**
 * What `hunch benchmark` (benchmark.ts) and `hunch eval` (evaluate-checkpoint.ts) share, so
 * that both print the same figures for the same model and data: the research items as
 * tokens, and the full-ranking evaluation (eval/) of the baselines and of a next-item model
 * on a benchmark's test examples, with one tie-break, mask and set of metrics.
 */
import { SPECIAL_TOKENS, Vocabulary, itemToken } from '@hunch/core';
import { BASELINE_NAMES, createBaseline } from './eval/baselines/index.js';
import type { BenchmarkData } from './eval/benchmark-data.js';
import type { ItemAttributes } from './eval/cold-items.js';
import type { Examples } from './eval/protocols.js';
import { evaluateRecommender, type Evaluation, type Recommender } from './eval/metrics.js';
import type { GPT2Config } from './model.js';
import { initNextItem, nextItemShapes, type HeadOptions } from './next-item/heads.js';
import { ParamLayout } from './next-item/param-layout.js';
import { NextItemScorer } from './next-item/scorer.js';
import type { TensorMap } from './safetensors.js';
import type { SequenceTrainOptions } from './train-sequences.js';

/** Token ids: the three special tokens, then the items in ItemIndex order (id = index + 3). */
export const ITEM_OFFSET = SPECIAL_TOKENS.length;
const BOS_ID = 1;

/** The research items as a Hunch vocabulary, so a benchmark model exports like any other. */
export function researchVocabulary(rawIds: readonly string[]): Vocabulary {
  return new Vocabulary([...SPECIAL_TOKENS, ...rawIds.map(itemToken)]);
}

/** Dense item indices -> [BOS] + their tokens. */
export function toTokens(items: ArrayLike<number>): Int32Array {
  const tokens = new Int32Array(items.length + 1);
  tokens[0] = BOS_ID;
  for (let i = 0; i < items.length; i++) tokens[i + 1] = items[i]! + ITEM_OFFSET;
  return tokens;
}

/** Item attributes by token for the trainer (next-item/heads.ts): specials have none; item token = dense index + ITEM_OFFSET. */
export function tokenAttributes(attributes: ItemAttributes): NonNullable<SequenceTrainOptions['itemAttributes']> {
  return { count: attributes.count, byToken: [...Array.from({ length: ITEM_OFFSET }, () => new Int32Array(0)), ...attributes.byItem] };
}

/** Metrics by name (`P@20`, `MRR@20`, ...) of the model and of each baseline. */
export type BaselineMetrics = Record<string, Record<string, number>>;

/** A next-item model: its config, weights (heads included) and which tokens are items. */
export interface ScoredModel {
  config: GPT2Config;
  weights: TensorMap;
  isItem: Uint8Array;
}

/** How many numbers a model's weights hold. */
export const parameterCount = (weights: TensorMap) => [...weights.values()].reduce((sum, t) => sum + t.data.length, 0);

export const evalOptionsOf = (data: BenchmarkData) => ({ popularity: data.popularity, rawIds: data.items.rawIds, mask: data.mask });

/** The baselines (popularity, Markov, SKNN) fitted on the training sequences, by full ranking on the test examples. */
export async function evaluateBaselines(data: BenchmarkData, log: (line: string) => void): Promise<BaselineMetrics> {
  const baselines: BaselineMetrics = {};
  for (const name of BASELINE_NAMES) {
    const evaluation = await evaluateRecommender(createBaseline(name, data.train, data.items.size, data.popularity), data.test, evalOptionsOf(data));
    baselines[name] = evaluation.metrics;
    log(`baseline ${name}: P@20 ${evaluation.metrics['P@20']!.toFixed(4)} MRR@20 ${evaluation.metrics['MRR@20']!.toFixed(4)} (${evaluation.seconds.toFixed(1)} s)`);
  }
  return baselines;
}

/** The model as a Recommender over dense item indices. */
export function modelRecommender(scorer: NextItemScorer, numItems: number): Recommender {
  const V = scorer.config.vocabSize;
  return {
    name: 'model',
    score(prefixes) {
      const scores = scorer.scorePrefixes(prefixes.map(toTokens));
      return prefixes.map((_, row) => scores.subarray(row * V + ITEM_OFFSET, row * V + ITEM_OFFSET + numItems));
    },
  };
}

/**
 * A next-item model's full-ranking metrics on the test examples: the same tie-break, mask
 * and metrics as the baselines. Its vocabulary must be researchVocabulary(data.items.rawIds).
 */
export async function evaluateNextItemModel(
  data: BenchmarkData,
  model: ScoredModel,
  options: { onPredictions?: (topRawIds: string[]) => void; log: (line: string) => void },
): Promise<Evaluation> {
  const { onPredictions } = options;
  const scorer = new NextItemScorer(model.config, model.weights, model.isItem);
  try {
    const evaluation = await evaluateRecommender(modelRecommender(scorer, data.items.size), data.test, {
      ...evalOptionsOf(data),
      ...(onPredictions ? { onTopK: (top: string[]) => onPredictions(top) } : {}),
    });
    options.log(`model: P@20 ${evaluation.metrics['P@20']!.toFixed(4)} MRR@20 ${evaluation.metrics['MRR@20']!.toFixed(4)} (${evaluation.seconds.toFixed(1)} s)`);
    return evaluation;
  } finally {
    scorer.dispose();
  }
}

/**
 * Seconds evaluateNextItemModel will take on `data`'s test examples with a model of this
 * shape, predicted before training (for the time budget): an untrained model of the same
 * shape scores `sample` test examples spread over the set (after one untimed batch), and the
 * time is scaled to all of them. Scoring costs the same whatever the weights.
 */
export async function predictEvaluationSeconds(data: BenchmarkData, config: GPT2Config, heads: HeadOptions, sample = 256): Promise<number> {
  const n = data.test.targets.length;
  if (n === 0) return 0;
  const picked = Array.from({ length: Math.min(sample, n) }, (_, i) => Math.floor((i * n) / Math.min(sample, n)));
  const subset: Examples = {
    prefixes: picked.map((e) => data.test.prefixes[e]!),
    targets: Int32Array.from(picked, (e) => data.test.targets[e]!),
    sources: Int32Array.from(picked, (e) => data.test.sources[e]!),
  };
  const layout = new ParamLayout(nextItemShapes(config, heads));
  const params = new Float32Array(layout.size);
  initNextItem(config, heads, 0, params, layout);
  const isItem = Uint8Array.from({ length: config.vocabSize }, (_, id) => (id >= ITEM_OFFSET ? 1 : 0));
  const scorer = new NextItemScorer(config, layout.toTensorMap(params), isItem);
  try {
    const recommender = modelRecommender(scorer, data.items.size);
    // One batch first, untimed: the first calls pay for compiling the kernels.
    const warm = Math.min(64, picked.length);
    await evaluateRecommender(recommender, { prefixes: subset.prefixes.slice(0, warm), targets: subset.targets.slice(0, warm), sources: subset.sources.slice(0, warm) }, evalOptionsOf(data));
    const evaluation = await evaluateRecommender(recommender, subset, evalOptionsOf(data));
    return (evaluation.seconds * n) / picked.length;
  } finally {
    scorer.dispose();
  }
}
