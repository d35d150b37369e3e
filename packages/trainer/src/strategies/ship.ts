/**
 * Safe shipping. The rule: a candidate policy ships only when the lower end of the 95% doubly
 * robust interval of its gain over the current policy (candidate − current, value per decision,
 * from paired per-decision terms) is above zero. And it is checked on decisions it was not
 * learned from: `learnAndCheck` learns on part of the sessions and checks on the rest, so the
 * estimate is not flattered by the policy having fitted those very outcomes.
 */
import type { PolicyFile } from '@hunch/core';
import type { Interval } from '../experiments/estimate.js';
import { learnPolicy, type LearnOptions } from './learn.js';
import { comparePolicies, evaluatePolicy, type EvaluateOptions, type PolicyEstimates, type TargetPolicy } from './ope.js';
import type { DecisionRecord } from './records.js';
import { crossFittedPredictions } from './value-models.js';
import { hashSeed } from '../lib/prng.js';

export const SHIP_RULE = 'ship only if the lower end of the 95% doubly robust interval of (candidate − current) per decision is above 0, on decisions the candidate was not learned from';

export interface ShipCheck {
  ship: boolean;
  /** DR estimate of candidate − current per decision. */
  gain: Interval;
  /** IPS estimate of the same, for reference. */
  gainIps: Interval;
  candidate: PolicyEstimates;
  current: PolicyEstimates;
  /** Decisions the check read. */
  n: number;
  /** One line: why it ships or not. */
  reason: string;
}

const money = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(3));

/** Applies SHIP_RULE to `candidate` against `current` on `records` (which should not be those it was learned from). */
export function shipCheck(records: readonly DecisionRecord[], candidate: TargetPolicy, current: TargetPolicy, options: EvaluateOptions = {}): ShipCheck {
  const predictions = options.predictions ?? crossFittedPredictions(records, options);
  const opts = { ...options, predictions };
  const diff = comparePolicies(records, candidate, current, opts);
  const ship = diff.dr.low > 0;
  const name = (p: TargetPolicy) => (p ? p.id : 'uniform');
  const range = `${money(diff.dr.value)} [${money(diff.dr.low)}, ${money(diff.dr.high)}] per decision over ${diff.n} decisions`;
  return {
    ship,
    gain: diff.dr,
    gainIps: diff.ips,
    candidate: evaluatePolicy(records, candidate, opts),
    current: evaluatePolicy(records, current, opts),
    n: diff.n,
    reason: ship
      ? `${name(candidate)} is estimated to beat ${name(current)}: ${range}`
      : `${name(candidate)} is not estimated to beat ${name(current)} (the 95% interval of the gain is not above 0): ${range}`,
  };
}

/** A record's side of the learn/check split: by session when known (all of a session's decisions on one side), else by position. */
function inCheckPart(record: DecisionRecord, index: number, seed: number, share: number): boolean {
  let h = seed >>> 0;
  if (record.sessionId !== undefined) {
    for (let i = 0; i < record.sessionId.length; i++) h = hashSeed(h, record.sessionId.charCodeAt(i));
  } else h = hashSeed(h, index);
  return hashSeed(h, 0x5eed) / 4294967296 < share;
}

export interface LearnAndCheckOptions extends LearnOptions, EvaluateOptions {
  /** The deployed policy (null: uniform exploration, or none yet). */
  current: TargetPolicy;
  /** Share of sessions kept out of learning to check on (default 0.5). */
  checkShare?: number;
  /** Seed of the split (default 0). */
  seed?: number;
}

export interface LearnAndCheck {
  policy: PolicyFile;
  check: ShipCheck;
  learnedOn: number;
  checkedOn: number;
}

/** Learns a policy on one part of the logs and applies the ship rule to it on the other. */
export function learnAndCheck(records: readonly DecisionRecord[], options: LearnAndCheckOptions): LearnAndCheck {
  const share = options.checkShare ?? 0.5;
  if (!(share > 0 && share < 1)) throw new Error(`checkShare must be in (0, 1), got ${share}`);
  const learnPart: DecisionRecord[] = [];
  const checkPart: DecisionRecord[] = [];
  records.forEach((r, i) => (inCheckPart(r, i, options.seed ?? 0, share) ? checkPart : learnPart).push(r));
  if (learnPart.length === 0 || checkPart.length < 2) throw new Error(`too few decisions to learn and check a policy (${records.length})`);
  const { predictions: _ignored, ...rest } = options;
  const policy = learnPolicy(learnPart, rest);
  return { policy, check: shipCheck(checkPart, policy, options.current, rest), learnedOn: learnPart.length, checkedOn: checkPart.length };
}
