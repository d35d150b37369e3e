/**
 * Whether a retrained model may replace the live one. The rule: publish when the candidate's
 * MRR@20 on the held-out sessions is at least the live model's less a tolerance (absolute).
 * MRR@20 is what `hunch train` stops early on; both are scored on the same examples.
 * The tolerance: on a few hundred held-out examples, MRR@20 moves by about a point from
 * chance alone, so demanding "strictly better" would refuse an equally good model about half
 * the time, and with it every product added since the last publish; a real regression is
 * larger than the tolerance and is refused.
 */
import type { HeldOutScore } from './compare.js';

/** Default tolerance: half a point of MRR@20. */
export const DEFAULT_TOLERANCE = 0.005;

export interface Decision {
  publish: boolean;
  reason: string;
}

const fixed = (x: number) => x.toFixed(4);

export function decide(candidate: HeldOutScore, live: HeldOutScore, tolerance = DEFAULT_TOLERANCE): Decision {
  if (!(tolerance >= 0 && Number.isFinite(tolerance))) throw new Error(`the tolerance must be a non-negative number, got ${tolerance}`);
  if (candidate.examples !== live.examples) throw new Error(`the models were scored on different examples (${candidate.examples} and ${live.examples})`);
  if (candidate.examples === 0) return { publish: false, reason: 'the held-out sessions hold no item to predict: nothing to compare the models on' };
  const [c, l] = [candidate['MRR@20'], live['MRR@20']];
  if (!Number.isFinite(c)) return { publish: false, reason: `the candidate's MRR@20 is ${c}` };
  const floor = l - tolerance;
  return c >= floor
    ? { publish: true, reason: `candidate MRR@20 ${fixed(c)} >= live ${fixed(l)} - tolerance ${tolerance} on the same ${candidate.examples} held-out examples` }
    : { publish: false, reason: `candidate is worse: MRR@20 ${fixed(c)} < live ${fixed(l)} - tolerance ${tolerance} on the same ${candidate.examples} held-out examples` };
}
