/**
 * What a shop declares: strategies (named decision points on its pages: `cart-nudge`,
 * `exit-offer`, ...), each with candidate actions, when each is eligible (over the shopper's
 * intent and cart), its copy (a template with slots, rendered as text only), and guardrails
 * (frequency caps, incentive budgets, a minimum margin, excluded products and categories). "Do nothing" (core's NO_ACTION, `none`)
 * is always a candidate, declared or not.
 *
 * A declaration is checked once, when it is made: a mistake (an unknown slot, a slot that can
 * never have a value, a duplicate action) makes that strategy decide nothing (`none`, with one
 * console warning) rather than show something broken.
 */
import { NO_ACTION } from '@hunch/core';
import type { FunnelStage } from '../intent.js';
import { slotsOf, SLOTS } from './copy.js';

export type ActionKind = 'message' | 'incentive' | 'none';

/** When an action is a candidate; every condition given must hold. */
export interface ActionEligibility {
  /** Funnel stages (intent().stage) it is for. */
  stages?: FunnelStage[];
  /** Units in the cart. */
  minCartItems?: number;
  maxCartItems?: number;
  /** Cart value, in the shop's currency. */
  minCartValue?: number;
  maxCartValue?: number;
  /** The cart is below the strategy's freeShippingThreshold by at most this much (and not empty). */
  withinFreeShipping?: number;
  /** The model's purchaseProbability (an action with either is never eligible without a model). */
  minPurchaseProbability?: number;
  maxPurchaseProbability?: number;
}

export interface ActionDeclaration {
  /** Unique within the strategy; logged as the decision's action_id. `none` is the action that shows nothing. */
  id: string;
  kind: ActionKind;
  /**
   * The text shown, with slots in braces: {title} {category} {price} (the product in focus: the
   * latest one added to the cart and still there, else the latest viewed), {top_category},
   * {cart_items}, {cart_value}, {left_to_free_shipping}, {free_shipping_threshold}. Required
   * unless kind is 'none'. An action whose slots have no value now is not a candidate.
   */
  copy?: string;
  /** Why, as a template like copy (default: "because you left {title} in your cart", or the intent's reason). */
  reason?: string;
  /** Where a click on it leads (http(s) or relative); none: the shop handles clicks. */
  href?: string;
  when?: ActionEligibility;
  /** What the action costs the shop when taken (an incentive's discount), in the shop's currency. */
  cost?: number;
  /** 'free_shipping': <hunch-slot> shows a progress bar of the cart towards the threshold. */
  meter?: 'free_shipping';
}

export interface StrategyDeclaration {
  /** The candidates, in order (a policy's ties go to the first). */
  actions: ActionDeclaration[];
  /** ISO 4217 currency for {price}, {cart_value} and the free-shipping amounts (default: the cart events' currency). */
  currency?: string;
  /** The cart value from which shipping is free (for withinFreeShipping and the free-shipping slots). */
  freeShippingThreshold?: number;
  /** Frequency caps: at most this many decisions other than `none` per session and per day. */
  cap?: { perSession?: number; perDay?: number };
  /** Incentive budget per shopper: an incentive is a candidate only while the cost offered today plus its own stays within perDay. */
  budget?: { perDay: number };
  /** Never named in copy; no incentive while the cart holds one of them. */
  exclude?: { items?: string[]; categories?: string[] };
  /**
   * Minimum expected margin: the shop's gross margin as a share of price (`rate`, in (0, 1];
   * `categories` overrides it per category) and the least the cart must still earn (`min`, ≥ 0)
   * after an action's cost. An action with a cost is a candidate only while Σ price × quantity ×
   * rate over the cart's lines − its cost ≥ min; a line without a known price makes the margin
   * unknown, and then no action with a cost is a candidate. Actions without a cost are unaffected.
   */
  margin?: { rate: number; min: number; categories?: Record<string, number> };
}

export type StrategyDeclarations = Record<string, StrategyDeclaration>;

/** A declaration as decide() uses it: its actions with `none` among them, or why it cannot be used. */
export type CheckedStrategy = { ok: true; strategy: StrategyDeclaration; actions: ActionDeclaration[] } | { ok: false; error: string };

const KINDS: readonly string[] = ['message', 'incentive', 'none'];
const FREE_SHIPPING_SLOTS = ['left_to_free_shipping', 'free_shipping_threshold'];

export function checkStrategy(name: string, input: StrategyDeclaration): CheckedStrategy {
  const fail = (error: string): CheckedStrategy => ({ ok: false, error: `strategy ${name}: ${error}` });
  if (typeof input !== 'object' || input === null || !Array.isArray(input.actions)) return fail('actions must be an array');
  const threshold = input.freeShippingThreshold;
  if (threshold !== undefined && !(typeof threshold === 'number' && threshold > 0)) return fail('freeShippingThreshold must be a positive number');
  const margin = input.margin;
  const share = (rate: unknown) => typeof rate === 'number' && rate > 0 && rate <= 1;
  if (margin !== undefined && !(margin && share(margin.rate) && Number.isFinite(margin.min) && margin.min >= 0 && Object.values(margin.categories ?? {}).every(share)))
    return fail('margin: rate and category rates must be in (0, 1], min a number ≥ 0');
  const actions: ActionDeclaration[] = [];
  for (const action of input.actions) {
    const { id, kind, copy, reason } = action ?? ({} as ActionDeclaration);
    if (typeof id !== 'string' || id === '') return fail('every action needs an id');
    if (actions.some((other) => other.id === id)) return fail(`action ${id} is declared twice`);
    if (!KINDS.includes(kind)) return fail(`action ${id}: kind must be message, incentive or none`);
    if (id === NO_ACTION && kind !== 'none') return fail(`the action ${NO_ACTION} shows nothing: its kind must be none`);
    if (kind !== 'none' && (typeof copy !== 'string' || copy.trim() === '')) return fail(`action ${id}: copy is required`);
    for (const [field, template] of [['copy', copy], ['reason', reason]] as const) {
      if (template === undefined) continue;
      for (const slot of slotsOf(template)) {
        if (!SLOTS.includes(slot)) return fail(`action ${id}: {${slot}} in its ${field} is not a slot (${SLOTS.join(', ')})`);
        if (threshold === undefined && FREE_SHIPPING_SLOTS.includes(slot)) return fail(`action ${id}: {${slot}} has no value without freeShippingThreshold`);
      }
    }
    if (action.when?.withinFreeShipping !== undefined && threshold === undefined) return fail(`action ${id}: withinFreeShipping needs freeShippingThreshold`);
    actions.push(action);
  }
  if (!actions.some((action) => action.id === NO_ACTION)) actions.push({ id: NO_ACTION, kind: 'none' });
  return { ok: true, strategy: input, actions };
}
