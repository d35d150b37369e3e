import { describe, expect, it } from 'vitest';
import {
  actionProbabilities,
  DECISION_FEATURES,
  decisionFeatures,
  drawAction,
  encodeHistory,
  FUNNEL_STAGES,
  validateEvent,
  validatePolicy,
  Vocabulary,
  type DecisionContext,
  type PolicyFile,
} from '../src/index.js';

const context: DecisionContext = { stage: 'at_risk_of_leaving', purchaseProbability: 0.3, cartItems: 2, cartValue: 40, sessionEvents: 12 };
const weights = (bias: number, atRisk = 0) => DECISION_FEATURES.map((name) => (name === 'bias' ? bias : name === 'stage:at_risk_of_leaving' ? atRisk : 0));
const policy: PolicyFile = {
  version: 1,
  id: 'p1',
  features: [...DECISION_FEATURES],
  epsilon: 0.2,
  strategies: { 'cart-nudge': { actions: { none: { weights: weights(1) }, reminder: { weights: weights(0.5, 1) }, discount: { weights: weights(0.2) } } } },
};

describe('decision features', () => {
  it('one per DECISION_FEATURES name, the stage one-hot, bounded', () => {
    const x = decisionFeatures(context);
    expect(x).toHaveLength(DECISION_FEATURES.length);
    expect(x[DECISION_FEATURES.indexOf('stage:at_risk_of_leaving')]).toBe(1);
    expect(x.filter((v, i) => DECISION_FEATURES[i]!.startsWith('stage:') && v === 1)).toHaveLength(1);
    expect(decisionFeatures({ ...context, purchaseProbability: null })[DECISION_FEATURES.indexOf('no_model')]).toBe(1);
    expect(Math.max(...decisionFeatures({ ...context, cartItems: 500, cartValue: 1e9, sessionEvents: 1e6 }))).toBeLessThanOrEqual(3);
  });

  it('per stage, its own slopes in purchase probability and cart value: the products are the shopper’s stage only', () => {
    const x = decisionFeatures(context);
    const at = (name: string) => x[DECISION_FEATURES.indexOf(name as (typeof DECISION_FEATURES)[number])]!;
    expect(DECISION_FEATURES.filter((name) => name.includes('*'))).toHaveLength(12);
    expect(at('stage:at_risk_of_leaving*purchase_probability')).toBe(at('purchase_probability'));
    expect(at('stage:at_risk_of_leaving*log_cart_value')).toBe(at('log_cart_value'));
    expect(at('purchase_probability*log_cart_value')).toBeCloseTo(at('purchase_probability') * at('log_cart_value'), 12);
    for (const stage of FUNNEL_STAGES.filter((s) => s !== context.stage)) {
      expect(at(`stage:${stage}*purchase_probability`)).toBe(0);
      expect(at(`stage:${stage}*log_cart_value`)).toBe(0);
    }
    expect(at('free_shipping_gap_open*purchase_probability')).toBe(0);
    const near = decisionFeatures({ ...context, freeShippingGap: 10 });
    expect(near[DECISION_FEATURES.indexOf('free_shipping_gap_open*purchase_probability')]).toBe(0.3);
  });
});

describe('actionProbabilities', () => {
  it('is ε-greedy over the eligible actions: the best gets 1 - ε + ε/n, the others ε/n', () => {
    const result = actionProbabilities(policy, 'cart-nudge', ['none', 'reminder', 'discount'], decisionFeatures(context));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.probabilities[0]).toBeCloseTo(0.2 / 3, 12);
    expect(result.probabilities[1]).toBeCloseTo(0.8 + 0.2 / 3, 12); // reminder: 0.5 + 1 > 1
    expect(result.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // Only the eligible compete: without the reminder, none (1) beats the discount (0.2).
    const without = actionProbabilities(policy, 'cart-nudge', ['none', 'discount'], decisionFeatures(context));
    expect(without.ok && without.probabilities).toEqual([0.8 + 0.1, 0.1]);
  });

  it('is uniform without a policy, and says what does not match the page', () => {
    expect(actionProbabilities(null, 'x', ['none', 'a', 'b', 'c'], [])).toEqual({ ok: true, probabilities: [0.25, 0.25, 0.25, 0.25] });
    expect(actionProbabilities(policy, 'exit-offer', ['none'], decisionFeatures(context))).toEqual({ ok: false, error: 'the policy p1 has no strategy exit-offer' });
    expect(actionProbabilities(policy, 'cart-nudge', ['none', 'banner'], decisionFeatures(context))).toEqual({ ok: false, error: 'the policy p1 has no action banner for strategy cart-nudge' });
    expect(actionProbabilities(policy, 'cart-nudge', [], decisionFeatures(context)).ok).toBe(false);
  });

  it('draws by inverse CDF', () => {
    expect([0, 0.29, 0.3, 0.99].map((u) => drawAction([0.3, 0.7], u))).toEqual([0, 0, 1, 1]);
  });
});

