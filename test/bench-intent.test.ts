// `npm run bench:intent`'s pieces (scripts/lib/intent-data.mjs, scripts/lib/intent-metrics.mjs):
// the raw DIGINETICA files read into sessions and Hunch events without leaking the label, and
// the scores (AUC, calibration, logistic regression, bootstrap) against values worked by hand.
import { validateEvent } from '@hunch/core';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs helpers of the benchmark scripts, without type declarations
import { CUTS, parseDigineticaRaw, sessionEvents, sessionFeatures, splitByTime, viewEvents } from '../scripts/lib/intent-data.mjs';
// @ts-expect-error: as above
import { auc, bootstrap, brier, calibration, fitLogistic, rocCurve } from '../scripts/lib/intent-metrics.mjs';
// @ts-expect-error: as above
import { uniforms as rng } from '../scripts/lib/random.mjs';

// A small fixture in the files' own formats: session 2 buys (order 9, two items) after two views
// and views once more after it; session 1 does not buy; session 3 starts the next day.
const FIXTURE = {
  views: ['session_id;user_id;item_id;timeframe;eventdate', '2;NA;20;5000;2016-05-09', '1;NA;10;1000;2016-05-09', '2;NA;21;2000;2016-05-09', '2;NA;22;90000;2016-05-09', '1;NA;11;61000;2016-05-09', '3;7;10;0;2016-05-10', ''].join('\n'),
  purchases: ['sessionId;userId;timeframe;eventdate;ordernumber;itemId', '2;NA;60000;2016-05-09;9;21', '2;NA;60000;2016-05-09;9;20', '99;NA;1;2016-05-09;5;10'].join('\n'),
  categories: ['itemId;categoryId', '10;100', '20;200', '21;200'].join('\n'),
};
const DAY = Date.parse('2016-05-09T00:00:00Z');

describe('diginetica-raw as sessions and events', () => {
  const sessions = parseDigineticaRaw(FIXTURE);

  it('orders sessions by start and events by time, on the session clock', () => {
    expect(sessions.map((s: { id: string }) => s.id)).toEqual(['1', '2', '3']);
    const two = sessions[1];
    expect(two.start).toBe(DAY + 2000);
    expect(two.views.map((v: { itemId: string }) => v.itemId)).toEqual(['21', '20', '22']);
    expect(two.views[0]).toEqual({ itemId: '21', category: '200', ts: DAY + 2000 });
    expect(two.views[2]).toEqual({ itemId: '22', ts: DAY + 90000 }); // no category known
    expect(two.orders).toEqual([{ order: '9', ts: DAY + 60000, items: [{ itemId: '21', category: '200' }, { itemId: '20', category: '200' }] }]);
    expect(sessions.map((s: { bought: boolean }) => s.bought)).toEqual([false, true, false]);
  });

  it('never cuts past the first purchase', () => {
    const two = sessions[1];
    expect(CUTS.beforePurchase(two).map((v: { itemId: string }) => v.itemId)).toEqual(['21', '20']);
    expect(CUTS.first3(two)).toHaveLength(2);
    expect(CUTS.first(two)).toHaveLength(1);
    expect(CUTS.beforePurchase(sessions[0])).toHaveLength(2); // no purchase: every view
  });

  it('writes valid Hunch events: views with their category, one purchase per order', () => {
    const events = sessionEvents(sessions[1]);
    expect(events.map((e: { name: string }) => e.name)).toEqual(['view_item', 'view_item', 'purchase', 'view_item']);
    for (const event of events) expect(validateEvent(event).ok).toBe(true);
    expect(events[0]).toMatchObject({ sessionId: 'dgr-2', ts: DAY + 2000, params: { item_id: '21', item_category: '200' } });
    expect(events[2].params.items).toEqual([{ item_id: '21', item_category: '200' }, { item_id: '20', item_category: '200' }]);
    expect(viewEvents(sessions[1], CUTS.first(sessions[1]))).toEqual([events[0]]);
  });

  it('computes the baseline features and splits by time', () => {
    expect(sessionFeatures(CUTS.beforePurchase(sessions[0]))).toEqual([Math.log1p(2), Math.log1p(60), 1]);
    expect(sessionFeatures(CUTS.first(sessions[0]))).toEqual([Math.log1p(1), 0, 1]);
    const { train, test } = splitByTime(sessions, 0.67);
    expect(train.map((s: { id: string }) => s.id)).toEqual(['1', '2']);
    expect(test.map((s: { id: string }) => s.id)).toEqual(['3']);
  });
});

describe('scores', () => {
  it('AUC counts ties as one half and needs both classes', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(auc([0.5, 0.5, 0.5], [true, false, false])).toBe(0.5);
    expect(auc([1, 2], [true, true])).toBeNull();
    const roc = rocCurve([0.1, 0.4, 0.35, 0.8], [false, false, true, true]);
    expect(roc.at(-1)).toEqual({ x: 1, y: 1 });
  });

  it('Brier score and equal-count calibration bins', () => {
    expect(brier([0, 1, 0.5], [false, true, true])).toBeCloseTo(0.25 / 3);
    const p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    const cal = calibration(p, [false, false, false, true, true, true], 2);
    expect(cal.bins.map((b: { n: number; observed: number }) => [b.n, b.observed])).toEqual([
      [3, 0],
      [3, 1],
    ]);
    expect(cal.bins[0].predicted).toBeCloseTo(0.2);
    expect(cal.ece).toBeCloseTo(0.5 * 0.2 + 0.5 * 0.5);
  });

  it('logistic regression recovers the weights that drew the labels', () => {
    const random = rng(3);
    const rows: number[][] = [];
    const labels: boolean[] = [];
    for (let i = 0; i < 4000; i++) {
      const x = [random() * 4 - 2, random() * 10];
      rows.push(x);
      labels.push(random() < 1 / (1 + Math.exp(-(-1 + 1.5 * x[0]! - 0.2 * x[1]!))));
    }
    const { weights, predict } = fitLogistic(rows, labels);
    expect(weights[0]).toBeCloseTo(-1, 0);
    expect(weights[1]).toBeCloseTo(1.5, 0);
    expect(weights[2]).toBeCloseTo(-0.2, 1);
    expect(predict([0, 0])).toBeCloseTo(1 / (1 + Math.exp(-weights[0])));
  });

  it('the bootstrap interval of an AUC holds it, and is the same on every run', () => {
    const random = rng(5);
    const labels = Array.from({ length: 400 }, (_, i) => i % 10 === 0);
    const scores = labels.map((y) => random() + (y ? 0.3 : 0));
    const stat = ([s]: number[][], y: boolean[]) => [auc(s, y)];
    const [interval] = bootstrap([scores], labels, stat, { runs: 300, seed: 2 });
    const value = auc(scores, labels);
    expect(interval[0]).toBeLessThan(value);
    expect(interval[1]).toBeGreaterThan(value);
    expect(bootstrap([scores], labels, stat, { runs: 300, seed: 2 })[0]).toEqual(interval);
  });
});
