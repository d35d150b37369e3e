/** The report's shape: what `experimentReport` returns, `--json` prints and the page draws. Non-finite numbers are null. */

/** An estimate with its (1 - alpha) interval; null where the data cannot give one (e.g. fewer than 2 shoppers). */
export interface IntervalValue {
  value: number | null;
  se: number | null;
  low: number | null;
  high: number | null;
}

export interface LiftValue extends IntervalValue {
  /** Two-sided p-value against no lift. */
  pValue: number | null;
}

export type MetricName = 'conversion' | 'revenuePerShopper' | 'addToCart' | 'ctr';

export const METRICS: Record<MetricName, { label: string; unit: 'share' | 'money' }> = {
  conversion: { label: 'Conversion (purchased)', unit: 'share' },
  revenuePerShopper: { label: 'Revenue per shopper', unit: 'money' },
  addToCart: { label: 'Add-to-cart rate', unit: 'share' },
  ctr: { label: 'Recommendation CTR', unit: 'share' },
};

export interface ArmReport {
  variant: string;
  control: boolean;
  /** Exposed, attributable shoppers (crossovers left out). */
  shoppers: number;
  /** Share of the experiment's shoppers expected by the split, and observed. */
  expectedShare: number;
  observedShare: number | null;
  exposures: number;
  purchasers: number;
  revenue: number;
  addedToCart: number;
  clicks: number;
  tiles: number;
  metrics: Record<MetricName, IntervalValue>;
  /** Shoppers who, after exposure: were exposed, clicked a recommendation, added to cart, purchased (each counted on its own, not nested). */
  funnel: { exposed: number; clicked: number; addedToCart: number; purchased: number };
}

export interface MetricLift {
  /** treatment - control. */
  absolute: LiftValue;
  /** treatment / control - 1 (delta method). */
  relative: LiftValue;
  /** CUPED-adjusted (pre-exposure values of the same metric as covariate); null when the pre-period does not vary. */
  cuped: { absolute: LiftValue; relative: LiftValue; correlation: number | null; varianceReduction: number | null } | null;
  /** Always-valid (mSPRT) intervals: may be read at every look without inflating false positives. */
  alwaysValid: { absolute: LiftValue; relative: LiftValue };
}

export interface Comparison {
  treatment: string;
  control: string;
  metrics: Record<MetricName, MetricLift | null>;
}

export interface SrmReport {
  counts: number[];
  expected: number[];
  arms: string[];
  chiSquare: number | null;
  pValue: number | null;
  mismatch: boolean;
  /** What it means, in words (loud when mismatched). */
  message: string;
}

/** One daily look: the data as it stood at the end of the (UTC) day. */
export interface DailyPoint {
  day: number;
  date: string;
  shoppers: Record<string, number>;
  /** Per treatment arm: lift in conversion, relative, with its fixed 95% and always-valid interval. */
  lift: Record<string, { value: number | null; low: number | null; high: number | null; alwaysLow: number | null; alwaysHigh: number | null }>;
}

export interface ExperimentReport {
  key: string;
  control: string;
  /** How the control was chosen. */
  controlReason: string;
  arms: ArmReport[];
  comparisons: Comparison[];
  srm: SrmReport;
  /** The item_list_ids (placements) its exposures name; empty: clicks and tiles on any list. */
  lists: string[];
  exposures: number;
  crossovers: { shoppers: number; variants: Record<string, number> };
  /** Exposure events without a shopperId (no consent): they cannot be tied to outcomes. */
  unattributable: number;
  /** Exposure events with a blank variant. */
  blankVariant: number;
  /** Variants outside the declared arms (--split, or hunch-holdout's two): counted, left out. */
  unknownVariants: Array<{ variant: string; exposures: number; shoppers: number }>;
  firstExposure: string;
  lastExposure: string;
  /** The relative lift in conversion per day, for the chart. */
  daily: DailyPoint[];
  /** Things a reader must know (SRM, small arms, crossovers, ...). */
  warnings: string[];
}

/** An experiment found in the data but not analysed, and why. */
export interface SkippedExperiment {
  key: string;
  reason: string;
  exposures: number;
  variants: Array<{ variant: string; exposures: number; shoppers: number }>;
}

export interface ExperimentsReport {
  generatedAt: string;
  source: string | null;
  alpha: number;
  /** Events read, and exposure events among them. */
  events: number;
  exposureEvents: number;
  experiments: ExperimentReport[];
  /** Experiments with fewer than two arms exposed, or not asked for (--experiment): counted and listed. */
  skipped: SkippedExperiment[];
  /** How the always-valid intervals were tuned. */
  notes: string[];
  /** Lines or rows of the source that were not valid events (set by the CLI). */
  invalid?: { count: number; examples: Array<{ line: number; error: string }> };
}
