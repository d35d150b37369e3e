/**
 * What `hunch report` takes: the options, the one-line error it throws on bad input, and how an
 * experiment's control arm and expected split are chosen.
 */
import { DEFAULT_HOLDOUT, HOLDOUT_ARMS } from '@hunch/core';

/** The global holdout's experiment key (core's); its arms are core's HOLDOUT_ARMS. */
export const HOLDOUT_KEY = DEFAULT_HOLDOUT.key;
const [HELD_OUT, PERSONALISED] = HOLDOUT_ARMS;

/** Arms of the built-in placement experiments that make a natural control, best first. */
export const CONTROL_PREFERENCE = ['none', 'popular', 'shop'] as const;

/** A user error the report explains in one line (the CLI prints it as `hunch report: <message>`). */
export class ReportError extends Error {
  override name = 'ReportError';
}

export interface ReportOptions {
  /** Report only this experiment (default: every experiment with at least two arms). */
  experiment?: string;
  /**
   * The control arm (default: `holdout` for hunch-holdout; for other experiments the first of
   * `none`, `popular`, `shop` among its arms; else the first arm alphabetically). Given with
   * `experiment`, it must be one of its arms; without, it applies to the experiments that have it.
   */
  control?: string;
  /** hunch-holdout's expected share of held-out shoppers (default 0.1, DEFAULT_HOLDOUT). */
  holdoutShare?: number;
  /**
   * Expected splits by experiment key, as arm → weight (any scale). Declares the arms: exposures
   * of other variants are counted as unknown and left out. Default: equal weights over the
   * variants seen; hunch-holdout: holdout `holdoutShare`, personalised the rest.
   */
  split?: Record<string, Record<string, number>>;
  /** Two-sided level of the intervals (default 0.05: 95% intervals). */
  alpha?: number;
  /**
   * Exposed shoppers per arm the experiment is planned to reach (default PLANNED_SHOPPERS):
   * the always-valid intervals are tuned to be narrowest there. Fixed before the data, as their
   * guarantee requires; any value keeps them valid, a closer one keeps them narrower.
   */
  plannedShoppers?: number;
  /** For the report's header: where the events came from. */
  source?: string;
  /** The report's timestamp (default now); pinned by tests. */
  now?: number;
}

/**
 * Parses `--split KEY=arm:w,arm:w` (several experiments: repeat it, or go on with `,KEY2=...`:
 * an item with `=` starts the next experiment).
 */
export function parseSplit(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  let current: Record<string, number> | undefined;
  for (const raw of text.split(',')) {
    let item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq !== -1) {
      const key = item.slice(0, eq).trim();
      if (key === '') throw new ReportError(`--split: an experiment key is missing before "=" in ${JSON.stringify(raw)}`);
      current = out[key] = {};
      item = item.slice(eq + 1).trim();
    }
    if (!current) throw new ReportError(`--split must look like KEY=arm:weight,arm:weight, got ${JSON.stringify(text)}`);
    const colon = item.lastIndexOf(':');
    const arm = colon === -1 ? '' : item.slice(0, colon).trim();
    const weight = colon === -1 ? NaN : Number(item.slice(colon + 1));
    if (arm === '' || !(weight >= 0) || !Number.isFinite(weight)) throw new ReportError(`--split: "${item}" is not arm:weight (a non-negative number)`);
    current[arm] = weight;
  }
  for (const [key, arms] of Object.entries(out)) {
    const weights = Object.values(arms);
    if (weights.length < 2) throw new ReportError(`--split: ${key} needs at least two arms`);
    if (!(weights.reduce((s, w) => s + w, 0) > 0)) throw new ReportError(`--split: ${key}'s weights sum to 0`);
  }
  return out;
}

/** The arms declared for an experiment (by --split, or hunch-holdout's two), or undefined: the variants seen. */
export function declaredArms(key: string, options: ReportOptions): Record<string, number> | undefined {
  const split = options.split?.[key];
  if (split) return split;
  if (key === HOLDOUT_KEY) {
    const share = options.holdoutShare ?? DEFAULT_HOLDOUT.share;
    return { [HELD_OUT]: share, [PERSONALISED]: 1 - share };
  }
  return undefined;
}

/** The control of an experiment whose arms are `arms` (see ReportOptions.control). */
export function chooseControl(key: string, arms: readonly string[], requested: string | undefined): string {
  if (requested !== undefined && arms.includes(requested)) return requested;
  if (key === HOLDOUT_KEY && arms.includes(HELD_OUT)) return HELD_OUT;
  for (const arm of CONTROL_PREFERENCE) if (arms.includes(arm)) return arm;
  return [...arms].sort()[0]!;
}

/** Default planned shoppers per arm (GrowthBook's default tuning of its sequential intervals is 5,000 too). */
export const PLANNED_SHOPPERS = 5000;

/** Checks the numeric options once, so a bad value fails before any data is read. */
export function checkOptions(options: ReportOptions): void {
  const planned = options.plannedShoppers;
  if (planned !== undefined && !(Number.isInteger(planned) && planned >= 10)) throw new ReportError(`--plan must be a whole number of shoppers per arm (at least 10), got ${planned}`);
  const share = options.holdoutShare;
  if (share !== undefined && !(share > 0 && share < 1)) throw new ReportError(`--holdout must be a share between 0 and 1, got ${share}`);
  const alpha = options.alpha;
  if (alpha !== undefined && !(alpha > 0 && alpha < 1)) throw new ReportError(`alpha must be between 0 and 1, got ${alpha}`);
}
