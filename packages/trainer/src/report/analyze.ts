/**
 * One experiment's statistics, from its attributed shoppers, by the experiments module's
 * estimators (nothing is re-derived here): per arm the mean per shopper of conversion, revenue
 * and add-to-cart with a normal interval, and click-through as a ratio metric by the delta
 * method with the shopper as unit; per treatment arm against the control the absolute and
 * relative lift (delta method; the relative one's intervals on the log scale), CUPED-adjusted on the same metric's pre-exposure values when
 * they vary, and the always-valid mSPRT interval; the SRM check against the expected split; the
 * funnel; and the daily cumulative lift in conversion with its always-valid band.
 *
 * The always-valid intervals' mixing variance τ² must be fixed before the data to be valid at
 * every look; it is tuned (Howard et al.) to the variance the lift will have at the planned
 * horizon (ReportOptions.plannedShoppers per arm, GrowthBook's approach): the per-shopper
 * variance now, scaled to that many shoppers. Tuning it to each read's own variance instead
 * would make every read narrowest and no read valid across reads.
 */
import { cuped } from '../experiments/cuped.js';
import { interval, meanEstimate, type Estimate, type Interval } from '../experiments/estimate.js';
import { absoluteLift, logRatio, relativeLiftOnLogScale as relativeLift } from '../experiments/lift.js';
import { addShopper, emptyMoments, type Moments } from '../experiments/moments.js';
import { ratioEstimate } from '../experiments/ratio-metric.js';
import { confidenceSequence, mixingVariance } from '../experiments/sequential.js';
import { sampleRatioMismatch, SRM_THRESHOLD } from '../experiments/srm.js';
import type { AttributedShopper, ExperimentAttribution, Outcome } from './attribution.js';
import { chooseControl, declaredArms, HOLDOUT_KEY, PLANNED_SHOPPERS, ReportError, type ReportOptions } from './options.js';
import type { ArmReport, Comparison, DailyPoint, ExperimentReport, IntervalValue, LiftValue, MetricLift, MetricName, SkippedExperiment, SrmReport } from './types.js';

const DAY = 86_400_000;
/** Longest daily series drawn (a longer experiment shows its last this many days). */
const MAX_DAYS = 366;
/** Below this many shoppers an arm's normal intervals are rough: the report says so. */
const FEW_SHOPPERS = 100;

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const NO_INTERVAL: IntervalValue = { value: null, se: null, low: null, high: null };
const NO_LIFT: LiftValue = { ...NO_INTERVAL, pValue: null };
const intervalValue = (i: Interval): IntervalValue => ({ value: finite(i.value), se: finite(i.se), low: finite(i.low), high: finite(i.high) });
const liftValue = (i: Interval): LiftValue => ({ ...intervalValue(i), pValue: finite(i.pValue) });
const usable = (e: Estimate | null): e is Estimate => e !== null && Number.isFinite(e.value) && Number.isFinite(e.se);

/** Each mean metric's (post, pre) per shopper; CTR is the ratio clicks / tiles. */
const MEAN_METRICS: Array<[Exclude<MetricName, 'ctr'>, keyof Outcome]> = [
  ['conversion', 'purchased'],
  ['revenuePerShopper', 'revenue'],
  ['addToCart', 'added'],
];

interface ArmData {
  variant: string;
  shoppers: AttributedShopper[];
  moments: Record<MetricName, Moments>;
  estimates: Record<MetricName, Estimate | null>;
}

function armData(variant: string, shoppers: AttributedShopper[]): ArmData {
  const moments = { conversion: emptyMoments(), revenuePerShopper: emptyMoments(), addToCart: emptyMoments(), ctr: emptyMoments() };
  for (const s of shoppers) {
    for (const [metric, field] of MEAN_METRICS) addShopper(moments[metric], s.post[field], s.pre[field]);
    addShopper(moments.ctr, s.post.clicks, s.post.tiles);
  }
  const mean = (m: Moments) => (m.n >= 2 ? meanEstimate(m) : null);
  return {
    variant,
    shoppers,
    moments,
    estimates: {
      conversion: mean(moments.conversion),
      revenuePerShopper: mean(moments.revenuePerShopper),
      addToCart: mean(moments.addToCart),
      ctr: moments.ctr.n >= 2 && moments.ctr.sumX > 0 ? ratioEstimate(moments.ctr) : null,
    },
  };
}