describe('validatePolicy', () => {
  it('accepts a well-formed policy and names what is wrong with others', () => {
    expect(validatePolicy(policy)).toEqual({ ok: true, policy });
    expect(validatePolicy({ ...policy, version: 2 })).toMatchObject({ ok: false, error: 'unsupported policy version 2' });
    expect(validatePolicy({ ...policy, epsilon: 0 })).toMatchObject({ ok: false, error: 'policy epsilon must be in (0, 1]' });
    expect(validatePolicy({ ...policy, features: ['bias'] })).toMatchObject({ ok: false });
    const short = { ...policy, strategies: { s: { actions: { none: { weights: [1, 2] } } } } };
    expect(validatePolicy(short)).toMatchObject({ ok: false, error: `policy strategy s, action none: weights must be ${DECISION_FEATURES.length} finite numbers` });
  });
});

describe('decision and promotion events', () => {
  const base = { id: '6f1c1d2e-0000-4000-8000-000000000009', ts: 1_700_000_000_000, sessionId: 's1' };
  it('validate their parameters', () => {
    const decision = {
      ...base,
      name: 'decision',
      params: { strategy_id: 'cart-nudge', action_id: 'reminder', propensity: 0.8667, policy_id: 'p1', features: decisionFeatures(context), eligible: ['none', 'reminder'] },
    };
    expect(validateEvent(decision)).toEqual({ ok: true, value: decision });
    expect(validateEvent({ ...decision, params: { ...decision.params, features: [1, Number.NaN] } })).toMatchObject({ ok: false, error: 'decision: features must be at most 64 finite numbers' });
    expect(validateEvent({ ...decision, params: { ...decision.params, eligible: ['none', 3] } })).toMatchObject({ ok: false, error: 'decision: eligible must be at most 64 action ids' });
    expect(validateEvent({ ...decision, params: { ...decision.params, propensity: 0 } })).toMatchObject({ ok: false, error: 'decision: propensity must be a probability in (0, 1]' });
    expect(validateEvent({ ...base, name: 'decision', params: { strategy_id: 'x' } })).toMatchObject({ ok: false });
    expect(validateEvent({ ...base, name: 'view_promotion', params: { promotion_id: 'reminder', creative_slot: 'cart-nudge' } }).ok).toBe(true);
    expect(validateEvent({ ...base, name: 'select_promotion', params: { promotion_id: 'reminder' } })).toMatchObject({ ok: false, error: 'select_promotion: promotion_id and creative_slot are required' });
  });

  it('encode to nothing: a strategy never changes what the model sees', () => {
    const vocabulary = new Vocabulary(['[PAD]', '[BOS]', '[UNK]', '<add_to_cart>', 'item:a']);
    const behaviour = [{ name: 'add_to_cart' as const, params: { item_id: 'a' } }];
    const shown = [
      { name: 'decision' as const, params: { strategy_id: 's', action_id: 'reminder', propensity: 0.5 } },
      { name: 'view_promotion' as const, params: { promotion_id: 'reminder', creative_slot: 's' } },
      { name: 'select_promotion' as const, params: { promotion_id: 'reminder', creative_slot: 's' } },
    ];
    expect(encodeHistory([...shown, ...behaviour, ...shown], vocabulary, 16)).toEqual(encodeHistory(behaviour, vocabulary, 16));
  });
});
