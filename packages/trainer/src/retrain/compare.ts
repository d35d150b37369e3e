/**
 * The live model and the candidate scored on the same held-out sessions, by the metric
 * `hunch train` stops on: next-item HR@20 and MRR@20 by full ranking (NextItemScorer, from
 * [BOS] + 1 token on). The sessions are encoded once, with the candidate's vocabulary (the
 * live one plus what is new): every item target is an example for both models. A target the
 * live model has no token for (a new product) is a miss for it, and so is its input token
 * ([UNK] to it): what the live model would do on the shop's page.
 */
import { isItemToken } from '@hunch/core';
import { useTfBackend } from '../backend.js';
import { mergeMetrics, type RankMetrics } from '../eval/metrics.js';
import type { GPT2Config } from '../model.js';
import { NextItemScorer } from '../next-item/scorer.js';
import type { TensorMap } from '../safetensors.js';

export interface HeldOutScore {
  'HR@20': number;
  'MRR@20': number;
  /** Item targets scored (the same for both models). */
  examples: number;
  /** Of them, targets the model has no token for: misses. */
  unknownTargets: number;
  /** Per held-out session (in the order given), Σ 1/rank over its examples ranked in the top 20: for the paired comparison. */
  reciprocalBySession: Float64Array;
}

/** First scored position: after [BOS] and one token, as trainSequences validates. */
const MIN_POSITION = 1;

/** `tokens`: the vocabulary the sequences are encoded with; the model knows its first config.vocabSize. */
export async function scoreOnHeldOut(model: { config: GPT2Config; weights: TensorMap }, sequences: readonly Int32Array[], tokens: readonly string[], unk: number): Promise<HeldOutScore> {
  await useTfBackend({ log: () => {} });
  const size = model.config.vocabSize;
  if (size > tokens.length) throw new Error(`the model has ${size} tokens, more than the ${tokens.length} the sessions are encoded with`);
  if (unk >= size) throw new Error('the model has no [UNK] token');
  let unknownTargets = 0;
  const known = sequences.map((row) => {
    for (let t = MIN_POSITION + 1; t < row.length; t++) if (row[t]! >= size && isItemToken(tokens[row[t]!]!)) unknownTargets++;
    return row.map((id) => (id < size ? id : unk));
  });
  const isItem = Uint8Array.from(tokens.slice(0, size), (token) => (isItemToken(token) ? 1 : 0));
  const scorer = new NextItemScorer(model.config, model.weights, isItem);
  const reciprocalBySession = new Float64Array(sequences.length);
  const onRank = (session: number, rank: number) => {
    if (rank <= 20) reciprocalBySession[session]! += 1 / rank;
  };
  let scored: RankMetrics;
  try {
    scored = scorer.evaluate(known, { k: 20, minPosition: MIN_POSITION, onRank });
  } finally {
    scorer.dispose();
  }
  const all = mergeMetrics([scored, { hit: 0, mrr: 0, ndcg: 0, examples: unknownTargets }]);
  return { 'HR@20': all.examples ? all.hit : 0, 'MRR@20': all.examples ? all.mrr : 0, examples: all.examples, unknownTargets, reciprocalBySession };
}
