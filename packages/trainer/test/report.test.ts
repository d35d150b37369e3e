/**
 * `hunch report` on synthetic event streams whose truth is known: the arm rates and lifts are
 * recovered with intervals that cover the truth, an injected 55/45 split trips the SRM check,
 * crossovers, unattributable and unknown exposures are counted, bad input fails in one line,
 * and the HTML page is self-contained and escapes what the data says.
 */
import { EXPOSURE_EVENT, type HunchEvent } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import { experimentReport, parseSplit, ReportError, reportHtml, reportText, type ExperimentsReport } from '../src/report/index.js';
import { DAY, START, syntheticExperiment } from './report-synthetic.js';

const covers = (i: { low: number | null; high: number | null }, truth: number) => i.low !== null && i.high !== null && i.low <= truth && truth <= i.high;
/** Within 3 standard errors of the truth (fails one run in 370): single runs; coverage is tested over many. */
const near = (i: { value: number | null; se: number | null }, truth: number) => i.value !== null && i.se !== null && Math.abs(i.value - truth) < 3 * i.se;

/** 4,000 shoppers, 50/50, conversion 5% (none) vs 8% (model): relative lift +60%. */
const ab = syntheticExperiment({
  experiment: 'recs-home',
  arms: [
    { variant: 'model', weight: 1, conversion: 0.08, clickRate: 0.15 },
    { variant: 'none', weight: 1, conversion: 0.05, clickRate: 0.1 },
  ],
  shoppers: 4000,
  seed: 12,
});

