/**
 * The shopper's intent as a shop can act on it: a funnel stage with its reason, the model's
 * next-action probabilities and the categories the shopper leans towards.
 *
 * The stage is a short rule list over the current session and the model's outputs, rather
 * than a head trained on labels nobody has: a shop can read why a shopper is "comparing" and
 * trust what triggers a nudge. The rules are specified once, in README.md (its "Intent" paragraph), and
 * applied in that order by `funnelStage` below (first match wins).
 */
import { isBehaviourEvent, sessionPurchaseFeatures, sessionPurchaseProbability, type CatalogItem, type HunchEvent } from '@hunch/core';
import { itemsInCartNow } from './cart.js';
import type { Prediction } from './worker/protocol.js';

export type FunnelStage = 'browsing' | 'researching' | 'comparing' | 'ready_to_buy' | 'at_risk_of_leaving';

export interface Intent {
  stage: FunnelStage;
  /** Why this stage, in words ("2 items in the cart"). */
  why: string;
  /**
   * The model's probability of each kind of next event ("view_item", "add_to_cart", "search",
   * ...; the kinds its vocabulary knows), summing to 1. Empty without a model.
   */
  nextAction: Record<string, number>;
  /**
   * Where the model ships a session purchase model (hunch.json's `purchase`, fitted by `hunch train`
   * on events with purchases): its probability that this session ends in a purchase, from the
   * session's events so far. Otherwise the model's probability that the next event is a buying
   * step (add_to_cart, begin_checkout, purchase). Null without a model.
   */
  purchaseProbability: number | null;
  /** Categories the shopper leans towards, best first: the model's next-item mass per category, else recent views. */
  topCategories: Array<{ category: string; score: number }>;
  /** 'model' when the model answered, 'rules' when only the session's events were used. */
  source: 'model' | 'rules';
}

/** A cart untouched this long (ms) counts as at risk. */
export const AT_RISK_IDLE_MS = 3 * 60_000;
export const READY_PROBABILITY = 0.5;
const BUYING_STEPS = ['add_to_cart', 'begin_checkout', 'purchase'] as const;
const PRODUCT_VIEWS: ReadonlySet<string> = new Set(['view_item', 'select_item']);

/** The behaviour events (no exposures: what the shop showed is not what the shopper did) of the latest one's session, oldest first. */
export function currentSession(events: readonly HunchEvent[]): HunchEvent[] {
  const behaviour = events.filter((event) => isBehaviourEvent(event.name));
  const last = behaviour.at(-1);
  return last ? behaviour.filter((event) => event.sessionId === last.sessionId) : [];
}

export function purchaseProbability(nextAction: Readonly<Record<string, number>>): number {
  return BUYING_STEPS.reduce((sum, step) => sum + (nextAction[step] ?? 0), 0);
}

/** Categories of recently viewed products, weighted by recency (halving every 5 views), summing to 1. */
export function viewedCategories(session: readonly HunchEvent[], catalog: ReadonlyMap<string, CatalogItem>, limit = 5): Array<{ category: string; score: number }> {
  const weights = new Map<string, number>();
  let weight = 1;
  let total = 0;
  for (let i = session.length - 1; i >= 0; i--) {
    const { name, params } = session[i]!;
    if (!PRODUCT_VIEWS.has(name) && name !== 'add_to_cart') continue;
    const category = params.item_category ?? (params.item_id ? catalog.get(params.item_id)?.category : undefined);
    if (category) {
      weights.set(category, (weights.get(category) ?? 0) + weight);
      total += weight;
    }
    weight *= 2 ** (-1 / 5);
  }
  return [...weights]
    .map(([category, score]) => ({ category, score: score / total }))
    .sort((a, b) => b.score - a.score || (a.category < b.category ? -1 : 1))
    .slice(0, limit);
}

