import { describe, expect, it } from 'vitest';
import {
  fitLogistic,
  SESSION_BEHAVIOUR_FEATURES,
  SESSION_PURCHASE_FEATURES,
  sessionPurchaseFeatures,
  sessionPurchaseProbability,
  validateSessionPurchaseModel,
  type SessionPurchaseModel,
} from '../src/index.js';

const at = (name: string, seconds: number, item_id?: string) => ({ name, ts: 1_000_000 + seconds * 1000, params: item_id === undefined ? {} : { item_id } });

describe('sessionPurchaseFeatures', () => {
  it('counts views, distinct products, seconds, cart, checkout and searches, log-scaled', () => {
    const session = [at('page_view', 0), at('search', 5), at('view_item', 10, 'a'), at('select_item', 20, 'b'), at('view_item', 30, 'a'), at('add_to_cart', 40, 'a'), at('remove_from_cart', 50, 'a'), at('add_to_cart', 60, 'b'), at('begin_checkout', 99)];
    const f = sessionPurchaseFeatures(session, 0.2);
    expect(f.log_views).toBeCloseTo(Math.log(4));
    expect(f.distinct_share).toBeCloseTo(2 / 3);
    expect(f.log_seconds).toBeCloseTo(Math.log(100));
    expect(f.log_add_to_cart).toBeCloseTo(Math.log(3));
    expect(f.log_remove_from_cart).toBeCloseTo(Math.log(2));
    expect(f.log_begin_checkout).toBeCloseTo(Math.log(2));
    expect(f.log_searches).toBeCloseTo(Math.log(2));
    expect(f.log_next_buying_step).toBeCloseTo(Math.log(0.2));
    expect(Object.keys(f)).toEqual([...SESSION_PURCHASE_FEATURES]);
  });

  it('is bounded: no events, one event, huge counts and times, no model', () => {
    const empty = sessionPurchaseFeatures([], null);
    expect(empty).toEqual({ log_views: 0, distinct_share: 1, log_seconds: 0, log_add_to_cart: 0, log_remove_from_cart: 0, log_begin_checkout: 0, log_searches: 0, log_next_buying_step: null });
    const many = Array.from({ length: 5000 }, (_, i) => at('view_item', i * 100, 'a'));
    const f = sessionPurchaseFeatures(many, 0);
    expect(f.log_views).toBeCloseTo(Math.log1p(1000));
    expect(f.log_seconds).toBeCloseTo(Math.log1p(86_400));
    expect(f.distinct_share).toBeCloseTo(1 / 5000);
    expect(f.log_next_buying_step).toBeCloseTo(Math.log(1e-4));
    expect(sessionPurchaseFeatures(many, Number.NaN).log_next_buying_step).toBeNull();
    // Out-of-order times: the span is from the earliest to the latest.
    expect(sessionPurchaseFeatures([at('view_item', 50, 'a'), at('view_item', 10, 'b')], null).log_seconds).toBeCloseTo(Math.log1p(40));
  });
});

