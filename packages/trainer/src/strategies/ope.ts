/**
 * Off-policy evaluation: what a candidate policy would have earned per decision, estimated from
 * the logs of another (exploring) policy, with 95% intervals. Target probabilities are core's
 * actionProbabilities, the very ones the browser decides with.
 * - IPS: mean of w·r, w = π(a|x) / p (p the logged propensity); unbiased when p > 0 wherever π > 0.
 * - SNIPS: Σ w·r / Σ w; a little biased, much less variable; its interval by the delta method.
 * - DR (doubly robust): mean of Σ_a π(a|x) q̂(x, a) + w (r − q̂(x, a_logged)), q̂ cross-fitted
 *   per-action outcome models; unbiased when either q̂ or p is right, and tighter than IPS.
 * Any outcome of a decision (click, add to cart, purchase, revenue; records.ts) is evaluated the
 * same way, as the reward: evaluateOutcomes.
 * Intervals are value ± z·se with se from the variance of the per-decision terms (decisions are
 * treated as independent; several decisions of one shopper are not).
 */
import { actionProbabilities, type PolicyFile } from '@hunch/core';
import { interval, type Interval } from '../experiments/estimate.js';
import { REWARD_KINDS, withReward, type DecisionRecord, type RewardKind } from './records.js';
import { crossFittedPredictions, type ValueModelOptions } from './value-models.js';

/** A policy to evaluate: a policy file, or null for uniform exploration over the eligible actions. */
export type TargetPolicy = PolicyFile | null;

/**
 * The policy that reads each record: one for all, or one per record (cross-fitted estimates: each
 * record read by a policy not learned from it).
 */
export type PolicyReader = TargetPolicy | ((record: DecisionRecord, index: number) => TargetPolicy);

export interface PolicyEstimates {
  /** Decisions read. */
  n: number;
  ips: Interval;
  snips: Interval;
  dr: Interval;
}

/** The target's probabilities of a record's eligible actions; throws when the policy does not match the logs. */
export function targetProbabilities(policy: TargetPolicy, record: DecisionRecord): number[] {
  const result = actionProbabilities(policy, record.strategy, record.eligible, record.features);
  if (!result.ok) throw new Error(result.error);
  return result.probabilities;
}

/** Index of the logged action among the eligible ones. */
export function loggedIndex(record: DecisionRecord): number {
  const i = record.eligible.indexOf(record.action);
  if (i < 0) throw new Error(`decision of ${record.strategy}: action ${record.action} is not among its eligible actions`);
  return i;
}

/** Mean ± z·sd/√n of per-decision terms. */
export function meanInterval(terms: ArrayLike<number>, alpha = 0.05): Interval {
  const n = terms.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += terms[i]!;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (terms[i]! - mean) ** 2;
  const se = n > 1 ? Math.sqrt(ss / (n - 1) / n) : Number.POSITIVE_INFINITY;
  return interval({ value: mean, se }, alpha);
}

/** The per-decision terms of the three estimators for one target policy. */
export interface EstimatorTerms {
  /** Importance weights π(a_logged|x) / p. */
  weights: Float64Array;
  /** w·r: IPS's terms. */
  ips: Float64Array;
  /** DR's terms (empty without predictions). */
  dr: Float64Array;
}

export function estimatorTerms(records: readonly DecisionRecord[], policy: PolicyReader, predictions?: readonly number[][]): EstimatorTerms {
  const n = records.length;
  const weights = new Float64Array(n);
  const ips = new Float64Array(n);
  const dr = new Float64Array(predictions ? n : 0);
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const pi = targetProbabilities(typeof policy === 'function' ? policy(r, i) : policy, r);
    const k = loggedIndex(r);
    const w = pi[k]! / r.propensity;
    weights[i] = w;
    ips[i] = w * r.reward;
    if (predictions) {
      const q = predictions[i]!;
      let direct = 0;
      for (let a = 0; a < pi.length; a++) direct += pi[a]! * q[a]!;
      dr[i] = direct + w * (r.reward - q[k]!);
    }
  }
  return { weights, ips, dr };
}

