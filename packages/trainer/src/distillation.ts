/**
 * Distilling STAN into the model in `hunch benchmark` and `hunch train`: the teacher's soft
 * targets for every training position (soft-targets.ts, each prefix's own session left out,
 * STAN's defaults), computed once before training in shared memory that the training workers
 * read without copies, and the rule that turns it on when no weight is given.
 */
import { neighbourhoodSoftTargets } from './soft-targets.js';
import type { SequenceTrainOptions } from './train-sequences.js';

/**
 * The term's weight: at equal steps 0.5 beat 0.25 on every metric, on Diginetica (2 epochs) and
 * Beauty (5 epochs) in this trainer, and in PyTorch's sweep 0.5 and 1 were level, both above 0.25
 * (BENCHMARKS.md, "distillation's weight, and a cheaper distilled step").
 */
export const DEFAULT_DISTIL_WEIGHT = 0.5;
/** Soft items a position (BENCHMARKS.md, "distilling STAN in the Node trainer": K 50 against 100). */
export const DEFAULT_DISTIL_K = 50;
/**
 * By default the pass runs when it is predicted (from its first 1% of positions) to take at
 * most this share of the time budget: the time it takes is training's, and STAN's targets
 * helped Diginetica at every length measured, Beauty early but not by 40 epochs (-0.0015
 * HR@10, +0.0014 P@20), so they are worth a small share, not a large one.
 * Diginetica's pass took 2 to 4 minutes on a loaded 2-core machine, within 15% of the default
 * 30 minutes (BENCHMARKS.md, "distilling STAN in the Node trainer").
 */
export const DISTIL_BUDGET_SHARE = 0.15;

export interface DistilChoice {
  /** The term's weight; 0 turns it off; undefined: DEFAULT_DISTIL_WEIGHT where the budget rule allows. */
  weight?: number;
  /** Soft items a position (default DEFAULT_DISTIL_K). */
  k?: number;
}

/** What `hunch benchmark` reports of it. */
export interface DistilReport {
  weight: number;
  k: number;
  /** Positions given targets, of all the training positions. */
  covered: number;
  positions: number;
  seconds: number;
}

/** What the default rule looks at: the run's time budget, and whether items come with attributes. */
export interface DistilDefaults {
  budgetSeconds?: number;
  /**
   * Items composed with their attributes (next-item/heads.ts): then off unless a weight is given.
   * The teacher knows only the items training saw and moves the softmax's mass onto them, away
   * from those known by their attributes alone: a product added after training fell from the
   * top 12 of its category's shopper to 15th-16th at weight 0.5 (test/e2e/new-products.test.ts),
   * and on Beauty with attributes the 40-epoch run was no better for it (HR@10 0.0920 against
   * 0.0935; BENCHMARKS.md, "distillation's weight, and a cheaper distilled step").
   */
  itemAttributes?: boolean;
}

/**
 * STAN's soft targets for `sequences` (token sequences, [BOS] first) as trainSequences'
 * `distil`, or undefined when off: weight 0, or no weight given and either item attributes in
 * use or the pass predicted over DISTIL_BUDGET_SHARE of the budget. `sessionOf`: each
 * sequence's session where sequences are windows of sessions.
 */
export function distilTargets(
  sequences: ReadonlyArray<ArrayLike<number>>,
  isItem: Uint8Array,
  choice: DistilChoice,
  defaults: DistilDefaults,
  log: (line: string) => void,
  sessionOf?: ArrayLike<number>,
): { distil: NonNullable<SequenceTrainOptions['distil']>; report: DistilReport } | undefined {
  const weight = choice.weight ?? DEFAULT_DISTIL_WEIGHT;
  const k = choice.k ?? DEFAULT_DISTIL_K;
  if (!(weight >= 0 && Number.isFinite(weight))) throw new Error(`the distillation weight must be a number >= 0, got ${weight}`);
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`the soft items a position must be a positive integer, got ${k}`);
  if (weight === 0) return undefined;
  if (choice.weight === undefined && defaults.itemAttributes) {
    log(`distillation off: items are composed with their attributes, and STAN's targets know only the items training saw; --distil ${DEFAULT_DISTIL_WEIGHT} turns it on`);
    return undefined;
  }
  const budgetSeconds = defaults.budgetSeconds;
  const maxSeconds = choice.weight === undefined && budgetSeconds !== undefined ? DISTIL_BUDGET_SHARE * budgetSeconds : undefined;
  const started = performance.now();
  const options = { k, teacher: 'stan' as const, shared: true, ...(sessionOf ? { sessionOf } : {}) };
  const targets =
    maxSeconds === undefined
      ? neighbourhoodSoftTargets(sequences, (token) => isItem[token] === 1, isItem.length, options)
      : neighbourhoodSoftTargets(sequences, (token) => isItem[token] === 1, isItem.length, { ...options, maxSeconds });
  const seconds = (performance.now() - started) / 1000;
  if (!targets) {
    log(
      `distillation off: STAN's soft targets were predicted to take over ${maxSeconds!.toFixed(0)} s (${Math.round(DISTIL_BUDGET_SHARE * 100)}% of the time budget; ` +
        `stopped after ${seconds.toFixed(1)} s); --distil ${DEFAULT_DISTIL_WEIGHT} turns it on`,
    );
    return undefined;
  }
  log(`soft targets from STAN: ${targets.covered} of ${targets.positions} positions, ${k} items each, in ${seconds.toFixed(1)} s; distilled with weight ${weight}`);
  return { distil: { weight, targets }, report: { weight, k, covered: targets.covered, positions: targets.positions, seconds } };
}
