/**
 * A shop whose strategy truth is known. Shoppers reach one decision point (`cart-nudge`) with an
 * intent context: a funnel stage, a true purchase probability (the model's estimate of it is
 * noisy, and missing for a tenth of them: no model loaded), a cart. Each action changes the
 * purchase probability and the order value by a known rule that depends on the context:
 * - `reminder` ("still thinking about …", only with a cart): wins back 15% of the would-be
 *   abandoners among at-risk carts; elsewhere it annoys a little (purchase × 0.97);
 * - `free-shipping-bar` (only for carts under the threshold): within 20 of it, +6% of those who
 *   would not buy, and half of the buyers top up to the threshold; further away it does nothing
 *   but nudge the basket a little;
 * - `incentive` (a fixed discount, its cost paid on every purchase it is used on, also by those
 *   who would have bought anyway): raises purchase mostly for mid-propensity shoppers
 *   (+12% at p = 0.35, fading off towards 0 and 1);
 * - `none`: the shopper as they are.
 * So the best action is context-dependent, and the value of any policy is exact: the mean over
 * contexts of Σ_a π(a|x)·p_a(x)·(v_a(x) − cost_a), computed here on a large fixed population.
 */
import { actionProbabilities, decisionFeatures, drawAction, FUNNEL_STAGES, type DecisionContext, type DecisionStage, type PolicyFile } from '@hunch/core';
import { hashSeed, Rng } from '../lib/prng.js';
import type { DecisionRecord } from './records.js';

export const SIM_STRATEGY = 'cart-nudge';
export const SIM_ACTIONS = ['none', 'reminder', 'free-shipping-bar', 'incentive'] as const;
export type SimAction = (typeof SIM_ACTIONS)[number];

export interface StrategyShopModel {
  /** Share of shoppers at each stage (FUNNEL_STAGES' order). */
  stageShares: number[];
  /** Mean logit of the true purchase probability at each stage, and its spread. */
  stageLogit: number[];
  logitSd: number;
  /** Share without a cart at each stage. */
  emptyCart: number[];
  /** Noise of the model's purchase probability (on the logit), and the share of shoppers without a model. */
  modelNoise: number;
  noModel: number;
  freeShippingThreshold: number;
  /** The incentive's cost per purchase it is used on (a fixed discount). */
  incentiveCost: number;
}

export const DEFAULT_STRATEGY_SHOP: StrategyShopModel = {
  //            browsing researching comparing ready at_risk
  stageShares: [0.25, 0.2, 0.15, 0.15, 0.25],
  stageLogit: [-3.0, -2.2, -1.2, 0.3, -0.8],
  logitSd: 0.7,
  emptyCart: [0.7, 0.5, 0.3, 0, 0],
  modelNoise: 0.5,
  noModel: 0.1,
  freeShippingThreshold: 50,
  incentiveCost: 5,
};

