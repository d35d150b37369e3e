/**
 * Strategies in the trainer, checked where the truth is known: the simulator's exact policy
 * values against the off-policy estimates (IPS, SNIPS, DR), the learned policy against uniform
 * exploration, the ship rule, and decisions read back from events.
 */
import { DECISION_FEATURES, validatePolicy } from '@hunch/core';
import { describe, expect, it } from 'vitest';
import {
  adaptiveEpsilon,
  alwaysPolicy,
  cartNudgeRules,
  comparePolicies,
  DecisionLog,
  decisionEvents,
  addRow,
  emptyNormalEquations,
  evaluateOutcomes,
  evaluatePolicy,
  learnAndCheck,
  learnPolicy,
  logDecisions,
  MIN_FRESH,
  MIN_EPSILON,
  DEFAULT_EPSILON,
  parseCosts,
  parseRewardKind,
  REWARD_KINDS,
  shipCheck,
  SIM_ACTIONS,
  SIM_STRATEGY,
  simulateShoppers,
  solveRidge,
  truePolicyValue,
  withReward,
} from '../src/strategies/index.js';
import { Rng } from '../src/lib/prng.js';

const truth = simulateShoppers(40_000, 999);
const uniformLogs = logDecisions(simulateShoppers(20_000, 1), null, 1);
const fixed = {
  none: alwaysPolicy(SIM_STRATEGY, SIM_ACTIONS, 'none'),
  reminder: alwaysPolicy(SIM_STRATEGY, SIM_ACTIONS, 'reminder'),
  incentive: alwaysPolicy(SIM_STRATEGY, SIM_ACTIONS, 'incentive'),
  rules: cartNudgeRules(),
};

describe('ridge', () => {
  it('recovers the weights of a noiseless linear target', () => {
    const rng = new Rng(3);
    const w = [1.5, -2, 0.25, 4];
    const eq = emptyNormalEquations(4);
    for (let i = 0; i < 500; i++) {
      const x = [1, rng.next(), rng.normal(), rng.next() * 3];
      addRow(eq, x, x.reduce((s, xi, j) => s + xi * w[j]!, 0), 1 + rng.next());
    }
    solveRidge(eq, 1e-9).forEach((wi, j) => expect(wi).toBeCloseTo(w[j]!, 5));
  });
});

describe('off-policy evaluation on the strategy simulator', () => {
  it('IPS of the logging policy on its own logs is the logged mean reward', () => {
    const mean = uniformLogs.reduce((s, r) => s + r.reward, 0) / uniformLogs.length;
    const e = evaluatePolicy(uniformLogs, null);
    expect(e.ips.value).toBeCloseTo(mean, 9);
    expect(e.snips.value).toBeCloseTo(mean, 9);
    // And for an ε-greedy logging policy, likewise.
    const policy = learnPolicy(uniformLogs, { id: 'logger', epsilon: 0.2 });
    const logs = logDecisions(simulateShoppers(5_000, 7), policy, 7);
    const own = evaluatePolicy(logs, policy);
    expect(own.ips.value).toBeCloseTo(logs.reduce((s, r) => s + r.reward, 0) / logs.length, 9);
  });

  it('every estimator covers the true value of fixed policies (seed 1, 20,000 uniform decisions)', () => {
    for (const [name, policy] of Object.entries(fixed)) {
      const t = truePolicyValue(truth, policy).net;
      const e = evaluatePolicy(uniformLogs, policy);
      for (const estimator of ['ips', 'snips', 'dr'] as const) {
        expect(e[estimator].low, `${name} ${estimator}`).toBeLessThan(t);
        expect(e[estimator].high, `${name} ${estimator}`).toBeGreaterThan(t);
      }
      // DR is the tightest.
      expect(e.dr.se).toBeLessThan(e.ips.se);
    }
  });

  it('is unbiased: over 40 logs of 2,000 decisions the mean estimate is within 3 standard errors of the truth', () => {
    const policy = fixed.rules;
    const t = truePolicyValue(truth, policy).net;
    const estimates = { ips: [] as number[], snips: [] as number[], dr: [] as number[] };
    for (let k = 0; k < 40; k++) {
      const logs = logDecisions(simulateShoppers(2_000, 100 + k), null, 100 + k);
      const e = evaluatePolicy(logs, policy);
      for (const name of ['ips', 'snips', 'dr'] as const) estimates[name].push(e[name].value);
    }
    for (const [name, xs] of Object.entries(estimates)) {
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
      expect(Math.abs(mean - t), name).toBeLessThan((3 * sd) / Math.sqrt(xs.length));
    }
  });
});

