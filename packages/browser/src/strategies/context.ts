/**
 * What a decision knows of the shopper: core's DecisionContext (the policy's features) from
 * the intent and the session's events, the cart with its value, the product in focus, and the
 * copy's slot values. Pure functions over events and catalog entries, tested without a browser.
 */
import { FUNNEL_STAGES, type CatalogItem, type DecisionContext, type HunchEvent } from '@hunch/core';
import { currentSession, productsViewed, type Intent } from '../intent.js';
import { formatPrice } from '../render/cards.js';
import type { SlotValues } from './copy.js';
import type { ActionDeclaration, StrategyDeclaration } from './declarations.js';

export interface CartLine {
  id: string;
  quantity: number;
  /** Unit price: the event's, else the catalog's; undefined when neither knows it. */
  price: number | undefined;
  category: string | undefined;
}

/** The cart now, from the events (README's rules, as cart.ts: added, not removed, not bought since), in the order added. */
export function cartOf(events: readonly HunchEvent[], catalog: ReadonlyMap<string, CatalogItem>): { lines: CartLine[]; currency: string | undefined } {
  const lines = new Map<string, CartLine>();
  let currency: string | undefined;
  for (const { name, params } of events) {
    if (name === 'purchase') lines.clear();
    if (!params.item_id) continue;
    if (name === 'remove_from_cart') lines.delete(params.item_id);
    if (name !== 'add_to_cart') continue;
    currency = params.currency ?? currency;
    const item = params.items?.find((entry) => entry.item_id === params.item_id);
    const quantity = item?.quantity ?? 1;
    const entry = catalog.get(params.item_id);
    const price = item?.price ?? (params.value !== undefined ? params.value / quantity : entry?.price);
    const line = lines.get(params.item_id);
    lines.delete(params.item_id); // re-added: now the latest
    lines.set(params.item_id, { id: params.item_id, quantity: (line?.quantity ?? 0) + quantity, price: price ?? line?.price, category: params.item_category ?? item?.item_category ?? entry?.category ?? line?.category });
  }
  return { lines: [...lines.values()], currency };
}

export const cartUnits = (lines: readonly CartLine[]): number => lines.reduce((sum, line) => sum + line.quantity, 0);
const cents = (amount: number) => Math.round(amount * 100) / 100;
export const cartValue = (lines: readonly CartLine[]): number => cents(lines.reduce((sum, line) => sum + (line.price ?? 0) * line.quantity, 0));

/** core's DecisionContext: the policy's input. */
export function decisionContextOf(intent: Intent, events: readonly HunchEvent[], lines: readonly CartLine[]): DecisionContext {
  return {
    stage: (FUNNEL_STAGES as readonly string[]).includes(intent.stage) ? intent.stage : 'browsing',
    purchaseProbability: intent.purchaseProbability,
    cartItems: cartUnits(lines),
    cartValue: cartValue(lines),
    sessionEvents: currentSession(events).length,
  };
}

/** What a decision reads: the context, the cart, the session's events and the catalog entries of their products. */
export interface Situation {
  context: DecisionContext;
  intent: Intent;
  lines: CartLine[];
  currency: string | undefined;
  session: HunchEvent[];
  catalog: ReadonlyMap<string, CatalogItem>;
}

export function situationOf(intent: Intent, events: readonly HunchEvent[], catalog: ReadonlyMap<string, CatalogItem>): Situation {
  const { lines, currency } = cartOf(currentSession(events), catalog);
  return { context: decisionContextOf(intent, events, lines), intent, lines, currency, session: currentSession(events), catalog };
}

const excluded = (strategy: StrategyDeclaration, id: string, category: string | undefined) =>
  (strategy.exclude?.items ?? []).includes(id) || (category !== undefined && (strategy.exclude?.categories ?? []).includes(category));