async function rejects(events: Iterable<HunchEvent>, options = {}): Promise<string> {
  try {
    await experimentReport(events, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ReportError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ReportError');
}

describe('experimentReport on a known A/B test', () => {
  let report: ExperimentsReport;
  it('recovers each arm: shoppers, conversion, CTR', async () => {
    report = await experimentReport(ab.events, { now: START });
    expect(report.experiments).toHaveLength(1);
    const e = report.experiments[0]!;
    expect(e.key).toBe('recs-home');
    expect(e.control).toBe('none');
    expect(e.arms.map((a) => a.variant)).toEqual(['none', 'model']);
    for (const arm of e.arms) expect(arm.shoppers).toBe(ab.arms.filter((a) => a === arm.variant).length);
    const [none, model] = e.arms as [typeof e.arms[0], typeof e.arms[0]];
    expect(near(none.metrics.conversion, 0.05)).toBe(true);
    expect(near(model.metrics.conversion, 0.08)).toBe(true);
    expect(near(none.metrics.ctr, 0.1)).toBe(true);
    expect(near(model.metrics.ctr, 0.15)).toBe(true);
    expect(none.metrics.revenuePerShopper.value).toBeGreaterThan(0);
    expect(e.lists).toEqual(['home']);
  });

  it('estimates the lift (fixed, CUPED, always-valid), and a clean SRM check', () => {
    const e = report.experiments[0]!;
    const lift = e.comparisons[0]!;
    expect(lift).toMatchObject({ treatment: 'model', control: 'none' });
    const conversion = lift.metrics.conversion!;
    expect(near(conversion.absolute, 0.03)).toBe(true);
    expect(near(conversion.relative, 0.6)).toBe(true);
    expect(conversion.absolute.low).toBeGreaterThan(0);
    expect(conversion.absolute.pValue).toBeLessThan(0.05);
    // CUPED on the pre-period purchases (correlated by construction) narrows the interval.
    expect(conversion.cuped).not.toBeNull();
    expect(conversion.cuped!.varianceReduction).toBeGreaterThan(0);
    expect(conversion.cuped!.absolute.se!).toBeLessThan(conversion.absolute.se!);
    expect(near(conversion.cuped!.absolute, 0.03)).toBe(true);
    // The always-valid interval holds at every look: wider than the fixed one, and still covering.
    expect(conversion.alwaysValid.absolute.low!).toBeLessThan(conversion.absolute.low!);
    expect(conversion.alwaysValid.absolute.high!).toBeGreaterThan(conversion.absolute.high!);
    expect(covers(conversion.alwaysValid.relative, 0.6)).toBe(true);
    expect(near(lift.metrics.ctr!.absolute, 0.05)).toBe(true);
    expect(e.srm.mismatch).toBe(false);
    expect(e.srm.message).toMatch(/^no sample ratio mismatch/);
    expect(e.warnings).toEqual([]);
  });

  it('gives a daily cumulative series with an always-valid band around the fixed interval', () => {
    const daily = report.experiments[0]!.daily;
    expect(daily.length).toBeGreaterThanOrEqual(14);
    expect(daily[0]!.date).toBe('2026-11-02');
    const last = daily.at(-1)!;
    expect(last.shoppers.none! + last.shoppers.model!).toBe(4000);
    const final = last.lift.model!;
    expect(final.value).toBeCloseTo(report.experiments[0]!.comparisons[0]!.metrics.conversion!.relative.value!, 10);
    expect(final.alwaysLow!).toBeLessThan(final.low!);
    // At every look the always-valid band holds the fixed interval (it pays for looking daily).
    for (const point of daily) {
      const l = point.lift.model!;
      if (l.low === null) continue;
      expect(l.alwaysLow!).toBeLessThan(l.low);
      expect(l.alwaysHigh!).toBeGreaterThan(l.high!);
    }
    expect(final.alwaysHigh! - final.alwaysLow!).toBeLessThan(daily[0]!.lift.model!.alwaysHigh! - daily[0]!.lift.model!.alwaysLow!);
  });

  it('counts the funnel per arm', () => {
    const model = report.experiments[0]!.arms[1]!;
    expect(model.funnel.exposed).toBe(model.shoppers);
    expect(model.funnel.purchased).toBe(model.purchasers);
    expect(model.funnel.addedToCart).toBeGreaterThanOrEqual(model.funnel.purchased);
    expect(model.funnel.clicked).toBeGreaterThan(0);
    expect(model.funnel.clicked).toBeLessThan(model.funnel.exposed);
  });

  it('prints a text table', () => {
    const text = reportText(report);
    expect(text).toContain('experiment recs-home: control none');
    expect(text).toMatch(/model vs none:/);
    expect(text).toContain('Conversion (purchased)');
    expect(text).toContain('no sample ratio mismatch');
  });
});

describe('over many simulated experiments', () => {
  it('the 95% intervals of the arm rate and of the lift cover the truth in most of 40 runs', async () => {
    const runs = 40;
    let arm = 0, lift = 0, relative = 0, always = 0;
    for (let seed = 100; seed < 100 + runs; seed++) {
      const { events } = syntheticExperiment({ experiment: 'x', arms: [{ variant: 'model', weight: 1, conversion: 0.08 }, { variant: 'none', weight: 1, conversion: 0.05 }], shoppers: 4000, seed });
      const e = (await experimentReport(events)).experiments[0]!;
      const conversion = e.comparisons[0]!.metrics.conversion!;
      if (covers(e.arms[0]!.metrics.conversion, 0.05)) arm++;
      if (covers(conversion.absolute, 0.03)) lift++;
      if (covers(conversion.relative, 0.6)) relative++;
      if (covers(conversion.alwaysValid.absolute, 0.03)) always++;
    }
    // Expected 38 of 40 (95%); 35 is the binomial's 2.5% quantile. The always-valid ones are wider.
    expect(arm).toBeGreaterThanOrEqual(35);
    expect(lift).toBeGreaterThanOrEqual(35);
    expect(relative).toBeGreaterThanOrEqual(35);
    expect(always).toBeGreaterThanOrEqual(lift);
  });
});

describe('reading the report every day', () => {
  it('keeps A/A false positives under 5% with the always-valid band, where the fixed interval read daily does not', async () => {
    const runs = 150;
    let fixed = 0, always = 0;
    for (let seed = 500; seed < 500 + runs; seed++) {
      const { events } = syntheticExperiment({ experiment: 'aa', arms: [{ variant: 'model', weight: 1, conversion: 0.06 }, { variant: 'none', weight: 1, conversion: 0.06 }], shoppers: 2000, seed, days: 14 });
      const e = (await experimentReport(events, { plannedShoppers: 1000 })).experiments[0]!;
      const days = e.daily.map((point) => point.lift.model!).filter((lift) => lift.low !== null && lift.alwaysLow !== null);
      expect(days.length).toBeGreaterThanOrEqual(13);
      if (days.some((lift) => lift.low! > 0 || lift.high! < 0)) fixed++;
      if (days.some((lift) => lift.alwaysLow! > 0 || lift.alwaysHigh! < 0)) always++;
    }
    // The guarantee is at most 5% (7.5 of 150); with 14 discrete looks the band sits far under it
    // (bench:uplift: 1.1%). A fixed 95% interval read 14 times rejects far more often.
    expect(always).toBeLessThanOrEqual(7);
    expect(fixed).toBeGreaterThan(always);
    expect(fixed).toBeGreaterThan(runs * 0.08);
  });

  it('tunes the always-valid interval to the planned shoppers, not to the data read', async () => {
    const { events } = syntheticExperiment({ experiment: 'x', arms: [{ variant: 'model', weight: 1, conversion: 0.08 }, { variant: 'none', weight: 1, conversion: 0.05 }], shoppers: 4000, seed: 9 });
    const width = async (plannedShoppers: number) => {
      const lift = (await experimentReport(events, { plannedShoppers })).experiments[0]!.comparisons[0]!.metrics.conversion!.alwaysValid.absolute;
      return lift.high! - lift.low!;
    };
    // Narrowest where the plan meets the data (2,000 per arm), wider on either side.
    const [early, matched, late] = [await width(200), await width(2000), await width(50_000)];
    expect(matched).toBeLessThan(early);
    expect(matched).toBeLessThan(late);
    await expect(experimentReport(events, { plannedShoppers: 0 })).rejects.toThrow(/--plan must be a whole number/);
  });
});

describe('sample ratio mismatch', () => {
  it('flags an injected 55/45 split loudly, and not a 50/50 one', async () => {
    const skewed = syntheticExperiment({ experiment: 'skewed', arms: [{ variant: 'a', weight: 55, conversion: 0.05 }, { variant: 'b', weight: 45, conversion: 0.05 }], shoppers: 4000, seed: 3 });
    const report = await experimentReport(skewed.events);
    const e = report.experiments[0]!;
    expect(e.control).toBe('a'); // no holdout/none/popular/shop arm: the first alphabetically
    expect(e.srm.mismatch).toBe(true);
    expect(e.srm.pValue!).toBeLessThan(0.001);
    expect(e.srm.message).toMatch(/^SAMPLE RATIO MISMATCH/);
    expect(e.warnings[0]).toMatch(/^SAMPLE RATIO MISMATCH/);
    expect(reportText(report)).toContain('!!! SAMPLE RATIO MISMATCH');
    expect(reportHtml(report).includes('<div class="banner srm" role="alert">⚠ SAMPLE RATIO MISMATCH')).toBe(true);
    // The same data with the split declared 55/45 is fine.
    const declared = await experimentReport(skewed.events, { split: parseSplit('skewed=a:55,b:45') });
    expect(declared.experiments[0]!.srm.mismatch).toBe(false);
  });

  it('checks hunch-holdout against --holdout SHARE (default 0.1), with holdout as the control', async () => {
    const holdout = syntheticExperiment({ experiment: 'hunch-holdout', arms: [{ variant: 'holdout', weight: 1, conversion: 0.05 }, { variant: 'personalised', weight: 9, conversion: 0.06 }], shoppers: 4000, seed: 5, list: null });
    const report = await experimentReport(holdout.events);
    const e = report.experiments[0]!;
    expect(e.control).toBe('holdout');
    expect(e.arms.map((a) => a.expectedShare)).toEqual([0.1, 0.9]);
    expect(e.srm.mismatch).toBe(false);
    expect(e.lists).toEqual([]); // no placement: clicks on any list count
    expect(e.arms[1]!.clicks).toBeGreaterThan(0);
    const wrongShare = await experimentReport(holdout.events, { holdoutShare: 0.2 });
    expect(wrongShare.experiments[0]!.srm.mismatch).toBe(true);
  });
});

describe('what cannot be attributed is counted, never dropped silently', () => {
  it('counts crossovers, exposures without shopperId, blank and unknown variants', async () => {
    const events = [...ab.events];
    const exposure = (id: string, variant: string, ts: number, shopperId?: string): HunchEvent => ({
      id, name: EXPOSURE_EVENT, ts, sessionId: `s-${id}`, params: { experiment_id: 'recs-home', variant_id: variant, item_list_id: 'home' }, ...(shopperId ? { shopperId } : {}),
    });
    // Two shoppers of the data see the other variant later: crossovers.
    const [first, second] = ab.events.filter((e) => e.name === EXPOSURE_EVENT).slice(0, 2) as [HunchEvent, HunchEvent];
    const other = (v: string | undefined) => (v === 'model' ? 'none' : 'model');
    events.push(exposure('x1', other(first.params.variant_id), first.ts + 5000, first.shopperId), exposure('x2', other(second.params.variant_id), second.ts + 5000, second.shopperId));
    for (let i = 0; i < 7; i++) events.push(exposure(`anon-${i}`, 'model', START + i * 1000));
    events.push(exposure('blank', '   ', START, 'shopper-blank-1'));
    for (let i = 0; i < 3; i++) events.push(exposure(`odd-${i}`, 'shiny', START + i, `shopper-odd-00${i}`));
    const report = await experimentReport(events, { split: { 'recs-home': { none: 1, model: 1 } } });
    const e = report.experiments[0]!;
    expect(e.crossovers.shoppers).toBe(2);
    expect(e.arms.reduce((s, a) => s + a.shoppers, 0)).toBe(4000 - 2);
    expect(e.unattributable).toBe(7);
    expect(e.blankVariant).toBe(1);
    expect(e.unknownVariants).toEqual([{ variant: 'shiny', exposures: 3, shoppers: 3 }]);
    expect(e.exposures).toBe(4000 + 2 + 7 + 1 + 3);
    expect(e.warnings.join('\n')).toMatch(/2 shoppers saw more than one variant/);
    expect(e.warnings.join('\n')).toMatch(/7 exposures carry no shopperId/);
    expect(e.warnings.join('\n')).toMatch(/unknown variant "shiny"/);
    const text = reportText(report);
    expect(text).toContain('2 crossover shoppers, 7 exposures without shopperId, 1 with a blank variant, unknown variants shiny (3 exposures)');
  });

  it('lists an experiment with only one variant exposed beside the ones it reports', async () => {
    const lone = syntheticExperiment({ experiment: 'banner', arms: [{ variant: 'red', weight: 1, conversion: 0.05 }], shoppers: 50, seed: 8 });
    const report = await experimentReport([...ab.events, ...lone.events]);
    expect(report.experiments.map((e) => e.key)).toEqual(['recs-home']);
    expect(report.skipped).toEqual([{ key: 'banner', reason: 'only one arm exposed ("red", 50 shoppers): a lift needs at least two', exposures: 50, variants: [{ variant: 'red', exposures: 50, shoppers: 50 }] }]);
    expect(reportText(report)).toContain('banner: only one arm exposed');
  });
});

describe('bad input says so in one line', () => {
  it('no exposures', async () => {
    const behaviour = ab.events.filter((e) => e.name !== EXPOSURE_EVENT);
    expect(await rejects(behaviour)).toMatch(/^no experience_impression events: nothing is exposed yet \(\d[\d,]* events read/);
    expect(await rejects([])).toMatch(/^no experience_impression events/);
  });

  it('an experiment with only one arm exposed', async () => {
    const lone = syntheticExperiment({ experiment: 'banner', arms: [{ variant: 'red', weight: 1, conversion: 0.05 }], shoppers: 20, seed: 8 });
    expect(await rejects(lone.events)).toBe('no experiment has two arms to compare: "banner" has only one arm exposed ("red", 20 shoppers): a lift needs at least two');
    expect(await rejects([...ab.events, ...lone.events], { experiment: 'banner' })).toBe('experiment "banner" has only one arm exposed ("red", 20 shoppers): a lift needs at least two');
  });

  it('an unknown --experiment lists the keys found', async () => {
    const lone = syntheticExperiment({ experiment: 'banner', arms: [{ variant: 'red', weight: 1, conversion: 0.05 }], shoppers: 20, seed: 8 });
    expect(await rejects([...ab.events, ...lone.events], { experiment: 'nope' })).toBe('experiment "nope" not found; experiments in the data: "banner", "recs-home"');
  });

  it('a --control that is not an arm, and bad options', async () => {
    expect(await rejects(ab.events, { experiment: 'recs-home', control: 'popular' })).toBe('--control popular is not an arm of recs-home (its arms: model, none)');
    expect(await rejects(ab.events, { holdoutShare: 1.5 })).toMatch(/^--holdout must be a share between 0 and 1/);
    expect(() => parseSplit('a:1,b:1')).toThrow(ReportError);
    expect(() => parseSplit('k=a:1')).toThrow(/at least two arms/);
    expect(parseSplit('k=a:1,b:3,j=x:1,y:1')).toEqual({ k: { a: 1, b: 3 }, j: { x: 1, y: 1 } });
  });
});

describe('the HTML page', () => {
  it('is self-contained: the charts, Chart.js inlined, the data, and no external URL', async () => {
    const report = await experimentReport(ab.events);
    const html = reportHtml(report);
    for (const chart of ['conversion', 'revenue', 'lift', 'funnel']) expect(html.includes(`<canvas id="chart-0-${chart}" data-chart="${chart}"`)).toBe(true);
    expect(/Chart\.js v4\.\d+\.\d+/.exec(html)?.[0]).toBeDefined();
    expect(html.includes('<script type="application/json" id="hunch-report-data">')).toBe(true);
    // Nothing is fetched: no src or href to another origin, no stylesheet link, no CSS import.
    expect(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i.exec(html)?.[0]).toBeUndefined();
    expect(/<link\b/i.exec(html)?.[0]).toBeUndefined();
    expect(/@import/i.exec(html)?.[0]).toBeUndefined();
    expect(/<(script|img|iframe)\b[^>]*\bsrc=/i.exec(html)?.[0]).toBeUndefined();
    expect(html.includes('<div class="banner ok">no sample ratio mismatch')).toBe(true);
  });

  it('escapes experiment keys and variants from the data', async () => {
    const key = '<img src=x onerror="alert(1)">';
    const variant = '</script><script>alert(2)</script>';
    const evil = syntheticExperiment({ experiment: key, arms: [{ variant, weight: 1, conversion: 0.05 }, { variant: "none'&", weight: 1, conversion: 0.05 }], shoppers: 400, seed: 2 });
    const html = reportHtml(await experimentReport(evil.events));
    expect(html.includes('<img')).toBe(false);
    expect(html.includes('alert(2)</script>')).toBe(false);
    expect(html.includes("none'&")).toBe(false);
    expect(html.includes('<h2>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</h2>')).toBe(true);
    expect(html.includes('<td>&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;</td>')).toBe(true);
    // The inlined JSON carries them with <, > and & escaped, and parses back to the same strings.
    const json = /<script type="application\/json" id="hunch-report-data">([^<]*)<\/script>/.exec(html)![1]!;
    const data = JSON.parse(json) as ExperimentsReport;
    expect(data.experiments[0]!.key).toBe(key);
    expect(data.experiments[0]!.arms.map((a) => a.variant).sort()).toEqual([variant, "none'&"].sort());
  });
});

describe('outcomes are counted from the first exposure on', () => {
  it('takes the arm of the first exposure and leaves earlier purchases to the pre-period', async () => {
    const base = { sessionId: 'sess-1', params: {} };
    const ev = (id: string, name: HunchEvent['name'], ts: number, shopperId: string, params: HunchEvent['params']): HunchEvent => ({ ...base, id, name, ts, shopperId, params });
    const t0 = START + DAY;
    const events: HunchEvent[] = [
      ev('1', 'purchase', t0 - 1000, 'shopper-aaaa', { value: 10 }),
      ev('2', EXPOSURE_EVENT, t0, 'shopper-aaaa', { experiment_id: 'e', variant_id: 'b' }),
      ev('3', 'purchase', t0 + 1000, 'shopper-aaaa', { value: 25 }),
      ev('4', EXPOSURE_EVENT, t0 + 2000, 'shopper-aaaa', { experiment_id: 'e', variant_id: 'b' }),
      ev('5', EXPOSURE_EVENT, t0, 'shopper-bbbb', { experiment_id: 'e', variant_id: 'a' }),
      ev('6', EXPOSURE_EVENT, t0, 'shopper-cccc', { experiment_id: 'e', variant_id: 'a' }),
      ev('7', 'add_to_cart', t0 + 10, 'shopper-cccc', { item_id: 'x' }),
      ev('8', EXPOSURE_EVENT, t0, 'shopper-dddd', { experiment_id: 'e', variant_id: 'b' }),
    ];
    const e = (await experimentReport(events.reverse())).experiments[0]!;
    const [a, b] = e.arms as [typeof e.arms[0], typeof e.arms[0]];
    expect([a.variant, b.variant]).toEqual(['a', 'b']);
    expect(b).toMatchObject({ shoppers: 2, purchasers: 1, revenue: 25, exposures: 3 });
    expect(a).toMatchObject({ shoppers: 2, purchasers: 0, addedToCart: 1 });
    expect(b.metrics.revenuePerShopper.value).toBe(12.5);
  });
});