/**
 * τ² for a lift whose estimate has standard error `se` on `shoppers` shoppers (both arms): the
 * mSPRT mixing variance tuned to the variance at `planned` shoppers (variance goes as 1/n).
 */
const plannedTau2 = (se: number, shoppers: number, planned: number, alpha: number): number => mixingVariance((se * se * shoppers) / planned, alpha);

/** The always-valid interval of a lift estimate. */
function alwaysValid(e: Interval, alpha: number, tau2: number): LiftValue {
  if (!(e.se > 0) || !(tau2 > 0)) return NO_LIFT;
  return liftValue(confidenceSequence(e, tau2, alpha));
}

/**
 * The always-valid interval of a relative lift: the sequence is run on log(t/c) (logRatio; the
 * ratio's own delta method rejects too often at small counts whenever t < c) and its bounds
 * mapped back, exp(bound) - 1; the point is t/c - 1.
 */
function relativeAlwaysValid(t: Estimate, c: Estimate, alpha: number, shoppers: number, planned: number): LiftValue {
  const log = logRatio(t, c, alpha);
  if (!(log.se > 0)) return NO_LIFT;
  const sequence = confidenceSequence(log, plannedTau2(log.se, shoppers, planned, alpha), alpha);
  return { value: finite(t.value / c.value - 1), se: null, low: finite(Math.expm1(sequence.low)), high: finite(Math.expm1(sequence.high)), pValue: finite(sequence.pValue) };
}

function compare(treatment: ArmData, control: ArmData, alpha: number, plannedShoppers: number): Comparison {
  const shoppers = treatment.shoppers.length + control.shoppers.length;
  const planned = 2 * plannedShoppers;
  const sequential = (e: Interval): LiftValue => alwaysValid(e, alpha, plannedTau2(e.se, shoppers, planned, alpha));
  const metrics = {} as Record<MetricName, MetricLift | null>;
  for (const metric of ['conversion', 'revenuePerShopper', 'addToCart', 'ctr'] as const) {
    const t = treatment.estimates[metric], c = control.estimates[metric];
    // No shopper of either arm varies (e.g. nobody added to cart): there is nothing to compare.
    if (!usable(t) || !usable(c) || !(Math.hypot(t.se, c.se) > 0)) {
      metrics[metric] = null;
      continue;
    }
    const absolute = absoluteLift(t, c, alpha);
    const relative = c.value !== 0 ? relativeLift(t, c, alpha) : null;
    let cupedLift: MetricLift['cuped'] = null;
    if (metric !== 'ctr') {
      try {
        const adjusted = cuped([control.moments[metric], treatment.moments[metric]]);
        const [ac, at] = adjusted.arms as [Estimate, Estimate];
        if (usable(ac) && usable(at)) {
          cupedLift = {
            absolute: liftValue(absoluteLift(at, ac, alpha)),
            relative: ac.value !== 0 ? liftValue(relativeLift(at, ac, alpha)) : NO_LIFT,
            correlation: finite(adjusted.correlation),
            varianceReduction: finite(adjusted.varianceReduction),
          };
        }
      } catch {
        cupedLift = null; // the pre-period has no variance: nothing to adjust by
      }
    }
    metrics[metric] = {
      absolute: liftValue(absolute),
      relative: relative ? liftValue(relative) : NO_LIFT,
      cuped: cupedLift,
      alwaysValid: { absolute: sequential(absolute), relative: relative ? relativeAlwaysValid(t, c, alpha, shoppers, planned) : NO_LIFT },
    };
  }
  return { treatment: treatment.variant, control: control.variant, metrics };
}

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
const count = (n: number): string => n.toLocaleString('en-US');

