/**
 * The session purchase model `hunch train` fits beside the GPT-2 (core's intent/session-purchase.ts):
 * P(this session ends in a purchase) from the session's behaviour so far. Each training session
 * is cut after its 1st, 2nd, 3rd, 5th, 8th, ... event and after its last event before its first
 * purchase (every event where it has none); the label is whether it has a purchase. A session's
 * cuts share one unit of weight, so a long session counts as much as a short one. The model's
 * own next-step probability is not a feature here: on its training sessions it is in-sample
 * (optimistic), and `npm run bench:intent` found it no better than chance on real sessions.
 */
import {
  fitLogistic,
  isBehaviourEvent,
  SESSION_BEHAVIOUR_FEATURES,
  SESSION_PURCHASE_VERSION,
  sessionPurchaseFeatures,
  type SessionEventLike,
  type SessionPurchaseModel,
} from '@hunch/core';
import type { EventSource } from './event-source.js';

/** Fewer sessions with a purchase (or without one) than this, and no model is fitted: too few to tell buyers apart. */
export const MIN_PURCHASE_SESSIONS = 10;
/** At most about this many sessions are read for the fit (a deterministic sample by session id above it): a few features need no more. */
export const MAX_PURCHASE_FIT_SESSIONS = 50_000;
/** The ridge penalty on the standardised weights (core's fitLogistic). */
export const PURCHASE_L2 = 1e-3;

export type SessionPurchaseFit = { model: SessionPurchaseModel; message: string } | { model: null; message: string };

/** The cut points of a session with `n` events before its first purchase: 1, 2, 3, 5, 8, 13, ... and n. */
export function cutPoints(n: number): number[] {
  const cuts: number[] = [];
  for (let a = 1, b = 2; a < n; [a, b] = [b, a + b]) cuts.push(a);
  if (n > 0) cuts.push(n);
  return cuts;
}

/** FNV-1a of a string: a session's place in the sample, the same on every run. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Fits the session purchase model on `source`'s behaviour events (`sessions`: how many sessions it
 * holds, for the sample). No model, and a message saying why, where the events hold fewer than
 * MIN_PURCHASE_SESSIONS sessions with a purchase (or without one) that have an event before it.
 */
export async function fitSessionPurchase(source: EventSource, sessions: number): Promise<SessionPurchaseFit> {
  const every = Math.max(1, Math.ceil(sessions / MAX_PURCHASE_FIT_SESSIONS));
  const bySession = new Map<string, SessionEventLike[]>();
  await source.scan((event) => {
    if (!isBehaviourEvent(event.name) || (every > 1 && hash(event.sessionId) % every !== 0)) return;
    let list = bySession.get(event.sessionId);
    if (!list) bySession.set(event.sessionId, (list = []));
    const id = event.params.item_id;
    list.push({ name: event.name, ts: event.ts, params: id === undefined ? {} : { item_id: id } });
  });
  const rows: number[][] = [];
  const labels: boolean[] = [];
  const weights: number[] = [];
  let buyers = 0;
  let others = 0;
  for (const [id, events] of bySession) {
    bySession.delete(id);
    events.sort((a, b) => a.ts - b.ts); // stable: ties keep file order
    const first = events.findIndex((event) => event.name === 'purchase');
    const before = first === -1 ? events.length : first;
    if (before === 0) continue; // nothing to predict from before the purchase
    const bought = first !== -1;
    if (bought) buyers++;
    else others++;
    const cuts = cutPoints(before);
    for (const cut of cuts) {
      const features = sessionPurchaseFeatures(events.slice(0, cut), null);
      rows.push(SESSION_BEHAVIOUR_FEATURES.map((name) => features[name]!));
      labels.push(bought);
      weights.push(1 / cuts.length);
    }
  }
  const read = `${buyers + others} sessions${every > 1 ? ` (1 in ${every} sampled)` : ''}, ${buyers} with a purchase`;
  if (buyers < MIN_PURCHASE_SESSIONS || others < MIN_PURCHASE_SESSIONS) {
    const why = buyers === 0 ? 'the events hold no purchase after another event' : `it needs at least ${MIN_PURCHASE_SESSIONS} sessions with a purchase and ${MIN_PURCHASE_SESSIONS} without`;
    return { model: null, message: `purchase model: not fitted (${read}): ${why}; intent().purchaseProbability stays the model's next-step value` };
  }
  const fit = fitLogistic(rows, labels, { l2: PURCHASE_L2, weights });
  const model: SessionPurchaseModel = {
    version: SESSION_PURCHASE_VERSION,
    features: [...SESSION_BEHAVIOUR_FEATURES],
    intercept: fit.intercept,
    weights: fit.weights,
    fitted: { sessions: buyers + others, purchaseSessions: buyers, cuts: rows.length, l2: PURCHASE_L2 },
  };
  const shown = model.features.map((name, i) => `${name} ${fit.weights[i]!.toFixed(2)}`).join(', ');
  return { model, message: `purchase model: fitted on ${read}, ${rows.length} cut points; intercept ${fit.intercept.toFixed(2)}, ${shown}` };
}