describe('learning and shipping', () => {
  it('the learned policy beats uniform exploration, doing nothing and always-on incentives in truth', () => {
    const learned = learnPolicy(uniformLogs, { id: 'learned' });
    expect(validatePolicy(learned).ok).toBe(true);
    const value = truePolicyValue(truth, learned).net;
    expect(value).toBeGreaterThan(truePolicyValue(truth, null).net + 0.5);
    expect(value).toBeGreaterThan(truePolicyValue(truth, fixed.none).net + 1);
    expect(value).toBeGreaterThan(truePolicyValue(truth, fixed.incentive).net + 1);
    // An incentive where it pays, not everywhere: less spent than always-on incentives.
    expect(truePolicyValue(truth, learned).spend).toBeLessThan(truePolicyValue(truth, fixed.incentive).spend / 2);
  });

  it('ships a learned policy over uniform exploration, and refuses a worse one', () => {
    const { policy, check } = learnAndCheck(uniformLogs, { id: 'learned', current: null });
    expect(check.ship).toBe(true);
    expect(check.gain.low).toBeGreaterThan(0);
    expect(check.reason).toMatch(/is estimated to beat uniform/);
    // Always doing nothing against the rules (truly worse by about 1.9 per decision): refused.
    const worse = shipCheck(uniformLogs, fixed.none, fixed.rules);
    expect(truePolicyValue(truth, fixed.none).net).toBeLessThan(truePolicyValue(truth, fixed.rules).net);
    expect(worse.ship).toBe(false);
    expect(worse.reason).toMatch(/^always-none is not estimated to beat rules/);
    // Always-on incentives against uniform exploration (truly worse by about 0.3 per decision) on
    // 3,000 decisions where they look better by the point estimate: the interval refuses them.
    const small = logDecisions(simulateShoppers(3_000, 203), null, 303);
    const looksBetter = shipCheck(small, fixed.incentive, null);
    expect(truePolicyValue(truth, fixed.incentive).net).toBeLessThan(truePolicyValue(truth, null).net);
    expect(looksBetter.gain.value).toBeGreaterThan(0);
    expect(looksBetter.ship).toBe(false);
    // The same policy against itself: no gain, refused.
    expect(shipCheck(uniformLogs, policy, policy).ship).toBe(false);
  });

  it('cross-fits by default: each half read by the policy learned on the other, the policy learned on all the logs shipped', () => {
    const crossed = learnAndCheck(uniformLogs, { id: 'learned', current: null });
    expect(crossed.crossFit).toBe(true);
    expect(crossed.learnedOn).toBe(uniformLogs.length);
    expect(crossed.checkedOn).toBe(uniformLogs.length);
    // The shipped policy is the one learned on all the logs (same ε), not either checked one.
    expect(crossed.policy).toEqual(learnPolicy(uniformLogs, { id: 'learned' }));
    const [a, b] = crossed.checks!;
    expect(a.n + b.n).toBe(uniformLogs.length);
    // The pooled gain lies between the halves' and is narrower than either.
    expect(crossed.check.gain.value).toBeGreaterThanOrEqual(Math.min(a.gain.value, b.gain.value) - 1e-9);
    expect(crossed.check.gain.value).toBeLessThanOrEqual(Math.max(a.gain.value, b.gain.value) + 1e-9);
    expect(crossed.check.gain.high - crossed.check.gain.low).toBeLessThan(Math.min(a.gain.high - a.gain.low, b.gain.high - b.gain.low));
    expect(crossed.check.ship).toBe(crossed.check.gain.low > 0);
    // The one-split rule is still there: the policy learned on one part, checked on the other.
    const split = learnAndCheck(uniformLogs, { id: 'learned', current: null, crossFit: false });
    expect(split.crossFit).toBe(false);
    expect(split.learnedOn + split.checkedOn).toBe(uniformLogs.length);
    expect(split.checks).toBeUndefined();
    // Against the policy learned from these very logs, a policy learned the same way on half of them does not ship.
    expect(learnAndCheck(uniformLogs, { id: 'again', current: crossed.policy }).check.ship).toBe(false);
  });

  it('checks against the deployed policy on the decisions it logged itself (it was not learned from them), once there are enough', () => {
    const deployed = learnPolicy(uniformLogs, { id: 'deployed' });
    const own = logDecisions(simulateShoppers(4_000, 77), deployed, 77);
    expect(own.every((r) => r.policyId === 'deployed')).toBe(true);
    const records = [...uniformLogs, ...own];
    const fresh = learnAndCheck(records, { id: 'next', current: deployed });
    expect(fresh.learnedOn).toBe(records.length);
    expect(fresh.checkedOn).toBe(own.length);
    for (const half of fresh.halves!) {
      expect(half.records.every((r) => r.policyId === 'deployed')).toBe(true);
      // Each half is read by the policy learned on every other decision, the uniform ones included.
      expect(half.policy).toEqual(learnPolicy(records.filter((r) => !half.records.includes(r)), { id: half.policy.id, epsilon: fresh.policy.epsilon }));
    }
    expect(learnAndCheck(records, { id: 'next', current: deployed, checkOn: 'all' }).checkedOn).toBe(records.length);
    // Too few of its own (under MIN_FRESH): all the decisions are read.
    const some = [...uniformLogs, ...own.slice(0, MIN_FRESH - 1)];
    expect(learnAndCheck(some, { id: 'next', current: deployed }).checkedOn).toBe(some.length);
  });

  it('fits on the features it is given only, and refuses a name that is not a decision feature', () => {
    const base = DECISION_FEATURES.filter((name) => !name.includes('*'));
    const learned = learnPolicy(uniformLogs, { id: 'base', features: base });
    for (const { weights } of Object.values(learned.strategies[SIM_STRATEGY]!.actions)) {
      DECISION_FEATURES.forEach((name, i) => (base.includes(name) ? undefined : expect(weights[i]).toBe(0)));
      expect(weights.some((w, i) => w !== 0 && base.includes(DECISION_FEATURES[i]!))).toBe(true);
    }
    expect(() => learnPolicy(uniformLogs, { id: 'x', features: ['bias', 'shoe_size'] })).toThrow(/shoe_size is not a decision feature/);
  });

  it('explores by the evidence: 1 / √(decisions per action) of the least-logged strategy, within [0.05, 0.1]', () => {
    expect(adaptiveEpsilon(uniformLogs)).toBe(MIN_EPSILON); // 5,000 decisions per action
    expect(adaptiveEpsilon(uniformLogs.slice(0, 400))).toBe(DEFAULT_EPSILON); // 100 per action
    expect(adaptiveEpsilon(uniformLogs.slice(0, 1_000))).toBeCloseTo(1 / Math.sqrt(250), 9);
    // A second strategy with little evidence sets the one ε of the policy.
    const other = uniformLogs.slice(0, 900).map((r) => ({ ...r, strategy: 'other' }));
    expect(adaptiveEpsilon([...uniformLogs, ...other])).toBeCloseTo(1 / Math.sqrt(225), 9);
    expect(learnPolicy(uniformLogs, { id: 'x' }).epsilon).toBe(MIN_EPSILON);
    expect(learnPolicy(uniformLogs, { id: 'x', epsilon: 0.3 }).epsilon).toBe(0.3);
    expect(adaptiveEpsilon([])).toBe(DEFAULT_EPSILON);
  });

  it('compares paired: the difference interval is tighter than either value interval', () => {
    const diff = comparePolicies(uniformLogs, fixed.rules, fixed.none);
    const rules = evaluatePolicy(uniformLogs, fixed.rules);
    expect(diff.dr.se).toBeLessThan(rules.dr.se);
    const t = truePolicyValue(truth, fixed.rules).net - truePolicyValue(truth, fixed.none).net;
    expect(diff.dr.low).toBeLessThan(t);
    expect(diff.dr.high).toBeGreaterThan(t);
  });
});

