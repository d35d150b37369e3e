/**
 * hunch.decide(strategy): the action a declared strategy takes for this shopper now, drawn on
 * the device by the policy (the one hunch.json names, policy.ts; uniform without one) among the eligible actions,
 * with its copy and reason, and the probability of the draw logged as a `decision` event
 * { strategy_id, action_id, propensity, policy_id } so that every decision can later be
 * evaluated and learned from (off-policy, in the trainer).
 *
 * - "Do nothing" (`none`) is always a candidate; a strategy past its frequency cap has no other,
 *   and an action with a cost is one only within the strategy's daily budget per shopper (incentives)
 *   and while the cart's margin less that cost stays at or above the declared minimum.
 * - A shopper in the global holdout gets `none` (policy 'holdout', propensity 1), logged as
 *   such so the holdout's decisions can be counted beside the others.
 * - Without personalization_storage consent nothing is logged (and the caps live only in memory).
 * - Bad input (an unknown strategy, a declaration that does not check, a policy file whose bytes
 *   are not those hunch.json lists, that does not validate or does not match the declared
 *   actions): null, one console warning, and the decision logged as `none` with propensity 1 and
 *   policy 'fallback'.
 */
import { actionProbabilities, decisionFeatures, drawAction, NO_ACTION, type CatalogItem, type DecisionContext, type EventName, type EventParams, type HunchEvent } from '@hunch/core';
import type { Consent } from '../consent.js';
import type { Intent } from '../intent.js';
import { logOnce } from '../lib/log.js';
import { createCaps } from './caps.js';
import { fillTemplate } from './copy.js';
import { checkStrategy, type ActionDeclaration, type ActionKind, type CheckedStrategy, type StrategyDeclarations } from './declarations.js';
import { cartMargin, earnsMargin, focusOf, isEligible, situationOf, slotValuesOf } from './context.js';
import { loadPolicy, mismatch, type LoadedPolicy } from './policy.js';
import type { PolicyAnswer } from '../worker/protocol.js';

/** policy_id of decisions made without a policy (hunch.json names none): uniform over the eligible actions. */
export const UNIFORM_POLICY = 'uniform';
/** policy_id of a held-out shopper's decisions (always none). */
export const HOLDOUT_POLICY = 'holdout';
/** policy_id of decisions that could not be made (bad input): none. */
export const FALLBACK_POLICY = 'fallback';

export interface Decision {
  strategy: string;
  /** The action drawn; `none` (kind 'none', copy '') when the strategy does nothing now. */
  action: { id: string; kind: ActionKind; cost?: number; href?: string };
  /** Its copy, filled: plain text, to be shown as text (textContent), never as HTML. */
  copy: string;
  /** Why, in words a shop can show on request ("because you left Blue Mug in your cart"). */
  reason: string;
  /** The probability this action had of being drawn (logged with the decision). */
  propensity: number;
  /** The policy's id, 'uniform' without one (hunch.json names none), or 'holdout'. */
  policy: string;
  /** Every eligible action's probability. */
  probabilities: Record<string, number>;
  /** For a free-shipping meter: the cart's value and the threshold. */
  meter?: { value: number; max: number };
  /** What it was decided on (absent for a held-out shopper: nothing was read). */
  context?: DecisionContext;
}

export interface StrategiesDeps {
  consent: Consent;
  heldOut: () => boolean;
  /** The intent now with the events it was read from and the catalog entries of their products. */
  situation: () => Promise<{ intent: Intent; events: HunchEvent[]; entries: ReadonlyMap<string, CatalogItem> }>;
  track: (name: EventName, params: EventParams) => string | undefined;
  modelUrl: string;
  /** The policy hunch.json names, asked of the model's worker; undefined when no worker runs (then read from hunch.json on the page). */
  namedPolicy?: () => Promise<PolicyAnswer | undefined>;
  /** Uniform in [0, 1): the draw (default crypto.getRandomValues; tests pass their own). */
  random?: () => number;
}

export interface Strategies {
  declare(declarations: StrategyDeclarations): void;
  decide(name: string): Promise<Decision | null>;
}

const none = (strategy: string, reason: string, propensity: number, policy: string, probabilities: Record<string, number>): Decision => ({
  strategy,
  action: { id: NO_ACTION, kind: 'none' },
  copy: '',
  reason,
  propensity,
  policy,
  probabilities,
});

