import { sessionPurchaseFeatures, sessionPurchaseProbability, type EventName, type EventParams, type HunchEvent, type SessionPurchaseModel } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import { itemsInCartNow } from '../src/cart.js';
import { AT_RISK_IDLE_MS, currentSession, funnelStage, intentOf, productsViewed, purchaseProbability, viewedCategories } from '../src/intent.js';

const catalog = new Map(
  ['mug-1', 'mug-2', 'mug-3', 'tea-1', 'tea-2'].map((id) => [id, { id, title: id, url: `https://shop.test/${id}`, category: id.split('-')[0] }]),
);
let clock = 0;
const event = (name: EventName, params: EventParams = {}, sessionId = 's1'): HunchEvent => ({ id: `e${clock}`, name, ts: (clock += 1000), sessionId, params });
const views = (...ids: string[]) => ids.map((item_id) => event('view_item', { item_id }));
const stageOf = (events: HunchEvent[], buying: number | null = null, now = clock) => funnelStage(events, catalog, buying, now);

describe('funnelStage', () => {
  it('browsing, then researching after a search or four products', () => {
    expect(stageOf([])).toEqual({ stage: 'browsing', why: 'no events yet this session' });
    expect(stageOf(views('mug-1'))).toEqual({ stage: 'browsing', why: '1 item viewed' });
    expect(stageOf([...views('mug-1'), event('search', { search_term: 'tea' })]).stage).toBe('researching');
  });

  it('comparing: three products of one category, or a product viewed again', () => {
    expect(stageOf(views('mug-1', 'tea-1', 'mug-2', 'mug-3'))).toEqual({ stage: 'comparing', why: '3 products of mug viewed' });
    expect(stageOf(views('mug-1', 'tea-1', 'mug-1')).stage).toBe('comparing');
  });

  it('counts a click in a list and the product page it opens as one look, not a return', () => {
    const clickThenView = (item_id: string) => [event('select_item', { item_id, item_list_id: 'home' }), event('view_item', { item_id })];
    expect(productsViewed([...clickThenView('mug-1'), ...clickThenView('tea-1')])).toEqual(['mug-1', 'tea-1']);
    expect(stageOf(clickThenView('mug-1'))).toEqual({ stage: 'browsing', why: '1 item viewed' });
    // Coming back to it later is a return.
    expect(stageOf([...clickThenView('mug-1'), ...views('tea-1', 'mug-1')]).stage).toBe('comparing');
  });

  it('ready to buy with a cart, a begun checkout, or a likely buying step', () => {
    expect(stageOf([...views('mug-1'), event('add_to_cart', { item_id: 'mug-1' })])).toEqual({ stage: 'ready_to_buy', why: '1 item in the cart' });
    expect(stageOf([...views('mug-1'), event('begin_checkout')]).stage).toBe('ready_to_buy');
    expect(stageOf(views('mug-1'), 0.6).stage).toBe('ready_to_buy');
    expect(stageOf(views('mug-1'), 0.4).stage).toBe('browsing');
  });

  it('at risk of leaving after removing from a cart that is not empty, or an idle cart', () => {
    const cart = [event('add_to_cart', { item_id: 'mug-1' }), event('add_to_cart', { item_id: 'tea-1' })];
    expect(stageOf([...cart, event('remove_from_cart', { item_id: 'tea-1' })]).stage).toBe('at_risk_of_leaving');
    expect(stageOf(cart, null, clock + AT_RISK_IDLE_MS)).toMatchObject({ stage: 'at_risk_of_leaving', why: '2 items in the cart, idle for 3 min' });
    // An emptied cart is not at risk, and a purchase empties it.
    expect(stageOf([cart[0]!, event('remove_from_cart', { item_id: 'mug-1' })]).stage).not.toBe('at_risk_of_leaving');
    expect(itemsInCartNow([...cart, event('purchase', { items: [{ item_id: 'mug-1' }] })]).size).toBe(0);
  });
});

