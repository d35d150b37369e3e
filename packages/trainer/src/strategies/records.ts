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
  /** What followed it in its session, each a reward `hunch policy --reward` can learn for (absent on records not read from events). */
  outcomes?: DecisionOutcomes;
}

/** What followed a decision in its session, at or after it. */
export interface DecisionOutcomes {
  /** 1 when its action was clicked: a `select_promotion` with promotion_id = the action and creative_slot = the strategy (what `<hunch-slot>` logs), else 0. */
  click: number;
  /** 1 when an `add_to_cart` followed, else 0. */
  addToCart: number;
  /** 1 when a purchase followed, else 0. */
  purchase: number;
  /** The purchase value that followed (gross: no action cost taken off). */
  revenue: number;
}

/**
 * What a policy can be learned for and is checked on (`hunch policy --reward`): `net` (the
 * record's reward: revenue less the action's cost), `revenue`, `conversion` (purchase 0/1),
 * `add_to_cart` and `click` (0/1 each), in the order the report lists them.
 */
export const REWARD_KINDS = ['click', 'add_to_cart', 'conversion', 'revenue', 'net'] as const;
export type RewardKind = (typeof REWARD_KINDS)[number];

/** Parses a reward kind; throws with a one-line message on anything else. */
export function parseRewardKind(text: string): RewardKind {
  if ((REWARD_KINDS as readonly string[]).includes(text)) return text as RewardKind;
  throw new Error(`must be one of ${[...REWARD_KINDS].reverse().join(', ')}, got ${JSON.stringify(text)}`);
}

/** A record's value of a reward kind (`net`: its reward); throws on a record without outcomes for any other kind. */
export function outcomeValue(record: DecisionRecord, kind: RewardKind): number {
  if (kind === 'net') return record.reward;
  const o = record.outcomes;
  if (!o) throw new Error(`decision of ${record.strategy} has no outcomes to read ${kind} from`);
  switch (kind) {
    case 'click':
      return o.click;
    case 'add_to_cart':
      return o.addToCart;
    case 'conversion':
      return o.purchase;
    case 'revenue':
      return o.revenue;
  }
}

/** The records with `kind` as their reward (the same records for `net`): what the learner and the estimators then read. */
export const withReward = (records: readonly DecisionRecord[], kind: RewardKind): DecisionRecord[] =>
  kind === 'net' ? [...records] : records.map((r) => ({ ...r, reward: outcomeValue(r, kind) }));

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