export function createStrategies(deps: StrategiesDeps, declarations: StrategyDeclarations = {}): Strategies {
  const declared = new Map<string, CheckedStrategy>();
  const caps = createCaps(deps.consent);
  let policy: Promise<LoadedPolicy> | undefined;
  // A draw of its own (not Math.random, which a page may replace): one 32-bit value in [0, 1).
  const random = deps.random ?? (() => crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32);

  /**
   * The decision event. `features` (the DecisionContext's, DECISION_FEATURES' order) and
   * `eligible` (the candidates' ids) are what the trainer learns from; they are kept as far as
   * core's event schema knows them (params it does not know are dropped when recorded).
   * Holdout and fallback decisions have neither: nothing was decided from features.
   */
  const log = (strategy: string, action: string, propensity: number, policyId: string, learnable?: { features: number[]; eligible: string[] }) => {
    const params = { strategy_id: strategy, action_id: action, propensity, policy_id: policyId, ...learnable };
    if (deps.consent.allows('storage')) deps.track('decision', params);
  };
  /** Bad input: one warning per kind, the decision logged as none. */
  const fail = (strategy: string, error: string): null => {
    logOnce(`strategy ${strategy} decides nothing`, new Error(error));
    log(strategy, NO_ACTION, 1, FALLBACK_POLICY);
    return null;
  };

  async function decide(name: string): Promise<Decision | null> {
    const checked = declared.get(name);
    if (!checked) return fail(name, `no strategy ${name} is declared (${[...declared.keys()].join(', ') || 'none are'})`);
    if (!checked.ok) return fail(name, checked.error);
    const { strategy, actions } = checked;
    if (deps.heldOut()) {
      log(name, NO_ACTION, 1, HOLDOUT_POLICY);
      return none(name, 'held out: this shopper gets no personalisation', 1, HOLDOUT_POLICY, { [NO_ACTION]: 1 });
    }
    const loaded = await (policy ??= loadPolicy(deps.modelUrl, deps.namedPolicy));
    if (!loaded.ok) return fail(name, loaded.error);
    const wrong = loaded.policy && mismatch(loaded.policy, name, actions);
    if (wrong) return fail(name, wrong);
    const policyId = loaded.policy?.id ?? UNIFORM_POLICY;

    const { intent, events, entries } = await deps.situation();
    const situation = situationOf(intent, events, entries);
    const values = slotValuesOf(situation, strategy);
    const session = situation.session.at(-1)?.sessionId ?? '';
    const { perSession, perDay, spent } = caps.count(name, session);
    const affordable = (action: ActionDeclaration) => action.kind !== 'incentive' || strategy.budget === undefined || spent + (action.cost ?? 0) <= strategy.budget.perDay;
    const capped = (strategy.cap?.perSession !== undefined && perSession >= strategy.cap.perSession) || (strategy.cap?.perDay !== undefined && perDay >= strategy.cap.perDay);
    // Candidates: nothing but `none` past a cap; else those whose conditions hold and whose copy has every value.
    const eligible: Array<{ action: ActionDeclaration; copy: string }> = [];
    for (const action of actions) {
      if (action.kind === 'none') eligible.push({ action, copy: '' });
      else if (!capped && affordable(action) && isEligible(action, situation, strategy)) {
        const copy = fillTemplate(action.copy!, values);
        if (copy !== undefined) eligible.push({ action, copy });
      }
    }
    // The gap to this strategy's free-shipping threshold is part of what the policy reads.
    const threshold = strategy.freeShippingThreshold;
    const gap = threshold !== undefined && situation.context.cartItems > 0 ? Math.round((threshold - situation.context.cartValue) * 100) / 100 : null;
    const features = decisionFeatures({ ...situation.context, freeShippingGap: gap !== null && gap > 0 ? gap : null });
    const ids = eligible.map(({ action }) => action.id);
    const answer = actionProbabilities(loaded.policy, name, ids, features);
    if (!answer.ok) return fail(name, answer.error);
    const index = drawAction(answer.probabilities, random());
    const { action, copy } = eligible[index]!;
    const propensity = answer.probabilities[index]!;
    const probabilities = Object.fromEntries(ids.map((id, i) => [id, answer.probabilities[i]!]));
    log(name, action.id, propensity, policyId, { features, eligible: ids });

    if (action.kind === 'none') {
      // Why no action with a cost could be offered, when the minimum margin ruled one out.
      const thin = () =>
        actions.some((candidate) => !earnsMargin(candidate, situation, strategy)) ? `; no incentive: the cart's margin is ${cartMargin(situation.lines, strategy) ?? 'unknown'} and must keep ${strategy.margin!.min} after its cost` : '';
      const why = capped
        ? `frequency cap reached (${perSession} this session, ${perDay} today)`
        : eligible.length === 1
          ? `no action is eligible now (${intent.stage.replace(/_/g, ' ')}, ${situation.context.cartItems} in the cart${thin()})`
          : loaded.policy
            ? `the policy ${policyId} chose to do nothing`
            : `drawn at random among ${eligible.length} eligible actions`;
      return { ...none(name, why, propensity, policyId, probabilities), action: { id: action.id, kind: 'none' }, context: situation.context };
    }
    caps.add(name, session, action.kind === 'incentive' ? action.cost : 0);
    const focus = focusOf(situation, strategy);
    const reason =
      (action.reason !== undefined ? fillTemplate(action.reason, values) : undefined) ??
      (action.meter === 'free_shipping' && values.left_to_free_shipping
        ? `because your cart is ${values.left_to_free_shipping} away from free shipping`
        : focus
          ? `because you ${focus.inCart ? `left ${focus.item.title} in your cart` : `viewed ${focus.item.title}`}`
          : `because you are ${intent.stage.replace(/_/g, ' ')} (${intent.why})`);
    return {
      strategy: name,
      action: { id: action.id, kind: action.kind, ...(action.cost !== undefined ? { cost: action.cost } : {}), ...(action.href ? { href: action.href } : {}) },
      copy,
      reason,
      propensity,
      policy: policyId,
      probabilities,
      ...(action.meter === 'free_shipping' && strategy.freeShippingThreshold !== undefined ? { meter: { value: situation.context.cartValue, max: strategy.freeShippingThreshold } } : {}),
      context: situation.context,
    };
  }

  const strategies: Strategies = {
    declare(input) {
      for (const [name, declaration] of Object.entries(input ?? {})) declared.set(name, checkStrategy(name, declaration));
    },
    decide: (name) =>
      decide(name).catch((error: unknown) => {
        logOnce('decide failed', error);
        return null;
      }),
  };
  strategies.declare(declarations);
  return strategies;
}