describe('intentOf', () => {
  it('uses the latest session only, and the model’s outputs when there are any', () => {
    const old = [event('add_to_cart', { item_id: 'mug-1' }, 's0')];
    const events = [...old, ...views('tea-1')];
    expect(currentSession(events)).toHaveLength(1);
    const prediction = { nextAction: { view_item: 0.7, add_to_cart: 0.2, purchase: 0.05, search: 0.05 }, categories: [{ category: 'tea', score: 0.9 }] };
    const intent = intentOf(events, catalog, prediction, clock);
    expect(intent).toMatchObject({ stage: 'browsing', source: 'model', topCategories: prediction.categories });
    expect(intent.purchaseProbability).toBeCloseTo(0.25, 9);
    expect(purchaseProbability({ view_item: 1 })).toBe(0);
    const rules = intentOf(events, catalog, undefined, clock);
    expect(rules).toMatchObject({ source: 'rules', nextAction: {}, purchaseProbability: null, topCategories: [{ category: 'tea', score: 1 }] });
  });

  it('is the session-level probability where the model ships its purchase model, from the session’s events (and the next-step value where its features ask for it)', () => {
    const old = [event('add_to_cart', { item_id: 'mug-1' }, 's0'), event('add_to_cart', { item_id: 'mug-2' }, 's0')];
    const session = [...views('mug-1', 'mug-2', 'mug-1'), event('add_to_cart', { item_id: 'mug-1' })];
    const nextAction = { view_item: 0.7, add_to_cart: 0.2, purchase: 0.05, search: 0.05 };
    const purchaseModel: SessionPurchaseModel = { version: 1, features: ['log_views', 'log_add_to_cart', 'log_next_buying_step'], intercept: -4, weights: [0.5, 1.5, 0.25] };
    const prediction = { nextAction, categories: [], purchaseModel };
    const intent = intentOf([...old, ...session], catalog, prediction, clock);
    // The latest session's 3 views and 1 add to cart (not the earlier session's two), and log(0.25).
    const expected = 1 / (1 + Math.exp(-(-4 + 0.5 * Math.log(4) + 1.5 * Math.log(2) + 0.25 * Math.log(0.25))));
    expect(intent.purchaseProbability).toBeCloseTo(expected, 12);
    expect(intent.purchaseProbability).toBeCloseTo(sessionPurchaseProbability(purchaseModel, sessionPurchaseFeatures(session, 0.25))!, 12);
    // The stage still follows its README rule (the cart), whatever the session-level value.
    expect(intent.stage).toBe('ready_to_buy');
    // None shipped (null), or a worker too old to say (absent): the next-step value.
    expect(intentOf(session, catalog, { ...prediction, purchaseModel: null }, clock).purchaseProbability).toBeCloseTo(0.25, 9);
    expect(intentOf(session, catalog, { nextAction, categories: [] }, clock).purchaseProbability).toBeCloseTo(0.25, 9);
    // Without a model there is no probability at all.
    expect(intentOf(session, catalog, undefined, clock).purchaseProbability).toBeNull();
  });

  it('weights recent views more when there is no model', () => {
    const ranked = viewedCategories(views('tea-1', 'tea-2', 'mug-1', 'mug-2'), catalog);
    expect(ranked.map((c) => c.category)).toEqual(['mug', 'tea']);
    expect(ranked.reduce((sum, c) => sum + c.score, 0)).toBeCloseTo(1, 9);
    // Worked by hand, newest first with r = 2^(-1/5): mug = (1 + r) / (1 + r + r² + r³), tea = (r² + r³) / (same).
    expect(ranked[0]!.score).toBeCloseTo(0.568874, 6);
    expect(ranked[1]!.score).toBeCloseTo(0.431126, 6);
    // Halving every 5 views: a view five views older than the newest weighs 1/2, against 1 + r + r² + r³ + r⁴ for the five mugs.
    const halved = viewedCategories(views('tea-1', 'mug-1', 'mug-2', 'mug-3', 'mug-1', 'mug-2'), catalog);
    expect(halved).toEqual([
      { category: 'mug', score: expect.closeTo(0.885387, 6) },
      { category: 'tea', score: expect.closeTo(0.114613, 6) },
    ]);
  });

  it('reads no exposures: an experience_impression after a removal or in a new session changes no stage', () => {
    const expose = (sessionId = 's1') => event('experience_impression', { experiment_id: 'hero', variant_id: 'a' }, sessionId);
    const removed = [event('add_to_cart', { item_id: 'mug-1' }), event('add_to_cart', { item_id: 'tea-1' }), event('remove_from_cart', { item_id: 'mug-1' })];
    expect(intentOf(removed, catalog, undefined, clock).stage).toBe('at_risk_of_leaving');
    expect(intentOf([...removed, expose(), expose()], catalog, undefined, clock).stage).toBe('at_risk_of_leaving');
    // An exposure logged in a later session is not the start of one: the shopper's session is still the cart's.
    expect(currentSession([...removed, expose('s2')])).toEqual(removed);
  });
});

