/**
 * Strategy policies: which action a decision point (a strategy: `cart-nudge`, `exit-offer`, ...)
 * takes for a shopper, from the shopper's intent, and with what probability. The browser decides
 * with it (and logs the probability with each decision); the trainer evaluates and learns
 * policies offline with the very same probabilities, so both read this one file.
 *
 * A policy scores each action by a linear model over the decision features (its expected value
 * per decision: revenue, less what an incentive costs) and is ε-greedy: with probability 1 - ε the
 * best-scoring eligible action, otherwise one of the eligible actions uniformly. Every eligible
 * action so keeps a probability of at least ε / (eligible actions), which is what off-policy
 * evaluation needs. Without a policy (nothing learned yet) the choice is uniform: the exploring
 * policy whose logs the first policy is learned from. "none" (do nothing) is an action like any
 * other, always eligible.
 */

/** The action that shows nothing: always a candidate. */
export const NO_ACTION = 'none';

export const FUNNEL_STAGES = ['browsing', 'researching', 'comparing', 'ready_to_buy', 'at_risk_of_leaving'] as const;
export type DecisionStage = (typeof FUNNEL_STAGES)[number];

/** What a decision knows of the shopper now: their intent and their cart. */
export interface DecisionContext {
  stage: DecisionStage;
  /** The intent's purchaseProbability: the session purchase model's when the model ships one, else the next-step value; null without a model. */
  purchaseProbability: number | null;
  /** Units in the cart, and their value in the shop's currency. */
  cartItems: number;
  cartValue: number;
  /** Behaviour events in the session so far. */
  sessionEvents: number;
  /**
   * What the cart lacks to reach the strategy's free-shipping threshold, in the shop's currency;
   * null (or absent) without a threshold, or once it is reached.
   */
  freeShippingGap?: number | null;
}

/**
 * The features a policy reads, in this order: its weights line up with them. A linear value
 * model over them can express where actions pay in a shop: a purchase probability whose effect
 * rises then falls (p and p², where an incentive changes minds most), the distance to free
 * shipping (a progress bar pays only close to the threshold), and, per funnel stage, slopes of
 * its own in purchase probability and cart value (a reminder wins back likely buyers at risk of
 * leaving, not browsers; the products `a*b` are those interactions).
 */
export const DECISION_FEATURES = [
  'bias',
  ...FUNNEL_STAGES.map((stage) => `stage:${stage}`),
  'purchase_probability',
  'purchase_probability_squared',
  'no_model',
  'cart_items',
  'log_cart_value',
  'log_session_events',
  'free_shipping_gap_open',
  'free_shipping_gap',
  ...FUNNEL_STAGES.map((stage) => `stage:${stage}*purchase_probability`),
  ...FUNNEL_STAGES.map((stage) => `stage:${stage}*log_cart_value`),
  'purchase_probability*log_cart_value',
  'free_shipping_gap_open*purchase_probability',
] as const;

/** The feature vector of a context (DECISION_FEATURES' order); bounded, so no single one dominates. */
export function decisionFeatures(context: DecisionContext): number[] {
  const p = context.purchaseProbability ?? 0;
  const gap = context.freeShippingGap ?? null;
  const open = gap !== null && gap > 0;
  const logCartValue = Math.log1p(Math.max(0, context.cartValue)) / 10;
  const atStage = (value: number) => FUNNEL_STAGES.map((stage) => (context.stage === stage ? value : 0));
  return [
    1,
    ...atStage(1),
    p,
    p ** 2,
    context.purchaseProbability === null ? 1 : 0,
    Math.min(context.cartItems, 10) / 10,
    logCartValue,
    Math.log1p(Math.max(0, context.sessionEvents)) / 5,
    open ? 1 : 0,
    open ? Math.min(gap, 100) / 100 : 0,
    ...atStage(p),
    ...atStage(logCartValue),
    p * logCartValue,
    open ? p : 0,
  ];
}

export const POLICY_VERSION = 1;

