/**
 * Decisions and their outcomes from uploaded events: each `decision` event becomes a
 * DecisionRecord whose reward is the purchase value in the same session at or after it, less
 * its action's declared cost when a purchase followed (an incentive's discount), and whose
 * outcomes are what followed it in the session, at or after it: a click on its action (a
 * `select_promotion` whose promotion_id is the action and creative_slot the strategy, as
 * `<hunch-slot>` logs it), an add to cart, a purchase (0/1) and the purchase value (revenue).
 *
 * The log format: a decision is learnable only with the features it was decided from, so the
 * learner reads `params.features` (DECISION_FEATURES' order, as core's decisionFeatures gives
 * them) and, when present, `params.eligible` (the actions that were eligible, for the target
 * policy's probabilities) from the raw event. Decisions without features are counted and
 * skipped. Without `eligible`, a decision's eligible actions are taken as every action logged
 * for its strategy (right when all of them are always eligible; the report says how many were
 * inferred). Each decision of a session gets all of the session's later purchases, add-to-carts
 * and clicks on its action.
 *
 * Raw events are read (not core's validated ones, which drop params the schema does not know):
 * a line or row is first checked by validateEvent, then its decision fields by this module.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DECISION_EVENT, DECISION_FEATURES, isPostgresUrl, validateEvent } from '@hunch/core';
import { isSqliteFile } from '../event-source.js';
import { decisionReward, type ActionCosts, type DecisionRecord } from './records.js';

export interface DecisionLogReport {
  /** Valid events read. */
  events: number;
  /** Lines or rows that were not valid events. */
  invalid: number;
  /** Decision events read, and of them those kept as records. */
  decisions: number;
  records: number;
  /** Decision events without usable `params.features` (skipped). */
  withoutFeatures: number;
  /** Decision events whose `params.eligible` was missing or did not include the action (eligible inferred from the strategy's logged actions). */
  inferredEligible: number;
  /** Purchases read. */
  purchases: number;
  /** Add-to-carts read. */
  addToCarts: number;
  /** Clicks on a decision's action read (`select_promotion` events). */
  clicks: number;
}

interface PendingDecision {
  ts: number;
  strategy: string;
  action: string;
  propensity: number;
  policyId: string | undefined;
  features: number[];
  eligible: string[] | undefined;
}

interface Session {
  decisions: PendingDecision[];
  purchases: Array<[number, number]>;
  addToCarts: number[];
  clicks: Array<{ ts: number; action: string; strategy: string }>;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Collects events (any order) and turns them into decision records at `finish()`. */
export class DecisionLog {
  private readonly sessions = new Map<string, Session>();
  private readonly report: DecisionLogReport = { events: 0, invalid: 0, decisions: 0, records: 0, withoutFeatures: 0, inferredEligible: 0, purchases: 0, addToCarts: 0, clicks: 0 };

  constructor(private readonly costs: ActionCosts = {}) {}

  private session(id: string) {
    let s = this.sessions.get(id);
    if (!s) this.sessions.set(id, (s = { decisions: [], purchases: [], addToCarts: [], clicks: [] }));
    return s;
  }

  /** One raw event (a parsed NDJSON line or a stored row). */
  add(raw: unknown): void {
    const checked = validateEvent(raw);
    if (!checked.ok) {
      this.report.invalid++;
      return;
    }
    this.report.events++;
    const event = checked.value;
    if (event.name === 'purchase') {
      this.report.purchases++;
      this.session(event.sessionId).purchases.push([event.ts, event.params.value ?? 0]);
      return;
    }
    if (event.name === 'add_to_cart') {
      this.report.addToCarts++;
      this.session(event.sessionId).addToCarts.push(event.ts);
      return;
    }
    if (event.name === 'select_promotion') {
      this.report.clicks++;
      this.session(event.sessionId).clicks.push({ ts: event.ts, action: event.params.promotion_id!, strategy: event.params.creative_slot! });
      return;
    }
    if (event.name !== DECISION_EVENT) return;
    this.report.decisions++;
    const params = isRecord(raw) && isRecord(raw.params) ? raw.params : {};
    const features = params.features;
    if (!Array.isArray(features) || features.length !== DECISION_FEATURES.length || !features.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      this.report.withoutFeatures++;
      return;
    }
    const action = event.params.action_id!;
    const eligible =
      Array.isArray(params.eligible) && params.eligible.every((a) => typeof a === 'string' && a !== '') && params.eligible.includes(action) ? [...new Set(params.eligible as string[])] : undefined;
    this.session(event.sessionId).decisions.push({
      ts: event.ts,
      strategy: event.params.strategy_id!,
      action,
      propensity: event.params.propensity!,
      policyId: event.params.policy_id,
      features: features as number[],
      eligible,
    });
  }

  /** The records (sessions in first-seen order, decisions in time order) and what was read. */
  finish(): { records: DecisionRecord[]; report: DecisionLogReport } {
    const logged = new Map<string, string[]>();
    for (const { decisions } of this.sessions.values()) {
      for (const d of decisions) {
        let actions = logged.get(d.strategy);
        if (!actions) logged.set(d.strategy, (actions = []));
        for (const a of d.eligible ?? [d.action]) if (!actions.includes(a)) actions.push(a);
      }
    }
    const records: DecisionRecord[] = [];
    for (const [sessionId, { decisions, purchases, addToCarts, clicks }] of this.sessions) {
      decisions.sort((a, b) => a.ts - b.ts);
      for (const d of decisions) {
        let revenue = 0;
        let purchased = false;
        for (const [ts, value] of purchases) {
          if (ts < d.ts) continue;
          revenue += value;
          purchased = true;
        }
        const clicked = clicks.some((c) => c.ts >= d.ts && c.action === d.action && c.strategy === d.strategy);
        const added = addToCarts.some((ts) => ts >= d.ts);
        if (!d.eligible) this.report.inferredEligible++;
        records.push({
          strategy: d.strategy,
          features: d.features,
          eligible: d.eligible ?? logged.get(d.strategy)!,
          action: d.action,
          propensity: d.propensity,
          reward: decisionReward(d.action, revenue, purchased, this.costs),
          ...(d.policyId === undefined ? {} : { policyId: d.policyId }),
          sessionId,
          outcomes: { click: clicked ? 1 : 0, addToCart: added ? 1 : 0, purchase: purchased ? 1 : 0, revenue },
        });
      }
    }
    this.report.records = records.length;
    return { records, report: { ...this.report } };
  }
}


/** Decisions from an NDJSON file or a collector database (`hunch collect`'s SQLite file or PostgreSQL URL). */
export async function readDecisionLog(path: string, costs: ActionCosts = {}): Promise<{ records: DecisionRecord[]; report: DecisionLogReport }> {
  const log = new DecisionLog(costs);
  if (isPostgresUrl(path) || (await isSqliteFile(path))) {
    const { openEventStore } = await import('@hunch/collector');
    const { store } = await openEventStore(path, { readonly: true });
    try {
      for await (const row of store.read()) log.add(row);
    } finally {
      await store.close();
    }
  } else {
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      log.add(parsed);
    }
  }
  return log.finish();
}
