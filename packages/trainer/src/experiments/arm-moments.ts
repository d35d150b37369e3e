/**
 * Groups per-shopper rows into per-arm moments, overall or cumulatively by day (the data as
 * it stood at the end of each day: what a daily look sees).
 */
import { addShopper, emptyMoments, mergeMoments, type Moments } from './moments.js';

/** Per-shopper rows: `arm[i]` is shopper i's arm (negative: not in the experiment). */
export interface ArmRows {
  arm: ArrayLike<number>;
  /** The metric. */
  y: ArrayLike<number>;
  /** The covariate or the ratio's denominator (optional). */
  x?: ArrayLike<number>;
}

/** One Moments per arm. */
export function armMoments(rows: ArmRows, arms: number): Moments[] {
  const out = Array.from({ length: arms }, emptyMoments);
  for (let i = 0; i < rows.arm.length; i++) {
    const a = rows.arm[i]!;
    if (a >= 0) addShopper(out[a]!, rows.y[i]!, rows.x ? rows.x[i]! : 0);
  }
  return out;
}

/** `[day][arm]`: the moments of every shopper who arrived on or before that day (`day[i]` in [0, days)). */
export function cumulativeDailyMoments(rows: ArmRows, day: ArrayLike<number>, days: number, arms: number): Moments[][] {
  const daily = Array.from({ length: days }, () => Array.from({ length: arms }, emptyMoments));
  for (let i = 0; i < rows.arm.length; i++) {
    const a = rows.arm[i]!;
    if (a >= 0) addShopper(daily[day[i]!]![a]!, rows.y[i]!, rows.x ? rows.x[i]! : 0);
  }
  for (let d = 1; d < days; d++) daily[d] = daily[d]!.map((m, a) => mergeMoments(daily[d - 1]![a]!, m));
  return daily;
}