/** SNIPS Σ w·r / Σ w with its delta-method standard error. */
export function snipsInterval(terms: EstimatorTerms, records: readonly DecisionRecord[], alpha = 0.05): Interval {
  const n = records.length;
  let sw = 0;
  let swr = 0;
  for (let i = 0; i < n; i++) {
    sw += terms.weights[i]!;
    swr += terms.ips[i]!;
  }
  const value = sw > 0 ? swr / sw : 0;
  const meanW = sw / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (terms.weights[i]! * (records[i]!.reward - value)) ** 2;
  const se = n > 1 && meanW > 0 ? Math.sqrt(ss / (n - 1) / n) / meanW : Number.POSITIVE_INFINITY;
  return interval({ value, se }, alpha);
}

export interface EvaluateOptions extends ValueModelOptions {
  /** Two-sided level of the intervals (default 0.05: 95%). */
  alpha?: number;
  /** Cross-fitted outcome predictions (crossFittedPredictions) to reuse across policies; fitted here when absent. */
  predictions?: readonly number[][];
  /** Folds of the cross-fitting when fitted here (default 2). */
  folds?: number;
}

/** IPS, SNIPS and DR estimates of a policy's value per decision on `records`. */
export function evaluatePolicy(records: readonly DecisionRecord[], policy: PolicyReader, options: EvaluateOptions = {}): PolicyEstimates {
  if (records.length === 0) throw new Error('no decisions to evaluate on');
  const alpha = options.alpha ?? 0.05;
  const predictions = options.predictions ?? crossFittedPredictions(records, options);
  const terms = estimatorTerms(records, policy, predictions);
  return { n: records.length, ips: meanInterval(terms.ips, alpha), snips: snipsInterval(terms, records, alpha), dr: meanInterval(terms.dr, alpha) };
}

/**
 * DR (and IPS) estimates of the difference candidate − current per decision, from paired
 * per-decision terms on the same logs and outcome model: far tighter than two separate intervals.
 */
export function comparePolicies(
  records: readonly DecisionRecord[],
  candidate: TargetPolicy,
  current: TargetPolicy,
  options: EvaluateOptions = {},
): { n: number; dr: Interval; ips: Interval } {
  if (records.length === 0) throw new Error('no decisions to evaluate on');
  const alpha = options.alpha ?? 0.05;
  const predictions = options.predictions ?? crossFittedPredictions(records, options);
  const a = estimatorTerms(records, candidate, predictions);
  const b = estimatorTerms(records, current, predictions);
  const diff = (x: Float64Array, y: Float64Array) => x.map((v, i) => v - y[i]!);
  return { n: records.length, dr: meanInterval(diff(a.dr, b.dr), alpha), ips: meanInterval(diff(a.ips, b.ips), alpha) };
}

/** A policy's estimates of each outcome per decision: click rate, add-to-cart rate, conversion, revenue and net. */
export type OutcomeEstimates = Record<RewardKind, PolicyEstimates>;

/**
 * Each policy's IPS, SNIPS and DR estimates of every outcome (REWARD_KINDS) per decision: each
 * outcome evaluated as the reward by evaluatePolicy, its outcome model cross-fitted once and shared
 * by the policies. The records must carry outcomes (read from events).
 */
export function evaluateOutcomes(records: readonly DecisionRecord[], policies: readonly PolicyReader[], options: Omit<EvaluateOptions, 'predictions'> = {}): OutcomeEstimates[] {
  const out = policies.map(() => ({}) as OutcomeEstimates);
  for (const kind of REWARD_KINDS) {
    const rewarded = withReward(records, kind);
    const predictions = crossFittedPredictions(rewarded, options);
    policies.forEach((policy, i) => (out[i]![kind] = evaluatePolicy(rewarded, policy, { ...options, predictions })));
  }
  return out;
}
