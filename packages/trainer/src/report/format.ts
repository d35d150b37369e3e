/** Number formatting shared by the text and HTML reports. */
import type { IntervalValue } from './types.js';

export const int = (n: number): string => n.toLocaleString('en-US');

/** A share as a percentage ("5.21%"), a money amount with 2 decimals; "–" for null. */
export function value(x: number | null, unit: 'share' | 'money'): string {
  if (x === null) return '–';
  return unit === 'share' ? `${(100 * x).toFixed(2)}%` : x.toFixed(2);
}

/** A signed lift: percentage points for shares, money for revenue, percent for relative. */
export function signed(x: number | null, unit: 'share' | 'money' | 'relative'): string {
  if (x === null) return '–';
  const sign = x > 0 ? '+' : x < 0 ? '−' : '±';
  const a = Math.abs(x);
  if (unit === 'share') return `${sign}${(100 * a).toFixed(2)} pp`;
  if (unit === 'relative') return `${sign}${(100 * a).toFixed(1)}%`;
  return `${sign}${a.toFixed(2)}`;
}

/** "[low, high]" in the same unit. */
export function range(i: { low: number | null; high: number | null }, unit: 'share' | 'money' | 'relative'): string {
  if (i.low === null || i.high === null) return '';
  const f = (x: number) => (unit === 'share' ? (100 * x).toFixed(2) : unit === 'relative' ? `${(100 * x).toFixed(1)}%` : x.toFixed(2));
  return `[${f(i.low)}, ${f(i.high)}]`;
}

/** An arm's metric with its interval: "5.21% [4.50, 5.92]". */
export const withInterval = (i: IntervalValue, unit: 'share' | 'money'): string => (i.value === null ? '–' : `${value(i.value, unit)} ${range(i, unit)}`);

export function pValue(p: number | null): string {
  if (p === null) return '–';
  return p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}

/** Whether an interval excludes 0 (a significant lift). */
export const significant = (i: { low: number | null; high: number | null }): boolean => i.low !== null && i.high !== null && (i.low > 0 || i.high < 0);