describe('the purchase model file', () => {
  const model: SessionPurchaseModel = { version: 1, features: ['log_views', 'log_add_to_cart'], intercept: -3, weights: [0.5, 2] };

  it('gives sigmoid(intercept + weights · features), and null when a feature it needs is missing', () => {
    const f = sessionPurchaseFeatures([at('view_item', 0, 'a'), at('add_to_cart', 1, 'a')], null);
    expect(sessionPurchaseProbability(model, f)).toBeCloseTo(1 / (1 + Math.exp(-(-3 + 0.5 * Math.log(2) + 2 * Math.log(2)))));
    const withModel = { ...model, features: ['log_next_buying_step' as const], weights: [1] };
    expect(sessionPurchaseProbability(withModel, f)).toBeNull();
    expect(sessionPurchaseProbability(withModel, sessionPurchaseFeatures([], 0.5))).toBeCloseTo(1 / (1 + Math.exp(3 - Math.log(0.5))));
  });

  it('validates a model: version, known distinct features, one finite weight each, a finite intercept', () => {
    expect(validateSessionPurchaseModel(model)).toEqual({ ok: true, model });
    expect(validateSessionPurchaseModel(JSON.parse(JSON.stringify({ ...model, fitted: { sessions: 9, purchaseSessions: 3, cuts: 20, l2: 0.001 } }))).ok).toBe(true);
    const bad: Array<[unknown, RegExp]> = [
      [null, /must be an object/],
      [{ ...model, version: 2 }, /unsupported purchase model version 2/],
      [{ ...model, features: ['log_views', 'height'] }, /features must be distinct names among log_views/],
      [{ ...model, features: ['log_views', 'log_views'] }, /features must be distinct/],
      [{ ...model, features: [] }, /features must be distinct/],
      [{ ...model, weights: [1] }, /weights must be 2 finite numbers/],
      [{ ...model, weights: [1, null] }, /weights must be 2 finite numbers/],
      [{ ...model, intercept: 'x' }, /intercept must be a finite number/],
    ];
    for (const [input, error] of bad) expect(validateSessionPurchaseModel(input)).toEqual({ ok: false, error: expect.stringMatching(error) as unknown });
  });
});

describe('fitLogistic', () => {
  /** Deterministic uniform numbers (mulberry32). */
  const rng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  it('recovers the weights that drew the labels, on the original scale', () => {
    const random = rng(7);
    const rows = Array.from({ length: 4000 }, () => [random() * 4, random() * 10 - 5]);
    const labels = rows.map(([a, b]) => random() < 1 / (1 + Math.exp(-(-1 + 1.5 * a! - 0.4 * b!))));
    const fit = fitLogistic(rows, labels);
    expect(fit.intercept).toBeCloseTo(-1, 0);
    expect(fit.weights[0]).toBeCloseTo(1.5, 0);
    expect(fit.weights[1]).toBeCloseTo(-0.4, 1);
    expect(fit.predict([0, 0])).toBeCloseTo(1 / (1 + Math.exp(-fit.intercept)));
  });

  it('row weights count a row that many times; a constant feature gets no weight; separable data stays finite', () => {
    const rows = [[0], [1], [2], [3], [1], [2]];
    const labels = [false, false, true, true, true, false];
    const twice = fitLogistic([...rows, [3]], [...labels, true]);
    const weighted = fitLogistic(rows, labels, { weights: [1, 1, 1, 2, 1, 1] });
    expect(weighted.weights[0]).toBeCloseTo(twice.weights[0]!, 6);
    expect(weighted.intercept).toBeCloseTo(twice.intercept, 6);
    const constant = fitLogistic([[5, 0], [5, 1], [5, 2], [5, 3]], [false, false, true, true]);
    expect(constant.weights[0]).toBe(0);
    expect(constant.weights.every(Number.isFinite) && Number.isFinite(constant.intercept)).toBe(true);
    expect(() => fitLogistic([], [])).toThrow(/needs rows/);
    expect(() => fitLogistic([[1], [Number.NaN]], [true, false])).toThrow(/row 1/);
  });

  it('fits the behaviour features: buyers who add to cart score above browsers', () => {
    const random = rng(3);
    const sessions = Array.from({ length: 400 }, (_, i) => {
      const buys = i % 5 === 0;
      const events = Array.from({ length: 2 + Math.floor(random() * 6) }, (_, k) => at('view_item', k * 20, `p${Math.floor(random() * 50)}`));
      if (buys || random() < 0.1) events.push(at('add_to_cart', 200, 'p1'));
      return { events, buys };
    });
    const rows = sessions.map(({ events }) => SESSION_BEHAVIOUR_FEATURES.map((name) => sessionPurchaseFeatures(events, null)[name]!));
    const fit = fitLogistic(rows, sessions.map((s) => s.buys));
    expect(fit.weights[SESSION_BEHAVIOUR_FEATURES.indexOf('log_add_to_cart')]).toBeGreaterThan(1);
  });
});
