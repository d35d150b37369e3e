/**
 * Full-ranking metrics over all items (never sampled negatives), for one relevant item
 * per example. For each K: P@K = HR@K = Recall@K (share of examples whose target ranks
 * within K), MRR@K (mean of 1/rank, 0 beyond K) and NDCG@K (mean of 1/log2(rank+1),
 * 0 beyond K). All are fractions in [0, 1].
 */
import { Ranker, tieBreakRanks } from './ranking.js';
import { countUnknown, type Examples, type UnknownExamples } from './protocols.js';
import { UNKNOWN_ITEM } from '../data/item-index.js';

export const DEFAULT_KS: readonly number[] = [5, 10, 20];

/** Sums per-example ranks into the metrics above. */
export class MetricAccumulator {
  private readonly hits: Float64Array;
  private readonly reciprocal: Float64Array;
  private readonly gain: Float64Array;
  private examples = 0;

  constructor(readonly ks: readonly number[] = DEFAULT_KS) {
    for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new Error(`MetricAccumulator: bad K ${k}`);
    this.hits = new Float64Array(ks.length);
    this.reciprocal = new Float64Array(ks.length);
    this.gain = new Float64Array(ks.length);
  }

  /** Adds one example whose target has 1-based `rank`. */
  add(rank: number): void {
    if (!(rank >= 1)) throw new Error(`MetricAccumulator: bad rank ${rank}`);
    this.examples++;
    for (let i = 0; i < this.ks.length; i++) {
      if (rank > this.ks[i]!) continue;
      this.hits[i]! += 1;
      this.reciprocal[i]! += 1 / rank;
      this.gain[i]! += 1 / Math.log2(rank + 1);
    }
  }

  /** Adds one example whose target cannot be ranked (unknown to training): a miss at every K. */
  addMiss(): void {
    this.examples++;
  }

  get count(): number {
    return this.examples;
  }

  /** `P@K`, `HR@K` (the same number), `MRR@K`, `NDCG@K` for every K; all 0 with no examples. */
  result(): Record<string, number> {
    const n = Math.max(this.examples, 1);
    const metrics: Record<string, number> = {};
    this.ks.forEach((k, i) => {
      metrics[`P@${k}`] = this.hits[i]! / n;
      metrics[`HR@${k}`] = this.hits[i]! / n;
      metrics[`MRR@${k}`] = this.reciprocal[i]! / n;
      metrics[`NDCG@${k}`] = this.gain[i]! / n;
    });
    return metrics;
  }

  /** HR@k, MRR@k and NDCG@k for one of the accumulator's Ks; NaN with no examples (nothing was measured). */
  at(k: number): RankMetrics {
    const i = this.ks.indexOf(k);
    if (i < 0) throw new Error(`MetricAccumulator: K ${k} is not one of ${this.ks.join(', ')}`);
    const n = this.examples;
    return { hit: n ? this.hits[i]! / n : NaN, mrr: n ? this.reciprocal[i]! / n : NaN, ndcg: n ? this.gain[i]! / n : NaN, examples: n };
  }
}

/** HR@K (= P@K = Recall@K with one target), MRR@K and NDCG@K at one K, over `examples` targets. */
export interface RankMetrics {
  hit: number;
  mrr: number;
  ndcg: number;
  examples: number;
}

/** Combines metrics of disjoint example sets. */
export function mergeMetrics(parts: RankMetrics[]): RankMetrics {
  const examples = parts.reduce((n, p) => n + p.examples, 0);
  const mean = (key: 'hit' | 'mrr' | 'ndcg') => (examples ? parts.reduce((s, p) => s + (p.examples ? p[key] * p.examples : 0), 0) / examples : NaN);
  return { hit: mean('hit'), mrr: mean('mrr'), ndcg: mean('ndcg'), examples };
}

/** Anything that scores every item for a prefix: baselines, the GPT-2. */
export interface Recommender {
  readonly name: string;
  /**
   * One score per item (dense index) for each prefix; higher is better. The arrays are
   * only read, and only until the next call, so an implementation may reuse them (and may
   * return one array for several prefixes).
   */
  score(prefixes: readonly Int32Array[]): Float32Array[] | Promise<Float32Array[]>;
}

export interface EvaluateOptions {
  /** Default [5, 10, 20]. */
  ks?: readonly number[];
  /** Prefixes per `score` call. Default 64. */
  batchSize?: number;
  /** 'history': items of the example's own prefix are not ranked (the target always is). Default 'none'. */
  mask?: 'history' | 'none';
  /** Training popularity per item: breaks ties (higher first) before the raw id. */
  popularity: ArrayLike<number>;
  /** Raw id per item (ItemIndex.rawIds): breaks the remaining ties (lower first), names top-K items. */
  rawIds: readonly string[];
  /** Called once per example, in example order, with its top `topK` raw ids (same tie-break and mask). */
  onTopK?: (topRawIds: string[], example: number) => void;
  /** Length of the lists given to onTopK. Default 20. */
  topK?: number;
}

export interface Evaluation {
  /** Examples evaluated: every one, those with unknown items included. */
  examples: number;
  /** Of them: unknown targets (misses) and wholly unknown prefixes (ranked by popularity). */
  unknown: UnknownExamples;
  /** `P@K`, `HR@K`, `MRR@K`, `NDCG@K` per K (see MetricAccumulator.result). */
  metrics: Record<string, number>;
  /** Wall time of the evaluation, scoring included. */
  seconds: number;
}

/**
 * Ranks every example's target among all items with `recommender`'s scores. Every example
 * counts: a target unknown to training (UNKNOWN_ITEM) is a miss, and an empty prefix (none
 * of its items known) is not given to the recommender but ranked by training popularity
 * (equal scores: the tie-break, popularity then raw id, decides).
 */
export async function evaluateRecommender(
  recommender: Recommender,
  examples: Examples,
  options: EvaluateOptions,
): Promise<Evaluation> {
  const started = performance.now();
  const ranker = new Ranker(tieBreakRanks(options.popularity, options.rawIds));
  const accumulator = new MetricAccumulator(options.ks ?? DEFAULT_KS);
  const batchSize = options.batchSize ?? 64;
  const masked = options.mask === 'history';
  const topK = options.topK ?? 20;
  const { prefixes, targets } = examples;
  let popular: Float32Array | undefined;
  for (let start = 0; start < prefixes.length; start += batchSize) {
    const batch = prefixes.slice(start, start + batchSize);
    const known = batch.filter((prefix) => prefix.length > 0);
    const knownScores = known.length > 0 ? await recommender.score(known) : [];
    if (knownScores.length !== known.length) {
      throw new Error(`${recommender.name}: ${knownScores.length} score arrays for ${known.length} prefixes`);
    }
    let k = 0;
    const scores = batch.map((prefix) => (prefix.length > 0 ? knownScores[k++]! : (popular ??= new Float32Array(ranker.numItems))));
    for (let b = 0; b < batch.length; b++) {
      const e = start + b;
      const exclude = masked ? batch[b] : undefined;
      if (targets[e] === UNKNOWN_ITEM) accumulator.addMiss();
      else accumulator.add(ranker.rank(scores[b]!, targets[e]!, exclude));
      if (options.onTopK) {
        const top = ranker.topK(scores[b]!, topK, exclude);
        options.onTopK(Array.from(top, (item) => options.rawIds[item]!), e);
      }
    }
  }
  return {
    examples: accumulator.count,
    unknown: countUnknown(examples),
    metrics: accumulator.result(),
    seconds: (performance.now() - started) / 1000,
  };
}