function srmCheck(arms: ArmData[], weights: number[]): SrmReport {
  const counts = arms.map((a) => a.shoppers.length);
  const names = arms.map((a) => a.variant);
  const total = counts.reduce((s, c) => s + c, 0);
  const positive = weights.every((w) => w > 0);
  if (total === 0 || !positive) {
    return { counts, expected: counts.map(() => 0), arms: names, chiSquare: null, pValue: null, mismatch: false, message: 'SRM not checked (no shoppers, or an arm with weight 0)' };
  }
  const srm = sampleRatioMismatch(counts, weights);
  const split = weights.map((w) => percent(w / weights.reduce((s, v) => s + v, 0))).join('/');
  const p = srm.pValue < 1e-4 ? srm.pValue.toExponential(1) : srm.pValue.toFixed(4);
  const worst = counts.map((c, i) => [i, (c - srm.expected[i]!) / Math.sqrt(srm.expected[i]!)] as const).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))[0]![0];
  const message = srm.mismatch
    ? `SAMPLE RATIO MISMATCH (p = ${p} < ${SRM_THRESHOLD}): ${names[worst]} has ${count(counts[worst]!)} shoppers where ${count(Math.round(srm.expected[worst]!))} were expected ` +
      `(split ${split}): assignment or exposure logging loses shoppers unevenly, so do not trust any lift from this experiment until that is found and fixed`
    : `no sample ratio mismatch (p = ${p}, expected split ${split})`;
  return { counts, expected: srm.expected, arms: names, chiSquare: finite(srm.chiSquare), pValue: finite(srm.pValue), mismatch: srm.mismatch, message };
}

function armReport(arm: ArmData, isControl: boolean, expectedShare: number, total: number, exposures: number, alpha: number): ArmReport {
  const sum = (f: (s: AttributedShopper) => number) => arm.shoppers.reduce((acc, s) => acc + f(s), 0);
  const metric = (e: Estimate | null) => (usable(e) ? intervalValue(interval(e, alpha)) : NO_INTERVAL);
  const purchasers = sum((s) => s.post.purchased);
  const added = sum((s) => s.post.added);
  return {
    variant: arm.variant,
    control: isControl,
    shoppers: arm.shoppers.length,
    expectedShare,
    observedShare: total > 0 ? arm.shoppers.length / total : null,
    exposures,
    purchasers,
    revenue: sum((s) => s.post.revenue),
    addedToCart: added,
    clicks: sum((s) => s.post.clicks),
    tiles: sum((s) => s.post.tiles),
    metrics: {
      conversion: metric(arm.estimates.conversion),
      revenuePerShopper: metric(arm.estimates.revenuePerShopper),
      addToCart: metric(arm.estimates.addToCart),
      ctr: metric(arm.estimates.ctr),
    },
    funnel: { exposed: arm.shoppers.length, clicked: arm.shoppers.filter((s) => s.post.clicks > 0).length, addedToCart: added, purchased: purchasers },
  };
}

const utcDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * The relative lift in conversion of each treatment arm as it stood at the end of each UTC day
 * since the first exposure (shoppers first exposed by then, their purchases by then), with the
 * fixed and the always-valid interval; τ² fixed once for the series, tuned to the planned horizon.
 */
