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
  /** Exploration share of the learned policy (default 0.1): keeps every eligible action at ≥ ε / eligible, so the next logs can evaluate and learn the next policy. */
  epsilon?: number;
}

export const DEFAULT_EPSILON = 0.1;

/** A policy file whose value models are fitted on `records`. */
export function learnPolicy(records: readonly DecisionRecord[], options: LearnOptions): PolicyFile {
  if (records.length === 0) throw new Error('no decisions to learn from');
  const epsilon = options.epsilon ?? DEFAULT_EPSILON;
  if (!(epsilon > 0 && epsilon <= 1)) throw new Error(`epsilon must be in (0, 1], got ${epsilon}`);
  const models = fitValueModels(records, options);
  const strategies: PolicyFile['strategies'] = {};
  for (const [strategy, actions] of Object.entries(models)) {
    strategies[strategy] = { actions: Object.fromEntries(Object.entries(actions).map(([action, weights]) => [action, { weights }])) };
  }
  return { version: POLICY_VERSION, id: options.id, features: [...DECISION_FEATURES], epsilon, strategies };
}
