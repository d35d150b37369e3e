/**
 * A logged decision as the learner and the off-policy estimators read it: what the policy knew
 * (the decision features, DECISION_FEATURES' order), which actions it could take, which it took
 * with what probability, and what the decision earned afterwards (its reward).
 */

export interface DecisionRecord {
  /** The strategy (decision point), e.g. `cart-nudge`. */
  strategy: string;
  /** The decision features (core's decisionFeatures) the policy decided from. */
  features: number[];
  /** The actions that were eligible, in the strategy's declared order ('none' among them). */
  eligible: string[];
  /** The action taken (one of `eligible`). */
  action: string;
  /** Its probability under the logging policy, in (0, 1]. */
  propensity: number;
  /** What the decision earned: purchase value after it in its session, less the action's cost when a purchase followed. */
  reward: number;
  /** The logging policy's id, when known. */
  policyId?: string;
  /** The session it was made in, when known: learning and checking split logs by session. */
  sessionId?: string;
}

/** Cost per purchase of each action that costs something (an incentive: its discount), in the shop's currency. */
export type ActionCosts = Readonly<Record<string, number>>;

/** The reward of a decision: revenue after it, less its action's cost when that revenue came with a purchase. */
export const decisionReward = (action: string, revenue: number, purchased: boolean, costs: ActionCosts): number =>
  revenue - (purchased ? (costs[action] ?? 0) : 0);

/**
 * `action=cost,...` (e.g. `incentive=5,free-shipping=3.5`): each a non-negative number. Throws
 * with a one-line message on anything else.
 */
export function parseCosts(text: string): Record<string, number> {
  const costs: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const action = eq > 0 ? part.slice(0, eq).trim() : '';
    const cost = eq > 0 ? Number(part.slice(eq + 1)) : Number.NaN;
    if (action === '' || !Number.isFinite(cost) || cost < 0) throw new Error(`costs must be action=cost pairs with non-negative costs, got ${JSON.stringify(part)}`);
    costs[action] = cost;
  }
  return costs;
}
