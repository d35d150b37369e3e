/**
 * Safe shipping. The rule: a candidate policy ships only when the lower end of the 95% doubly
 * robust interval of its gain over the current policy (candidate − current, value per decision,
 * from paired per-decision terms) is above zero. And it is checked on decisions it was not
 * learned from: `learnAndCheck` learns on part of the sessions and checks on the rest, so the
 * estimate is not flattered by the policy having fitted those very outcomes. By default it
 * cross-fits (CROSS_FIT_SHIP_RULE): each half is read by the policy learned on the other, the
 * rule applies to both halves' decisions together, and the policy learned on all the logs ships.
 */
import type { PolicyFile } from '@hunch/core';
import type { Interval } from '../experiments/estimate.js';
import { adaptiveEpsilon, learnPolicy, type LearnOptions } from './learn.js';
import { comparePolicies, estimatorTerms, evaluatePolicy, meanInterval, snipsInterval, type EstimatorTerms, type EvaluateOptions, type PolicyEstimates, type TargetPolicy } from './ope.js';
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

/**
 * The decisions the current policy was not learned from: those it logged itself when it has
 * logged enough of them (MIN_FRESH), else all. A learned policy reads the decisions it was fitted on
 * too well (their outcomes shaped it), so checking a candidate against it on them is biased
 * against the candidate.
 */
export const MIN_FRESH = 1000;
function freshFor(records: readonly DecisionRecord[], current: TargetPolicy): (r: DecisionRecord) => boolean {
  if (!current) return () => true;
  const own = records.filter((r) => r.policyId === current.id).length;
  return own >= MIN_FRESH ? (r) => r.policyId === current.id : () => true;
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
  /** Share of sessions in the second part of the split (default 0.5). */
  checkShare?: number;
  /** Seed of the split (default 0). */
  seed?: number;
  /**
   * Cross-fitting (default true): learn on each part and check on the other; ship the policy
   * learned on all the logs only if the pooled check passes (CROSS_FIT_SHIP_RULE). false: learn on the
   * first part, check on the second, and ship that very policy (SHIP_RULE alone).
   */
  crossFit?: boolean;
  /**
   * Which decisions the check reads (default 'fresh'): 'fresh', those the current policy logged
   * itself once it has logged MIN_FRESH of them (it was not learned from them), else all; 'all'.
   */
  checkOn?: 'fresh' | 'all';
}

export interface LearnAndCheck {
  /** The policy that ships if `check.ship`: learned on all the logs when cross-fitted, else on the learning part. */
  policy: PolicyFile;
  /** The ship decision; when cross-fitted, its estimates pool both parts (each decision read by the policy not learned from it), and so does the rule. */
  check: ShipCheck;
  /** Cross-fitted: the check of each part (the policy learned on the other part), in split order. */
  checks?: [ShipCheck, ShipCheck];
  /** Cross-fitted: each part's decisions and the policy that read them (learned on every other decision). */
  halves?: [{ records: DecisionRecord[]; policy: PolicyFile }, { records: DecisionRecord[]; policy: PolicyFile }];
  learnedOn: number;
  checkedOn: number;
  crossFit: boolean;
}

export const CROSS_FIT_SHIP_RULE =
  'cross-fitted: a policy is learned on each half of the sessions and read on the other half, every decision by the policy not learned from it, and the interval is that of all these decisions together; the policy learned on all the logs is the one that ships (as in cross-validation, the shipped policy is not itself the one checked: the check vouches for the way it is learned, on half the evidence)';

/** Terms of candidate and current on `records` for the pooled estimates. */
function pooledTerms(records: readonly DecisionRecord[], candidate: TargetPolicy, current: TargetPolicy, options: EvaluateOptions) {
  const predictions = options.predictions ?? crossFittedPredictions(records, options);
  return { candidate: estimatorTerms(records, candidate, predictions), current: estimatorTerms(records, current, predictions) };
}

const concat = (xs: Float64Array[]): Float64Array => {
  const out = new Float64Array(xs.reduce((s, x) => s + x.length, 0));
  let at = 0;
  for (const x of xs) {
    out.set(x, at);
    at += x.length;
  }
  return out;
};

/**
 * Learns a policy and applies the ship rule on decisions it was not learned from. Cross-fitted (the
 * default): a policy learned on each part is read on the other, the rule applies to all the
 * decisions so read, and the policy learned on all the logs ships. Else: learned on one part,
 * checked on the other.
 */
