/**
 * Hand-written policies as policy files: an action's score is a few named feature weights, so a
 * rule set ("remind at-risk carts") is a policy like any learned one, and the same estimators
 * evaluate it. Deterministic rules get a tiny ε (a policy file needs ε > 0).
 */
import { DECISION_FEATURES, POLICY_VERSION, type PolicyFile } from '@hunch/core';

export type FeatureWeights = Partial<Record<(typeof DECISION_FEATURES)[number], number>>;

/** A policy file from named weights per action (unnamed features weigh 0). */
export function rulePolicy(id: string, strategy: string, actions: Record<string, FeatureWeights>, epsilon = 1e-6): PolicyFile {
  const weights = (named: FeatureWeights) => DECISION_FEATURES.map((name) => named[name] ?? 0);
  return {
    version: POLICY_VERSION,
    id,
    features: [...DECISION_FEATURES],
    epsilon,
    strategies: { [strategy]: { actions: Object.fromEntries(Object.entries(actions).map(([action, named]) => [action, { weights: weights(named) }])) } },
  };
}

/** Always `action` where eligible, else `fallback` ('none'), over the given actions. */
export function alwaysPolicy(strategy: string, actions: readonly string[], action: string, fallback = 'none'): PolicyFile {
  return rulePolicy(
    `always-${action}`,
    strategy,
    Object.fromEntries(actions.map((a) => [a, { bias: a === action ? 2 : a === fallback ? 1 : 0 }])),
  );
}

/**
 * The rules a shop would write for the simulated cart nudge: remind at-risk carts; show the
 * free-shipping bar to carts worth 30 or more (and under the threshold, where it is eligible);
 * otherwise nothing; never an incentive.
 */
export function cartNudgeRules(strategy = 'cart-nudge'): PolicyFile {
  const logCart30 = Math.log1p(30) / 10; // log_cart_value of a cart worth 30
  return rulePolicy('rules', strategy, {
    none: {},
    reminder: { 'stage:at_risk_of_leaving': 10, bias: -5 },
    'free-shipping-bar': { log_cart_value: 100, bias: -100 * logCart30 },
    incentive: { bias: -1 },
  });
}
