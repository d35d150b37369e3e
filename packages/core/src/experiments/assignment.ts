/**
 * Experiment assignment: deterministic, sticky bucketing of an anonymous shopper id, with no
 * state and no dependencies (it ships in the script-tag loader). The same id and key always
 * give the same bucket on every device and server, so a shopper keeps their variant across
 * visits and the collector can recompute anyone's assignment.
 *
 * Buckets are GrowthBook's hash v2 (FNV-1a 32-bit, hashed twice, the experiment key as the
 * seed): https://docs.growthbook.io/lib/build-your-own#hash. Seeding with the key makes
 * experiments independent of each other; the global holdout is bucketed on its own key, so it
 * is independent of every experiment too.
 */

/** FNV-1a, 32-bit, over UTF-16 code units (as GrowthBook's SDKs do). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The shopper's position in [0, 1) for a seed: 10,000 equal buckets. Hashing the first hash's
 * decimal string again breaks the correlation single FNV-1a has between seeds that share a prefix.
 */
export function bucket(seed: string, id: string): number {
  return (fnv1a32(String(fnv1a32(seed + id))) % 10000) / 10000;
}

export interface ExperimentConfig {
  /** Also the hash seed: two experiments with different keys split shoppers independently. */
  key: string;
  /** Relative weights of the variants (index 0 is the control); need not sum to 1. */
  weights: readonly number[];
  /** Share of (non-held-out) shoppers enrolled, in [0, 1]; default 1. */
  traffic?: number;
}

export interface HoldoutConfig {
  key: string;
  /** Share of all shoppers kept out of every experiment (they get the default experience). */
  share: number;
}

/** A global holdout of 10% on its own key: the baseline that all experiments together are measured against. */
export const DEFAULT_HOLDOUT: HoldoutConfig = { key: 'hunch-holdout', share: 0.1 };

/**
 * The holdout's two arms, as its exposures (experience_impression on the holdout's key) name
 * them: the SDK logs them, `hunch report` compares them.
 */
export const HOLDOUT_ARMS = ['holdout', 'personalised'] as const;

export type Assignment =
  | { enrolled: true; variant: number }
  | { enrolled: false; reason: 'holdout' | 'traffic' };

/**
 * Variant ranges in [0, 1): variant i starts where the full weights before it end and spans
 * `traffic` of its own weight. Raising traffic only enrolls more shoppers; nobody enrolled
 * changes variant (GrowthBook's bucket ranges).
 */
export function variantRanges(weights: readonly number[], traffic = 1): Array<[number, number]> {
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (!(total > 0) || weights.some((w) => !(w >= 0))) throw new Error('variant weights must be non-negative with a positive sum');
  if (!(traffic >= 0 && traffic <= 1)) throw new Error('traffic must be in [0, 1]');
  let start = 0;
  return weights.map((w) => {
    const share = w / total;
    const range: [number, number] = [start, start + share * traffic];
    start += share;
    return range;
  });
}

/** Whether the shopper is in the global holdout. */
export function inHoldout(id: string, holdout: HoldoutConfig = DEFAULT_HOLDOUT): boolean {
  return bucket(holdout.key, id) < holdout.share;
}

/** The shopper's variant in an experiment, or why they are not in it. Pass `null` for no holdout. */
export function assign(id: string, experiment: ExperimentConfig, holdout: HoldoutConfig | null = DEFAULT_HOLDOUT): Assignment {
  if (holdout && inHoldout(id, holdout)) return { enrolled: false, reason: 'holdout' };
  const n = bucket(experiment.key, id);
  const ranges = variantRanges(experiment.weights, experiment.traffic);
  for (let i = 0; i < ranges.length; i++) {
    const [from, to] = ranges[i]!;
    if (n >= from && n < to) return { enrolled: true, variant: i };
  }
  return { enrolled: false, reason: 'traffic' };
}