describe('decisions from events', () => {
  const features = DECISION_FEATURES.map((_, i) => (i === 0 ? 1 : 0));
  const decision = (id: string, ts: number, session: string, action: string, extra: Record<string, unknown> = {}) => ({
    id,
    name: 'decision',
    ts,
    sessionId: session,
    params: { strategy_id: 'cart-nudge', action_id: action, propensity: 0.5, policy_id: 'uniform', features, eligible: ['none', 'incentive'], ...extra },
  });
  const purchase = (id: string, ts: number, session: string, value: number) => ({ id, name: 'purchase', ts, sessionId: session, params: { value } });

  it('rewards purchases after the decision in its session, less the action cost when one followed', () => {
    const log = new DecisionLog(parseCosts('incentive=5'));
    for (const e of [
      purchase('p0', 50, 's1', 99), // before the decision: not its outcome
      decision('d1', 100, 's1', 'incentive'),
      purchase('p1', 200, 's1', 40),
      decision('d2', 100, 's2', 'incentive'), // no purchase: no cost
      decision('d3', 100, 's3', 'none'),
      purchase('p3', 300, 's3', 30),
      decision('d4', 100, 's4', 'none', { features: [1, 2] }), // unusable features
      decision('d5', 100, 's5', 'none', { eligible: undefined }),
      { name: 'decision' }, // not an event
    ]) {
      log.add(e);
    }
    const { records, report } = log.finish();
    expect(records.map((r) => [r.sessionId, r.action, r.reward])).toEqual([
      ['s1', 'incentive', 35],
      ['s2', 'incentive', 0],
      ['s3', 'none', 30],
      ['s5', 'none', 0],
    ]);
    expect(report).toMatchObject({ events: 8, invalid: 1, decisions: 5, records: 4, withoutFeatures: 1, inferredEligible: 1, purchases: 3 });
    // Inferred: every action logged for the strategy.
    expect(records[3]!.eligible).toEqual(['none', 'incentive']);
  });

  it('reads each decision’s outcomes: a click on its action in its strategy, an add to cart, a purchase, at or after it', () => {
    const click = (id: string, ts: number, session: string, action: string, strategy = 'cart-nudge') => ({ id, name: 'select_promotion', ts, sessionId: session, params: { promotion_id: action, creative_slot: strategy } });
    const cart = (id: string, ts: number, session: string) => ({ id, name: 'add_to_cart', ts, sessionId: session, params: { item_id: 'sku-1' } });
    const log = new DecisionLog(parseCosts('incentive=5'));
    for (const e of [
      click('c0', 50, 's1', 'incentive'), // before the decision: not its click
      cart('a0', 50, 's1'), // nor its add to cart
      decision('d1', 100, 's1', 'incentive'),
      decision('d2', 100, 's2', 'incentive'),
      click('c2', 150, 's2', 'reminder'), // another action
      click('c3', 160, 's2', 'incentive', 'exit-offer'), // another strategy
      click('c4', 170, 's3', 'incentive'), // another session
      decision('d3', 100, 's3', 'incentive'),
      click('c5', 100, 's3', 'incentive'), // at the decision's time: counts
      cart('a3', 120, 's3'),
      purchase('p3', 200, 's3', 30),
      decision('d4', 100, 's4', 'none'),
      cart('a4', 300, 's4'),
    ]) {
      log.add(e);
    }
    const { records, report } = log.finish();
    expect(records.map((r) => [r.sessionId, r.outcomes, r.reward])).toEqual([
      ['s1', { click: 0, addToCart: 0, purchase: 0, revenue: 0 }, 0],
      ['s2', { click: 0, addToCart: 0, purchase: 0, revenue: 0 }, 0],
      ['s3', { click: 1, addToCart: 1, purchase: 1, revenue: 30 }, 25],
      ['s4', { click: 0, addToCart: 1, purchase: 0, revenue: 0 }, 0],
    ]);
    expect(report).toMatchObject({ clicks: 5, addToCarts: 3, purchases: 1 });
    // Each outcome as the reward the learner and the estimators read.
    expect(withReward(records, 'click').map((r) => r.reward)).toEqual([0, 0, 1, 0]);
    expect(withReward(records, 'add_to_cart').map((r) => r.reward)).toEqual([0, 0, 1, 1]);
    expect(withReward(records, 'conversion').map((r) => r.reward)).toEqual([0, 0, 1, 0]);
    expect(withReward(records, 'revenue').map((r) => r.reward)).toEqual([0, 0, 30, 0]);
    expect(withReward(records, 'net')).toEqual(records);
    expect(parseRewardKind('add_to_cart')).toBe('add_to_cart');
    expect(() => parseRewardKind('clicks')).toThrow('must be one of net, revenue, conversion, add_to_cart, click, got "clicks"');
  });

  it('simulated events carry clicks on shown actions and add-to-carts, read back as outcomes and estimated per outcome', () => {
    const decisions = logDecisions(simulateShoppers(4_000, 6), null, 6);
    const log = new DecisionLog({ incentive: 5 });
    for (const e of decisionEvents(decisions)) log.add(JSON.parse(JSON.stringify(e)));
    const { records, report } = log.finish();
    expect(report.clicks).toBeGreaterThan(0);
    expect(report.addToCarts).toBeGreaterThan(0);
    records.forEach((r, i) => {
      const d = decisions[i]!;
      expect(r.outcomes!.purchase).toBe(d.purchaseValue === null ? 0 : 1);
      expect(r.outcomes!.revenue).toBeCloseTo(d.purchaseValue ?? 0, 9);
      if (d.action === 'none') expect(r.outcomes!.click).toBe(0); // nothing shown, nothing clicked
    });
    // Buyers click a shown action more often than others (0.3 against 0.05).
    const rate = (buyers: boolean) => {
      const shown = records.filter((r) => r.action !== 'none' && r.outcomes!.purchase === (buyers ? 1 : 0));
      return shown.reduce((s, r) => s + r.outcomes!.click, 0) / shown.length;
    };
    expect(rate(true)).toBeGreaterThan(0.2);
    expect(rate(false)).toBeLessThan(0.1);
    // The decision says so: set clicks and add-to-carts are emitted as they are.
    const set = decisionEvents(decisions.slice(0, 2).map((d) => ({ ...d, action: 'reminder', clicked: true, addedToCart: false })));
    expect(set.filter((e) => e.name === 'select_promotion').map((e) => e.params)).toEqual([
      { promotion_id: 'reminder', creative_slot: SIM_STRATEGY },
      { promotion_id: 'reminder', creative_slot: SIM_STRATEGY },
    ]);
    expect(set.some((e) => e.name === 'add_to_cart')).toBe(false);
    // Every outcome estimated as a reward: the logging policy's IPS on its own logs is the logged mean of each.
    const [uniform, none] = evaluateOutcomes(records, [null, fixed.none]);
    for (const kind of REWARD_KINDS) {
      const mean = withReward(records, kind).reduce((s, r) => s + r.reward, 0) / records.length;
      expect(uniform![kind].ips.value, kind).toBeCloseTo(mean, 9);
    }
    expect(uniform!.net.dr.value).toBeCloseTo(evaluatePolicy(records, null).dr.value, 9);
    // Doing nothing is never clicked.
    expect(Math.abs(none!.click.dr.value)).toBeLessThan(0.01);
    expect(none!.click.ips.value).toBeCloseTo(0, 5);
  });

  it('reads simulated decision events back into the records they came from', () => {
    const decisions = logDecisions(simulateShoppers(300, 5), null, 5);
    const log = new DecisionLog({ incentive: 5 });
    for (const e of decisionEvents(decisions)) log.add(JSON.parse(JSON.stringify(e)));
    const { records } = log.finish();
    expect(records.map((r) => [r.action, r.propensity, r.eligible, r.features])).toEqual(decisions.map((d) => [d.action, d.propensity, d.eligible, d.features]));
    records.forEach((r, i) => expect(r.reward).toBeCloseTo(decisions[i]!.reward, 9));
  });

  it('parses costs and rejects bad ones', () => {
    expect(parseCosts('incentive=5, free-shipping-bar=2.5')).toEqual({ incentive: 5, 'free-shipping-bar': 2.5 });
    expect(() => parseCosts('incentive')).toThrow(/action=cost/);
    expect(() => parseCosts('incentive=-1')).toThrow(/non-negative/);
  });
});