/** One shopper at the decision point: what the policy sees, and the truth behind it. */
export interface SimShopper {
  context: DecisionContext;
  features: number[];
  eligible: SimAction[];
  /** True purchase probability and expected order value without any action. */
  basePurchase: number;
  baseValue: number;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** `count` shoppers drawn from the shop's distribution of contexts. */
export function simulateShoppers(count: number, seed: number, model: StrategyShopModel = DEFAULT_STRATEGY_SHOP): SimShopper[] {
  const rng = new Rng(hashSeed(seed, 0x57a7));
  const shoppers: SimShopper[] = [];
  for (let s = 0; s < count; s++) {
    const k = rng.weighted(model.stageShares);
    const stage: DecisionStage = FUNNEL_STAGES[k]!;
    const logit = model.stageLogit[k]! + model.logitSd * rng.normal();
    const basePurchase = sigmoid(logit);
    const cartItems = rng.next() < model.emptyCart[k]! ? 0 : 1 + rng.int(4);
    let cartValue = 0;
    for (let i = 0; i < cartItems; i++) cartValue += 18 * Math.exp(0.5 * rng.normal());
    cartValue = Math.round(cartValue * 100) / 100;
    const sessionEvents = 2 + rng.int(6) + k * 2;
    const purchaseProbability = rng.next() < model.noModel ? null : sigmoid(logit + model.modelNoise * rng.normal());
    const gap = model.freeShippingThreshold - cartValue;
    const context: DecisionContext = { stage, purchaseProbability, cartItems, cartValue, sessionEvents, freeShippingGap: cartItems > 0 && gap > 0 ? Math.round(gap * 100) / 100 : null };
    const eligible: SimAction[] = ['none'];
    if (cartItems > 0) eligible.push('reminder');
    if (cartItems > 0 && cartValue < model.freeShippingThreshold) eligible.push('free-shipping-bar');
    eligible.push('incentive');
    shoppers.push({ context, features: decisionFeatures(context), eligible, basePurchase, baseValue: cartItems > 0 ? cartValue + 5 : 35 });
  }
  return shoppers;
}

/** The true response to an action: purchase probability, expected order value given a purchase, and the cost per purchase. */
export function response(shopper: SimShopper, action: string, model: StrategyShopModel = DEFAULT_STRATEGY_SHOP): { purchase: number; value: number; cost: number } {
  const p0 = shopper.basePurchase;
  const v0 = shopper.baseValue;
  const { stage, cartItems, cartValue } = shopper.context;
  switch (action) {
    case 'reminder':
      if (cartItems > 0 && stage === 'at_risk_of_leaving') return { purchase: 1 - (1 - p0) * 0.85, value: v0, cost: 0 };
      return { purchase: p0 * 0.97, value: v0, cost: 0 };
    case 'free-shipping-bar': {
      const gap = model.freeShippingThreshold - cartValue;
      if (cartItems > 0 && gap > 0 && gap <= 20) return { purchase: p0 + 0.06 * (1 - p0), value: v0 + 0.5 * (gap + 5), cost: 0 };
      return { purchase: p0, value: v0 + (gap > 0 ? 0.1 * gap : 0), cost: 0 };
    }
    case 'incentive':
      return { purchase: Math.min(1, p0 + 0.12 * Math.exp(-(((p0 - 0.35) / 0.15) ** 2))), value: v0, cost: model.incentiveCost };
    default:
      return { purchase: p0, value: v0, cost: 0 };
  }
}

/** The costs per purchase of the simulated actions, as `hunch policy --costs` declares them. */
export const simulatedCosts = (model: StrategyShopModel = DEFAULT_STRATEGY_SHOP): Record<string, number> => ({ incentive: model.incentiveCost });

/** The exact per-shopper means of a policy over a population: reward (net), conversion, revenue, incentive spend. */
export interface PolicyTruth {
  /** Revenue less incentive cost, per shopper (the reward a policy maximises). */
  net: number;
  conversion: number;
  revenue: number;
  spend: number;
}

function probabilities(policy: PolicyFile | null, shopper: SimShopper): number[] {
  const result = actionProbabilities(policy, SIM_STRATEGY, shopper.eligible, shopper.features);
  if (!result.ok) throw new Error(result.error);
  return result.probabilities;
}

/** The true value of `policy` (null: uniform) over `population`: expectations, no sampling. */
export function truePolicyValue(population: readonly SimShopper[], policy: PolicyFile | null, model: StrategyShopModel = DEFAULT_STRATEGY_SHOP): PolicyTruth {
  const t: PolicyTruth = { net: 0, conversion: 0, revenue: 0, spend: 0 };
  for (const shopper of population) {
    const pi = probabilities(policy, shopper);
    shopper.eligible.forEach((action, a) => {
      const w = pi[a]!;
      if (w === 0) return;
      const r = response(shopper, action, model);
      t.conversion += w * r.purchase;
      t.revenue += w * r.purchase * r.value;
      t.spend += w * r.purchase * r.cost;
    });
  }
  const n = population.length;
  return { net: (t.revenue - t.spend) / n, conversion: t.conversion / n, revenue: t.revenue / n, spend: t.spend / n };
}

/** The best possible value: every shopper gets their best action (what no linear policy need reach). */
export function oracleValue(population: readonly SimShopper[], model: StrategyShopModel = DEFAULT_STRATEGY_SHOP): number {
  let sum = 0;
  for (const shopper of population) {
    sum += Math.max(...shopper.eligible.map((a) => { const r = response(shopper, a, model); return r.purchase * (r.value - r.cost); }));
  }
  return sum / population.length;
}

/**
 * A simulated decision: the record, and the purchase that followed it (its gross value), if any.
 * `clicked` and `addedToCart`, when set, say whether its action was clicked and a product added to
 * the cart after it; when not (logDecisions leaves them out), decisionEvents draws them.
 */
export type SimDecision = DecisionRecord & { purchaseValue: number | null; clicked?: boolean; addedToCart?: boolean };

/**
 * The decisions `policy` makes for `shoppers`, drawn as the browser draws them, and their
 * outcomes drawn from the true responses (order values vary ±30% around their mean).
 */
export function logDecisions(shoppers: readonly SimShopper[], policy: PolicyFile | null, seed: number, model: StrategyShopModel = DEFAULT_STRATEGY_SHOP): SimDecision[] {
  const rng = new Rng(hashSeed(0x10c, seed, 0x9e3779b9));
  return shoppers.map((shopper, i) => {
    const pi = probabilities(policy, shopper);
    const a = drawAction(pi, rng.next());
    const action = shopper.eligible[a]!;
    const r = response(shopper, action, model);
    const purchased = rng.next() < r.purchase;
    const noise = Math.exp(0.3 * rng.normal() - 0.045);
    const value = purchased ? Math.round(r.value * noise * 100) / 100 : 0;
    return {
      strategy: SIM_STRATEGY,
      features: shopper.features,
      eligible: [...shopper.eligible],
      action,
      propensity: pi[a]!,
      reward: purchased ? value - r.cost : 0,
      policyId: policy ? policy.id : 'uniform',
      sessionId: `sim-${seed}-${i}`,
      purchaseValue: purchased ? value : null,
    };
  });
}

/**
 * The simulated shop's clicks and add-to-carts, drawn by decisionEvents only (so rewards, true
 * values and logDecisions' draws are as before): a shown action (any but `none`) is clicked by a
 * shopper who goes on to buy with probability 0.3, by one who does not with 0.05; a buyer adds to
 * the cart after the decision with probability 0.6, a non-buyer with 0.2 after a click and 0.05
 * without one.
 */
export const SIM_CLICKS = { buyer: 0.3, nonBuyer: 0.05, addToCart: { buyer: 0.6, clicked: 0.2, other: 0.05 } } as const;

/**
 * Simulated decisions as the events the browser would upload: per decision a session with the
 * `decision` event (its params carrying `features` and `eligible`, the fields the learner needs),
 * the `select_promotion` of its action when clicked (10 s later, as `<hunch-slot>` logs it:
 * promotion_id = the action, creative_slot = the strategy), an `add_to_cart` when one followed
 * (30 s later) and, when the shopper bought, a `purchase` a minute later. Clicks and add-to-carts
 * are the decision's `clicked` / `addedToCart` when set, else drawn by SIM_CLICKS from a stream of
 * their own (the other events, ids included, are the same as without them).
 */
export function decisionEvents(decisions: readonly SimDecision[], startTs = 1_767_225_600_000): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [];
  const rng = new Rng(decisions.length);
  const outcomeRng = new Rng(hashSeed(decisions.length, 0xc11c));
  decisions.forEach((d, i) => {
    const sessionId = rng.uuid();
    const ts = startTs + i * 1000;
    const bought = d.purchaseValue !== null;
    const clickDraw = outcomeRng.next();
    const cartDraw = outcomeRng.next();
    const clicked = d.clicked ?? (d.action !== 'none' && clickDraw < (bought ? SIM_CLICKS.buyer : SIM_CLICKS.nonBuyer));
    const added = d.addedToCart ?? cartDraw < (bought ? SIM_CLICKS.addToCart.buyer : clicked ? SIM_CLICKS.addToCart.clicked : SIM_CLICKS.addToCart.other);
    events.push({
      id: rng.uuid(),
      name: 'decision',
      ts,
      sessionId,
      params: { strategy_id: d.strategy, action_id: d.action, propensity: d.propensity, policy_id: d.policyId ?? 'uniform', features: d.features, eligible: d.eligible },
    });
    if (clicked) events.push({ id: outcomeRng.uuid(), name: 'select_promotion', ts: ts + 10_000, sessionId, params: { promotion_id: d.action, creative_slot: d.strategy } });
    if (added) events.push({ id: outcomeRng.uuid(), name: 'add_to_cart', ts: ts + 30_000, sessionId, params: { item_id: 'sim-item' } });
    if (d.purchaseValue !== null) events.push({ id: rng.uuid(), name: 'purchase', ts: ts + 60_000, sessionId, params: { value: d.purchaseValue, currency: 'EUR' } });
  });
  return events;
}
