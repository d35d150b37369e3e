/**
 * Learning a policy from logged decisions: its value models are the per-action outcome models
 * (value-models.ts), so the policy takes, for each shopper, the eligible action whose predicted
 * reward (revenue, less an incentive's cost) is highest, and explores with probability ε. An
 * incentive's uplift falls out of the comparison: it wins only where its value model, cost
 * included, beats doing nothing and every other action, i.e. not for shoppers who would buy
 * anyway, and not for those it cannot move.
 */
import { DECISION_FEATURES, POLICY_VERSION, type PolicyFile } from '@hunch/core';
import type { DecisionRecord } from './records.js';
import { fitValueModels, type ValueModelOptions } from './value-models.js';

export interface LearnOptions extends ValueModelOptions {
  /** The policy's id (logged with each decision it makes). */
  id: string;
  /** Exploration share of the learned policy (default: adaptiveEpsilon of the logs): keeps every eligible action at ≥ ε / eligible, so the next logs can evaluate and learn the next policy. */
  epsilon?: number;
}

/** The most a learned policy explores by default: with little evidence (and the ε of earlier releases). */
export const DEFAULT_EPSILON = 0.1;
/**
 * The least a learned policy explores by default: every eligible action keeps ≥ 0.05 / eligible
 * (importance weights ≤ 20 per eligible action), so that the deployed policy's own logs can still
 * evaluate other policies with intervals that hold (bench:strategies: from 4,000 decisions logged at
 * ε 0.02 the 95% intervals covered in only 86–95% of logs; at 0.05 as at 0.1, about 90–97%).
 */
export const MIN_EPSILON = 0.05;

/**
 * The default ε, from the evidence: 1 / √(decisions per action) of the least-logged strategy
 * (decisions / eligible actions; the scale of an action's standard error relative to its outcome's
 * spread), within [MIN_EPSILON, DEFAULT_EPSILON]: up to 100 decisions per action explore at 0.1,
 * from 400 per action on at 0.05. One ε serves all strategies (core's policy file has one),
 * so the strategy with the least evidence sets it.
 */
export function adaptiveEpsilon(records: readonly DecisionRecord[]): number {
  const counts = new Map<string, { n: number; actions: Set<string> }>();
  for (const r of records) {
    let c = counts.get(r.strategy);
    if (!c) counts.set(r.strategy, (c = { n: 0, actions: new Set() }));
    c.n++;
    for (const a of r.eligible) c.actions.add(a);
  }
  let perAction = Number.POSITIVE_INFINITY;
  for (const c of counts.values()) perAction = Math.min(perAction, c.n / Math.max(1, c.actions.size));
  if (!Number.isFinite(perAction) || perAction <= 0) return DEFAULT_EPSILON;
  return Math.min(DEFAULT_EPSILON, Math.max(MIN_EPSILON, 1 / Math.sqrt(perAction)));
}

/** A policy file whose value models are fitted on `records`. */
export function learnPolicy(records: readonly DecisionRecord[], options: LearnOptions): PolicyFile {
  if (records.length === 0) throw new Error('no decisions to learn from');
  const epsilon = options.epsilon ?? adaptiveEpsilon(records);
  if (!(epsilon > 0 && epsilon <= 1)) throw new Error(`epsilon must be in (0, 1], got ${epsilon}`);
  const models = fitValueModels(records, options);
  const strategies: PolicyFile['strategies'] = {};
  for (const [strategy, actions] of Object.entries(models)) {
    strategies[strategy] = { actions: Object.fromEntries(Object.entries(actions).map(([action, weights]) => [action, { weights }])) };
  }
  return { version: POLICY_VERSION, id: options.id, features: [...DECISION_FEATURES], epsilon, strategies };
}