function dailySeries(arms: ArmData[], controlIndex: number, firstExposure: number, lastEvent: number, alpha: number, plannedShoppers: number): DailyPoint[] {
  const day0 = Math.floor(firstExposure / DAY) * DAY;
  const days = Math.max(1, Math.floor((Math.max(lastEvent, firstExposure) - day0) / DAY) + 1);
  const start = Math.max(0, days - MAX_DAYS);
  const arrivals = arms.map(() => new Array<number>(days).fill(0));
  const converted = arms.map(() => new Array<number>(days).fill(0));
  arms.forEach((arm, a) => {
    for (const s of arm.shoppers) {
      arrivals[a]![Math.floor((s.firstExposure - day0) / DAY)]!++;
      if (s.purchases.length > 0) {
        const first = Math.min(...s.purchases.map(([ts]) => ts));
        converted[a]![Math.min(days - 1, Math.floor((first - day0) / DAY))]!++;
      }
    }
  });
  const looks: Array<Array<Estimate | null>> = [];
  const n = new Float64Array(arms.length), y = new Float64Array(arms.length);
  for (let d = 0; d < days; d++) {
    looks.push(
      arms.map((_, a) => {
        n[a] = n[a]! + arrivals[a]![d]!;
        y[a] = y[a]! + converted[a]![d]!;
        const m: Moments = { ...emptyMoments(), n: n[a]!, sumY: y[a]!, sumYY: y[a]! };
        return m.n >= 2 ? meanEstimate(m) : null;
      }),
    );
  }
  const control = (d: number) => looks[d]![controlIndex]!;
  const rel = (d: number, a: number): Interval | null => {
    const t = looks[d]![a]!, c = control(d);
    if (!usable(t) || !usable(c) || c.value === 0) return null;
    const r = relativeLift(t, c, alpha);
    return Number.isFinite(r.se) && r.se > 0 ? r : null;
  };
  // The band runs on log(t/c), as relativeAlwaysValid does, with τ² fixed once for the series.
  const logRel = (d: number, a: number): Interval | null => {
    const t = looks[d]![a]!, c = control(d);
    if (!usable(t) || !usable(c)) return null;
    const r = logRatio(t, c, alpha);
    return r.se > 0 ? r : null;
  };
  const tau2 = arms.map((_, a) => {
    const last = a === controlIndex ? null : logRel(days - 1, a);
    return last ? plannedTau2(last.se, arms[a]!.shoppers.length + arms[controlIndex]!.shoppers.length, 2 * plannedShoppers, alpha) : NaN;
  });
  const points: DailyPoint[] = [];
  const cumulative = new Float64Array(arms.length);
  for (let d = 0; d < days; d++) {
    arms.forEach((_, a) => (cumulative[a] = cumulative[a]! + arrivals[a]![d]!));
    if (d < start) continue;
    const point: DailyPoint = { day: d, date: utcDate(day0 + d * DAY), shoppers: Object.fromEntries(arms.map((arm, a) => [arm.variant, cumulative[a]!])), lift: {} };
    arms.forEach((arm, a) => {
      if (a === controlIndex) return;
      const r = rel(d, a);
      const log = logRel(d, a);
      const av = log && tau2[a]! > 0 ? confidenceSequence(log, tau2[a]!, alpha) : null;
      point.lift[arm.variant] = {
        value: r ? finite(r.value) : null,
        low: r ? finite(r.low) : null,
        high: r ? finite(r.high) : null,
        alwaysLow: av ? finite(Math.expm1(av.low)) : null,
        alwaysHigh: av ? finite(Math.expm1(av.high)) : null,
      };
    });
    points.push(point);
  }
  return points;
}

const variantsOf = (e: ExperimentAttribution) => e.variants.map((v) => ({ ...v }));

/**
 * The report of one experiment, or why it was skipped (fewer than two arms with shoppers).
 * Throws a ReportError for a `control` that is not one of its arms, when asked by name.
 */