/** `policy.json`, shipped beside the model's hunch.json. */
export interface PolicyFile {
  version: typeof POLICY_VERSION;
  /** A name for this policy (logged with each decision, so outcomes can be told apart by policy). */
  id: string;
  /** The feature names its weights are for: DECISION_FEATURES when written by this version. */
  features: string[];
  /** Share of decisions that explore, in (0, 1]: uniform among the eligible actions. */
  epsilon: number;
  /** Per strategy, per action: the linear model of its value per decision. */
  strategies: Record<string, { actions: Record<string, { weights: number[] }> }>;
}

export type PolicyCheck = { ok: true; policy: PolicyFile } | { ok: false; error: string };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a parsed `policy.json`: its version, its features (this version's), ε and every weight vector's length. */
export function validatePolicy(input: unknown): PolicyCheck {
  if (!isRecord(input)) return { ok: false, error: 'policy must be an object' };
  if (input.version !== POLICY_VERSION) return { ok: false, error: `unsupported policy version ${JSON.stringify(input.version)}` };
  if (typeof input.id !== 'string' || input.id === '') return { ok: false, error: 'policy id must be a non-empty string' };
  const features = input.features;
  if (!Array.isArray(features) || features.length !== DECISION_FEATURES.length || features.some((name, i) => name !== DECISION_FEATURES[i])) {
    return { ok: false, error: `policy features must be ${DECISION_FEATURES.join(', ')}` };
  }
  const epsilon = input.epsilon;
  if (typeof epsilon !== 'number' || !(epsilon > 0 && epsilon <= 1)) return { ok: false, error: 'policy epsilon must be in (0, 1]' };
  if (!isRecord(input.strategies)) return { ok: false, error: 'policy strategies must be an object' };
  for (const [name, strategy] of Object.entries(input.strategies)) {
    if (!isRecord(strategy) || !isRecord(strategy.actions)) return { ok: false, error: `policy strategy ${name}: actions must be an object` };
    for (const [action, model] of Object.entries(strategy.actions)) {
      const weights = isRecord(model) ? model.weights : undefined;
      if (!Array.isArray(weights) || weights.length !== DECISION_FEATURES.length || !weights.every((w) => typeof w === 'number' && Number.isFinite(w))) {
        return { ok: false, error: `policy strategy ${name}, action ${action}: weights must be ${DECISION_FEATURES.length} finite numbers` };
      }
    }
  }
  return { ok: true, policy: input as unknown as PolicyFile };
}

/** A policy's value estimate of one action for these features (the dot product). */
export const actionScore = (weights: readonly number[], features: readonly number[]): number => weights.reduce((sum, w, i) => sum + w * features[i]!, 0);

export type ActionProbabilities = { ok: true; probabilities: number[] } | { ok: false; error: string };

/**
 * The probability of each of `eligible` (action ids, in the strategy's declared order) under
 * `policy` (null: uniform) for `features`. An error when the policy does not match the page:
 * the strategy, or one of its eligible actions, is not in it. Ties go to the first declared.
 */
export function actionProbabilities(policy: PolicyFile | null, strategy: string, eligible: readonly string[], features: readonly number[]): ActionProbabilities {
  const n = eligible.length;
  if (n === 0) return { ok: false, error: `strategy ${strategy}: no eligible action` };
  if (!policy) return { ok: true, probabilities: eligible.map(() => 1 / n) };
  const models = policy.strategies[strategy]?.actions;
  if (!models) return { ok: false, error: `the policy ${policy.id} has no strategy ${strategy}` };
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < n; i++) {
    const model = models[eligible[i]!];
    if (!model) return { ok: false, error: `the policy ${policy.id} has no action ${eligible[i]} for strategy ${strategy}` };
    const score = actionScore(model.weights, features);
    if (score > bestScore) [best, bestScore] = [i, score];
  }
  return { ok: true, probabilities: eligible.map((_, i) => policy.epsilon / n + (i === best ? 1 - policy.epsilon : 0)) };
}

/** The index drawn for a uniform `u` in [0, 1) from `probabilities` (inverse CDF). */
export function drawAction(probabilities: readonly number[], u: number): number {
  let cumulative = 0;
  for (let i = 0; i < probabilities.length; i++) {
    cumulative += probabilities[i]!;
    if (u < cumulative) return i;
  }
  return probabilities.length - 1;
}