/** The product copy may name: the latest added to the cart and still there, else the latest viewed; never an excluded one. */
export function focusOf(situation: Situation, strategy: StrategyDeclaration): { item: CatalogItem; inCart: boolean } | undefined {
  for (const line of [...situation.lines].reverse()) {
    const item = situation.catalog.get(line.id);
    if (item && !excluded(strategy, item.id, item.category ?? line.category)) return { item: line.price !== undefined ? { ...item, price: line.price } : item, inCart: true };
  }
  for (const id of productsViewed(situation.session).reverse()) {
    const item = situation.catalog.get(id);
    if (item && !excluded(strategy, item.id, item.category)) return { item, inCart: false };
  }
  return undefined;
}

/** The slots' values now (see copy.ts SLOTS); those with none are left out. */
export function slotValuesOf(situation: Situation, strategy: StrategyDeclaration): SlotValues {
  const currency = strategy.currency ?? situation.currency;
  const money = (amount: number) => formatPrice(amount, currency);
  const values: SlotValues = { cart_items: String(situation.context.cartItems) };
  if (situation.lines.length > 0) values.cart_value = money(situation.context.cartValue);
  const focus = focusOf(situation, strategy);
  if (focus) {
    values.title = focus.item.title;
    if (focus.item.category) values.category = focus.item.category;
    if (focus.item.price !== undefined) values.price = money(focus.item.price);
  }
  const top = situation.intent.topCategories.find(({ category }) => !(strategy.exclude?.categories ?? []).includes(category));
  if (top) values.top_category = top.category;
  const threshold = strategy.freeShippingThreshold;
  if (threshold !== undefined) {
    values.free_shipping_threshold = money(threshold);
    if (situation.context.cartValue < threshold) values.left_to_free_shipping = money(Math.round((threshold - situation.context.cartValue) * 100) / 100);
  }
  return values;
}

/**
 * What the cart earns the shop: Σ price × quantity × its category's margin rate, to the cent;
 * undefined without a declared margin or when a line's price is unknown (then it cannot be accounted for).
 */
export function cartMargin(lines: readonly CartLine[], strategy: StrategyDeclaration): number | undefined {
  const margin = strategy.margin;
  if (!margin) return undefined;
  let sum = 0;
  for (const { price, quantity, category } of lines) {
    if (price === undefined) return undefined;
    sum += price * quantity * (margin.categories?.[category ?? ''] ?? margin.rate);
  }
  return cents(sum);
}

/** Whether the cart still earns the declared minimum margin after `action`'s cost (always, for an action without cost or a strategy without margin). */
export function earnsMargin(action: ActionDeclaration, situation: Situation, strategy: StrategyDeclaration): boolean {
  if (!strategy.margin || !action.cost) return true;
  const margin = cartMargin(situation.lines, strategy);
  return margin !== undefined && cents(margin - action.cost) >= strategy.margin.min;
}

/** Whether `action`'s conditions hold (its copy's slots are checked apart, by filling it). */
export function isEligible(action: ActionDeclaration, situation: Situation, strategy: StrategyDeclaration): boolean {
  const when = action.when ?? {};
  const { stage, cartItems, cartValue: value, purchaseProbability: p } = situation.context;
  if (when.stages && !when.stages.includes(stage)) return false;
  if (when.minCartItems !== undefined && cartItems < when.minCartItems) return false;
  if (when.maxCartItems !== undefined && cartItems > when.maxCartItems) return false;
  if (when.minCartValue !== undefined && value < when.minCartValue) return false;
  if (when.maxCartValue !== undefined && value > when.maxCartValue) return false;
  if (when.withinFreeShipping !== undefined) {
    const threshold = strategy.freeShippingThreshold!;
    if (cartItems === 0 || value >= threshold || threshold - value > when.withinFreeShipping) return false;
  }
  if (when.minPurchaseProbability !== undefined && (p === null || p < when.minPurchaseProbability)) return false;
  if (when.maxPurchaseProbability !== undefined && (p === null || p > when.maxPurchaseProbability)) return false;
  if (action.kind === 'incentive' && situation.lines.some((line) => excluded(strategy, line.id, line.category))) return false;
  return earnsMargin(action, situation, strategy);
}