export function analyzeExperiment(e: ExperimentAttribution, options: ReportOptions, lastEvent: number, named: boolean): ExperimentReport | SkippedExperiment {
  const alpha = options.alpha ?? 0.05;
  const declared = declaredArms(e.key, options);
  const seen = e.variants.map((v) => v.variant);
  const armNames = declared ? Object.keys(declared) : seen;
  const armSet = new Set(armNames);
  const withShoppers = armNames.filter((arm) => e.shoppers.some((s) => s.arm === arm));
  if (withShoppers.length < 2) {
    const only = withShoppers[0] ?? seen[0];
    const why =
      withShoppers.length === 1
        ? `only one arm exposed ("${only}", ${count(e.shoppers.filter((s) => s.arm === only).length)} shoppers): a lift needs at least two`
        : e.variants.length > 0 && e.unattributable > 0
          ? `no exposure carries a shopperId (${count(e.unattributable)} unattributable): nothing can be attributed`
          : `no arm has an attributable shopper`;
    return { key: e.key, reason: why, exposures: e.exposures, variants: variantsOf(e) };
  }
  if (named && options.control !== undefined && !armSet.has(options.control)) {
    throw new ReportError(`--control ${options.control} is not an arm of ${e.key} (its arms: ${armNames.join(', ')})`);
  }
  const control = chooseControl(e.key, armNames, options.control);
  const controlReason =
    options.control === control
      ? 'chosen with --control'
      : e.key === HOLDOUT_KEY && control === 'holdout'
        ? 'the global holdout (no personalisation)'
        : ['none', 'popular', 'shop'].includes(control)
          ? `the first of none, popular, shop among its arms`
          : 'the first arm alphabetically (no holdout, none, popular or shop arm; set --control)';
  // Control first, then the others in their declared (or alphabetical) order.
  const ordered = [control, ...armNames.filter((a) => a !== control)];
  const arms = ordered.map((variant) => armData(variant, e.shoppers.filter((s) => s.arm === variant)));
  const total = arms.reduce((s, a) => s + a.shoppers.length, 0);
  const weights = ordered.map((a) => (declared ? declared[a]! : 1));
  const weightSum = weights.reduce((s, w) => s + w, 0);
  const exposuresOf = new Map(e.variants.map((v) => [v.variant, v.exposures]));
  const armReports = arms.map((arm, i) => armReport(arm, i === 0, weights[i]! / weightSum, total, exposuresOf.get(arm.variant) ?? 0, alpha));
  const plannedShoppers = options.plannedShoppers ?? PLANNED_SHOPPERS;
  const comparisons = arms.slice(1).map((arm) => compare(arm, arms[0]!, alpha, plannedShoppers));
  const srm = srmCheck(arms, weights);
  const unknownVariants = e.variants.filter((v) => !armSet.has(v.variant));

  const warnings: string[] = [];
  if (srm.mismatch) warnings.push(srm.message);
  for (const arm of armReports) if (arm.shoppers < FEW_SHOPPERS) warnings.push(`${arm.variant} has only ${count(arm.shoppers)} shoppers: its intervals are rough`);
  if (e.crossovers.shoppers > 0) warnings.push(`${count(e.crossovers.shoppers)} shoppers saw more than one variant (crossovers): left out`);
  if (e.unattributable > 0) warnings.push(`${count(e.unattributable)} exposures carry no shopperId (no consent to upload it): they cannot be attributed`);
  if (e.blankVariant > 0) warnings.push(`${count(e.blankVariant)} exposures have a blank variant: left out`);
  for (const v of unknownVariants) warnings.push(`unknown variant "${v.variant}" (${count(v.exposures)} exposures, ${count(v.shoppers)} shoppers), not among the declared arms ${armNames.join(', ')}: left out`);
  for (const arm of armNames) if (!e.variants.some((v) => v.variant === arm)) warnings.push(`declared arm ${arm} has no exposures`);

  return {
    key: e.key,
    control,
    controlReason,
    arms: armReports,
    comparisons,
    srm,
    lists: e.lists,
    exposures: e.exposures,
    crossovers: e.crossovers,
    unattributable: e.unattributable,
    blankVariant: e.blankVariant,
    unknownVariants,
    firstExposure: new Date(e.firstExposure).toISOString(),
    lastExposure: new Date(e.lastExposure).toISOString(),
    daily: dailySeries(arms, 0, e.firstExposure, lastEvent, alpha, plannedShoppers),
    warnings,
  };
}