export function learnAndCheck(records: readonly DecisionRecord[], options: LearnAndCheckOptions): LearnAndCheck {
  const share = options.checkShare ?? 0.5;
  if (!(share > 0 && share < 1)) throw new Error(`checkShare must be in (0, 1), got ${share}`);
  const learnPart: DecisionRecord[] = [];
  const checkPart: DecisionRecord[] = [];
  const fresh = options.checkOn === 'all' ? () => true : freshFor(records, options.current);
  records.forEach((r, i) => (fresh(r) && inCheckPart(r, i, options.seed ?? 0, share) ? checkPart : learnPart).push(r));
  if (learnPart.length === 0 || checkPart.length < 2) throw new Error(`too few decisions to learn and check a policy (${records.length})`);
  const { predictions: _ignored, crossFit: crossFitOption, checkOn: _checkOn, ...rest } = options;
  const crossFit = crossFitOption ?? true;
  if (!crossFit) {
    const policy = learnPolicy(learnPart, rest);
    return { policy, check: shipCheck(checkPart, policy, options.current, rest), learnedOn: learnPart.length, checkedOn: checkPart.length, crossFit };
  }
  if (learnPart.length < 2) throw new Error(`too few decisions to learn and check a policy (${records.length})`);
  // The shipped policy's ε follows the evidence it is learned from (all the logs); the checked ones explore alike.
  const epsilon = rest.epsilon ?? adaptiveEpsilon(records);
  const policy = learnPolicy(records, { ...rest, epsilon });
  // The two halves of the decisions the current policy was not learned from; each is read by the policy learned on every other decision.
  const parts: [DecisionRecord[], DecisionRecord[]] = [[], []];
  records.filter(fresh).forEach((r, i) => parts[inCheckPart(r, i, options.seed ?? 0, share) ? 1 : 0].push(r));
  if (parts[0].length < 2 || parts[1].length < 2) throw new Error(`too few decisions to learn and check a policy (${records.length})`);
  const checks = parts.map((part, k) => {
    const held = new Set(part);
    const learned = learnPolicy(records.filter((r) => !held.has(r)), { ...rest, epsilon, id: `${rest.id}/${k === 0 ? 'b' : 'a'}` });
    const predictions = crossFittedPredictions(part, rest);
    return { learned, check: shipCheck(part, learned, options.current, { ...rest, predictions }), terms: pooledTerms(part, learned, options.current, { ...rest, predictions }), predictions };
  }) as Array<{ learned: PolicyFile; check: ShipCheck; terms: ReturnType<typeof pooledTerms>; predictions: number[][] }>;
  const all = [...parts[0], ...parts[1]];
  const alpha = rest.alpha ?? 0.05;
  const side = (key: 'candidate' | 'current'): EstimatorTerms => ({
    weights: concat(checks.map((c) => c.terms[key].weights)),
    ips: concat(checks.map((c) => c.terms[key].ips)),
    dr: concat(checks.map((c) => c.terms[key].dr)),
  });
  const estimates = (t: EstimatorTerms): PolicyEstimates => ({ n: all.length, ips: meanInterval(t.ips, alpha), snips: snipsInterval(t, all, alpha), dr: meanInterval(t.dr, alpha) });
  const cand = side('candidate');
  const cur = side('current');
  const gain = meanInterval(cand.dr.map((v, i) => v - cur.dr[i]!), alpha);
  const gainIps = meanInterval(cand.ips.map((v, i) => v - cur.ips[i]!), alpha);
  const ship = gain.low > 0;
  const name = (p: TargetPolicy) => (p ? p.id : 'uniform');
  const halves = checks.map((c) => `${money(c.check.gain.value)} [${money(c.check.gain.low)}, ${money(c.check.gain.high)}]`).join(' and ');
  const range = `${money(gain.value)} [${money(gain.low)}, ${money(gain.high)}] per decision over ${all.length} decisions, each read by the policy learned on the other half (the halves: ${halves})`;
  const reason = ship
    ? `${name(policy)} is estimated to beat ${name(options.current)}: ${range}`
    : `${name(policy)} is not estimated to beat ${name(options.current)} (the 95% interval of the gain is not above 0): ${range}`;
  return {
    policy,
    check: { ship, gain, gainIps, candidate: estimates(cand), current: estimates(cur), n: all.length, reason },
    checks: [checks[0]!.check, checks[1]!.check],
    halves: [
      { records: parts[0], policy: checks[0]!.learned },
      { records: parts[1], policy: checks[1]!.learned },
    ],
    learnedOn: records.length,
    checkedOn: all.length,
    crossFit,
  };
}