/** Products looked at, in order: a click in a list and the product page it opens (select_item, then view_item) count once. */
export function productsViewed(session: readonly HunchEvent[]): string[] {
  const viewed: string[] = [];
  let clicked: string | undefined;
  for (const { name, params } of session) {
    const id = params.item_id;
    if (!PRODUCT_VIEWS.has(name) || id === undefined) continue;
    const opensClicked = name === 'view_item' && id === clicked;
    clicked = name === 'select_item' ? id : undefined;
    if (!opensClicked) viewed.push(id);
  }
  return viewed;
}

/** The stage and its reason: README's rules, first match wins. */
export function funnelStage(
  session: readonly HunchEvent[],
  catalog: ReadonlyMap<string, CatalogItem>,
  buying: number | null,
  now: number,
): { stage: FunnelStage; why: string } {
  const last = session.at(-1);
  if (!last) return { stage: 'browsing', why: 'no events yet this session' };
  const cart = itemsInCartNow(session);
  const items = (n: number) => `${n} item${n === 1 ? '' : 's'}`;
  if (cart.size > 0) {
    if (last.name === 'remove_from_cart') return { stage: 'at_risk_of_leaving', why: `removed an item, ${items(cart.size)} left in the cart` };
    if (now - last.ts >= AT_RISK_IDLE_MS) return { stage: 'at_risk_of_leaving', why: `${items(cart.size)} in the cart, idle for ${Math.round((now - last.ts) / 60_000)} min` };
  }
  let sincePurchase = session.length;
  while (sincePurchase > 0 && session[sincePurchase - 1]!.name !== 'purchase') sincePurchase--;
  if (session.slice(sincePurchase).some((event) => event.name === 'begin_checkout')) return { stage: 'ready_to_buy', why: 'checkout begun' };
  if (cart.size > 0) return { stage: 'ready_to_buy', why: `${items(cart.size)} in the cart` };
  if (buying !== null && buying >= READY_PROBABILITY) return { stage: 'ready_to_buy', why: `the model gives a buying step next ${Math.round(buying * 100)} %` };

  const viewed = productsViewed(session);
  const recent = viewed.slice(-10);
  const distinct = new Set(recent);
  const byCategory = new Map<string, number>();
  for (const id of distinct) {
    const category = catalog.get(id)?.category;
    if (category) byCategory.set(category, (byCategory.get(category) ?? 0) + 1);
  }
  const [category, count] = [...byCategory].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
  if (count >= 3) return { stage: 'comparing', why: `${count} products of ${category} viewed` };
  if (distinct.size < recent.length) return { stage: 'comparing', why: 'went back to a product already viewed' };
  const searches = session.filter((event) => event.name === 'search').length;
  if (searches > 0) return { stage: 'researching', why: `${searches} search${searches === 1 ? '' : 'es'}` };
  if (new Set(viewed).size >= 4) return { stage: 'researching', why: `${new Set(viewed).size} products viewed` };
  return { stage: 'browsing', why: viewed.length > 0 ? `${items(new Set(viewed).size)} viewed` : 'no products viewed yet' };
}

/**
 * The intent from the session's events and, when there is one, the model's prediction. The stage
 * rule reads the model's next-step value; `purchaseProbability` is the session-level one where the
 * model ships its purchase model.
 */
export function intentOf(
  events: readonly HunchEvent[],
  catalog: ReadonlyMap<string, CatalogItem>,
  prediction: Pick<Prediction, 'nextAction' | 'categories' | 'purchaseModel'> | undefined,
  now: number,
): Intent {
  const session = currentSession(events);
  const buying = prediction ? purchaseProbability(prediction.nextAction) : null;
  const model = prediction?.purchaseModel;
  const sessionLevel = model && buying !== null ? sessionPurchaseProbability(model, sessionPurchaseFeatures(session, buying)) : null;
  return {
    ...funnelStage(session, catalog, buying, now),
    nextAction: prediction?.nextAction ?? {},
    purchaseProbability: sessionLevel ?? buying,
    topCategories: prediction && prediction.categories.length > 0 ? prediction.categories : viewedCategories(session, catalog),
    source: prediction ? 'model' : 'rules',
  };
}
