/**
 * Whether a retrained model may replace the live one: a paired comparison on the same
 * held-out sessions, by MRR@20 (what `hunch train` stops early on). Publish only when both hold:
 * - the candidate's MRR@20 is at least the live model's less a tolerance (absolute), so a
 *   visible regression never ships, however few sessions were held out; and
 * - the candidate is not significantly worse: the upper end of the one-sided 97.5% interval
 *   of (candidate − live) reaches 0. Sessions are the independent units (a session's examples
 *   share its shopper), so the interval is the ratio estimator's with sessions as clusters.
 *   With many held-out sessions this refuses small but real regressions the tolerance allows.
 * Two equally good models are refused about 2.5% of the time (the test's size), so a
 * scheduled run that refuses once publishes the next time; a real regression keeps refusing.
 */
import type { HeldOutScore } from './compare.js';

/** Default tolerance: half a point of MRR@20. */
export const DEFAULT_TOLERANCE = 0.005;
/** One-sided 97.5% normal quantile. */
const Z = 1.96;

/** The paired difference in MRR@20 and its interval's upper end. */
export interface PairedDifference {
  /** candidate − live MRR@20, over the same examples. */
  difference: number;
  /** Its standard error, sessions as clusters. */
  standardError: number;
  /** difference + 1.96 × standard error: below 0, the candidate is significantly worse. */
  upper: number;
  sessions: number;
}

export interface Decision {
  publish: boolean;
  reason: string;
  paired?: PairedDifference;
}

const fixed = (x: number) => x.toFixed(4);

/** Paired MRR@20 difference of two scores of the same sessions. */
export function pairedDifference(candidate: HeldOutScore, live: HeldOutScore): PairedDifference {
  const c = candidate.reciprocalBySession;
  const l = live.reciprocalBySession;
  if (c.length !== l.length) throw new Error(`the models were scored on different sessions (${c.length} and ${l.length})`);
  const sessions = c.length;
  const examples = candidate.examples;
  let total = 0;
  for (let s = 0; s < sessions; s++) total += c[s]! - l[s]!;
  const meanPerSession = total / sessions;
  let squares = 0;
  for (let s = 0; s < sessions; s++) squares += (c[s]! - l[s]! - meanPerSession) ** 2;
  const standardError = sessions > 1 ? Math.sqrt((sessions / (sessions - 1)) * squares) / examples : Number.POSITIVE_INFINITY;
  const difference = total / examples;
  return { difference, standardError, upper: difference + Z * standardError, sessions };
}

export function decide(candidate: HeldOutScore, live: HeldOutScore, tolerance = DEFAULT_TOLERANCE): Decision {
  if (!(tolerance >= 0 && Number.isFinite(tolerance))) throw new Error(`the tolerance must be a non-negative number, got ${tolerance}`);
  if (candidate.examples !== live.examples) throw new Error(`the models were scored on different examples (${candidate.examples} and ${live.examples})`);
  if (candidate.examples === 0) return { publish: false, reason: 'the held-out sessions hold no item to predict: nothing to compare the models on' };
  const [c, l] = [candidate['MRR@20'], live['MRR@20']];
  if (!Number.isFinite(c)) return { publish: false, reason: `the candidate's MRR@20 is ${c}` };
  const paired = pairedDifference(candidate, live);
  const on = `on the same ${candidate.examples} held-out examples (${paired.sessions} sessions)`;
  const interval = `difference ${fixed(paired.difference)}, upper 97.5% bound ${fixed(paired.upper)}`;
  if (c < l - tolerance) return { publish: false, reason: `candidate is worse: MRR@20 ${fixed(c)} < live ${fixed(l)} - tolerance ${tolerance} ${on}`, paired };
  if (paired.upper < 0) return { publish: false, reason: `candidate is significantly worse: MRR@20 ${fixed(c)} against live ${fixed(l)}, ${interval} < 0 ${on}`, paired };
  return { publish: true, reason: `candidate MRR@20 ${fixed(c)} >= live ${fixed(l)} - tolerance ${tolerance} and not significantly worse (${interval}) ${on}`, paired };
}
