/**
 * The closed loop (experiments/closed-loop.ts) on the shipped demo model through the SDK's own
 * recommendation code (scripts/lib/sdk-shop.ts): the model's tiles match the shoppers' missions
 * better than the popular list's, so it sells more; the report's intervals from the observed
 * arms cover the exact true lift; an A/A has a true lift of exactly 0; recommendations nobody
 * clicks change nothing; the same seed gives the same figures, whatever the cache of model answers holds;
 * the events it uploads are valid, and `hunch report` on them (experimentReport) finds the same
 * shoppers and conversion per arm as the direct estimate, with intervals that cover the truth.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { closedLoopExperiment, closedLoopReport, trueMeans, type ClosedLoopExperiment, type LoopArm } from '../packages/trainer/src/experiments/index.js';
import { experimentReport } from '../packages/trainer/src/report/index.js';
import { loadSdkShop, type SdkShop } from '../scripts/lib/sdk-shop.js';
import { EXPOSURE_EVENT, validateEvent, type HunchEvent } from '@hunch/core';

const PAIRS: Array<[number, number]> = [[0, 2], [0, 1], [1, 2]];
const arm = (name: string, shown: LoopArm) => ({ name, weight: 1, shown });

describe('closed loop on the demo shop', () => {
  let shop: SdkShop;
  let run: ClosedLoopExperiment;
  beforeAll(async () => {
    shop = await loadSdkShop();
    run = await closedLoopExperiment(shop, { shoppers: 1500, seed: 11, days: 14, key: 'closed-loop-test' });
  });

  it("loads the demo model as the SDK's worker does on WASM and recommends with the SDK's code", async () => {
    expect(shop.engine).toEqual({ backend: 'wasm', engine: 'hunch-gpt2', file: 'onnx/model_quantized.onnx', itemScoring: 'int8-simd' });
    expect(shop.products).toHaveLength(311);
    const events: HunchEvent[] = [];
    const at = (name: HunchEvent['name'], params: HunchEvent['params']) => events.push({ id: `e${events.length}`, name, ts: 1_700_000_000_000 + events.length, sessionId: 's', params });
    at('page_view', {});
    at('view_item', { item_id: 'mugs-03', item_category: 'mugs' });
    at('view_item', { item_id: 'mugs-07', item_category: 'mugs' });
    const device = shop.device(events, { heldOut: false });
    const picks = await device.recommend({ k: 4, exclude: ['mugs-07'], placement: 'product' });
    expect(picks).toHaveLength(4);
    expect(picks).not.toContain('mugs-07');
    expect(picks.filter((id) => id.startsWith('mugs-')).length).toBeGreaterThanOrEqual(3);
    // The SDK leaves out what is in the cart, and what another placement of the page shows.
    at('add_to_cart', { item_id: picks[0]! });
    const home = await device.recommend({ k: 4, placement: 'home' });
    expect(home).not.toContain(picks[0]);
    const other = await device.recommend({ k: 4, placement: 'other' });
    expect(other.filter((id) => home.includes(id))).toEqual([]);
    // A held-out shopper gets the popular list (minus the cart).
    expect(await shop.device(events, { heldOut: true }).recommend({ k: 3, placement: 'home' })).toEqual(shop.popular.filter((id) => id !== picks[0]).slice(0, 3));
  });

  it("shows the shopper's mission more often with the model than with the popular list, and sells more", () => {
    const [model, popular, none] = run.shown;
    expect(model!.placements).toBeGreaterThan(3000);
    expect(none!.tiles).toBe(0);
    const relevant = (s: typeof model) => s!.relevantTiles / s!.tiles;
    expect(relevant(model)).toBeGreaterThan(3 * relevant(popular));
    const { arms } = closedLoopReport(run, PAIRS);
    expect(arms[0]!.clickThrough!.true).toBeGreaterThan(arms[1]!.clickThrough!.true);
    const conversion = arms.map((a) => a.conversion.true);
    expect(conversion[0]).toBeGreaterThan(conversion[1]!);
    expect(conversion[1]).toBeGreaterThan(conversion[2]!);
    expect(arms[0]!.revenuePerShopper.true).toBeGreaterThan(arms[2]!.revenuePerShopper.true);
  });

  it("estimates the lift from the observed arms with intervals that cover the exact true lift (this seed)", () => {
    const { comparisons } = closedLoopReport(run, PAIRS);
    expect(comparisons.map((c) => `${c.treatment}-${c.control}`)).toEqual(['model-none', 'model-popular', 'popular-none']);
    for (const c of comparisons) {
      for (const check of [c.conversion, c.conversionRelative, c.revenue, c.revenueRelative]) {
        expect(check.covered).toBe(true);
        expect(check.estimate.low).toBeLessThanOrEqual(check.truth);
        expect(check.estimate.high).toBeGreaterThanOrEqual(check.truth);
      }
    }
    expect(comparisons[0]!.conversion.truth).toBeGreaterThan(0.01);
  });

  it('A/A: the model against itself has a true lift of exactly 0', async () => {
    const aa = await closedLoopExperiment(shop, { shoppers: 600, seed: 12, days: 14, key: 'closed-loop-aa', arms: [arm('model', 'model'), arm('again', 'model')] });
    for (const metric of ['purchased', 'revenue', 'clicks'] as const) {
      const [a, b] = trueMeans(aa.experiment, metric);
      expect(a! - b!).toBe(0);
      expect(aa.experiment.potential[0]![metric]).toEqual(aa.experiment.potential[1]![metric]);
    }
    expect(aa.experiment.counts[0]! + aa.experiment.counts[1]!).toBe(600);
  });

  it('recommendations nobody clicks change nothing: every true lift is exactly 0', async () => {
    const blind = await closedLoopExperiment(shop, { shoppers: 400, seed: 13, days: 14, key: 'closed-loop-blind', model: { clickBase: 0, clickGain: 0 } });
    const { comparisons } = closedLoopReport(blind, PAIRS);
    for (const c of comparisons) {
      expect(c.conversion.truth).toBe(0);
      expect(c.revenue.truth).toBe(0);
    }
    expect(blind.shown[0]!.tiles).toBeGreaterThan(0);
  });

  it('same seed, same figures: without a cache of model answers (every request runs the model) as with the warm one', async () => {
    const uncached = await loadSdkShop(undefined, { cacheLimit: 0 });
    const options = { shoppers: 300, seed: 14, days: 14, key: 'closed-loop-cache' };
    const cold = await closedLoopExperiment(uncached, options);
    expect(uncached.stats.modelRuns).toBe(uncached.stats.requests);
    const before = shop.stats.modelRuns;
    const warm = await closedLoopExperiment(shop, options);
    expect(shop.stats.modelRuns - before).toBeLessThan(uncached.stats.modelRuns);
    expect(cold.experiment.potential).toEqual(warm.experiment.potential);
    expect(cold.experiment.arm).toEqual(warm.experiment.arm);
    expect(cold.shown).toEqual(warm.shown);
    // The first 300 shoppers of seed 11 are the first 300 of the 1,500 above.
    const again = await closedLoopExperiment(shop, { shoppers: 300, seed: 11, days: 14, key: 'closed-loop-test' });
    expect(Array.from(again.experiment.potential[0]!.revenue)).toEqual(Array.from(run.experiment.potential[0]!.revenue.subarray(0, 300)));
  });
  it("uploads valid events from which the report (experimentReport) recovers each arm's shoppers and conversion, and covers the true lift", async () => {
    const small = await closedLoopExperiment(shop, { shoppers: 600, seed: 15, days: 14, key: 'closed-loop-report' });
    const events: HunchEvent[] = [];
    for await (const event of small.events()) events.push(event);
    const ids = new Set<string>();
    for (const event of events) {
      const checked = validateEvent(JSON.parse(JSON.stringify(event)));
      expect(checked.ok ? checked.value : checked.error).toEqual(event);
      expect(event.shopperId).toBeDefined();
      ids.add(event.id);
    }
    expect(ids.size).toBe(events.length);
    // One exposure per placement per visit (two a visit), in every arm, none included.
    const enrolled = small.population.visits.reduce((s, v, i) => s + (small.experiment.arm[i]! >= 0 ? v : 0), 0);
    expect(events.filter((e) => e.name === EXPOSURE_EVENT)).toHaveLength(2 * enrolled);
    expect(new Set(events.map((e) => e.sessionId)).size).toBe(enrolled);
    // Replayed events are the same whatever ran before (ids and times from the seed).
    const again: HunchEvent[] = [];
    for await (const event of small.events()) again.push(event);
    expect(again).toEqual(events);

    const direct = closedLoopReport(small, PAIRS);
    const byNone = (await experimentReport(events, { now: 0 })).experiments[0]!;
    const byPopular = (await experimentReport(events, { now: 0, control: 'popular' })).experiments[0]!;
    expect(byNone.key).toBe('closed-loop-report');
    expect(byNone.control).toBe('none');
    expect(byNone.srm.mismatch).toBe(false);
    expect(byNone.crossovers.shoppers).toBe(0);
    expect([...byNone.lists]).toEqual(['home', 'product']);
    for (const [a, arm] of direct.arms.entries()) {
      const reported = byNone.arms.find((r) => r.variant === arm.name)!;
      expect(reported.shoppers).toBe(small.experiment.counts[a]);
      expect(reported.metrics.conversion.value).toBeCloseTo(arm.conversion.observed, 12);
      expect(reported.metrics.revenuePerShopper.value).toBeCloseTo(arm.revenuePerShopper.observed, 9);
      expect(reported.metrics.addToCart.value).toBeCloseTo(arm.addToCart.observed, 12);
      if (arm.clickThrough) expect(reported.metrics.ctr.value).toBeCloseTo(arm.clickThrough.observed, 12);
    }
    // Its lifts are the direct estimator's, and cover the exact true lift (this seed).
    const lift = (report: typeof byNone, treatment: string) => report.comparisons.find((c) => c.treatment === treatment)!.metrics;
    const reported = [lift(byNone, 'model'), lift(byPopular, 'model'), lift(byNone, 'popular')];
    direct.comparisons.forEach((c, k) => {
      const r = reported[k]!;
      expect(r.conversion!.absolute.value).toBeCloseTo(c.conversion.estimate.value, 12);
      expect(r.conversion!.absolute.low).toBeCloseTo(c.conversion.estimate.low, 12);
      expect(r.revenuePerShopper!.absolute.value).toBeCloseTo(c.revenue.estimate.value, 9);
      expect(r.conversion!.absolute.low!).toBeLessThanOrEqual(c.conversion.truth);
      expect(r.conversion!.absolute.high!).toBeGreaterThanOrEqual(c.conversion.truth);
      expect(r.conversion!.relative.low!).toBeLessThanOrEqual(c.conversionRelative.truth);
      expect(r.conversion!.relative.high!).toBeGreaterThanOrEqual(c.conversionRelative.truth);
    });
  });
});
