/**
 * The session-level purchase signal: P(this session ends in a purchase) from what the session
 * has shown so far. The trainer fits it (`hunch train` on events, as a small L2-regularised
 * logistic regression over the features below, at cut points of each training session before its
 * first purchase), the export ships it beside the model (`purchase.json`, named by hunch.json's
 * `purchase` and hashed in its `files`), and the browser reads `intent().purchaseProbability`
 * from it. Both sides compute the features with `sessionPurchaseFeatures`, so what is fitted is
 * what runs.
 *
 * Features are log-scaled and bounded, so one long session cannot dominate the fit:
 * - `log_views`: log(1 + product views (view_item, select_item)), views capped at 1,000;
 * - `distinct_share`: distinct products among those views (1 with no view);
 * - `log_seconds`: log(1 + seconds from the session's first to its last event), at most a day;
 * - `log_add_to_cart`, `log_remove_from_cart`, `log_begin_checkout`, `log_searches`: log(1 + count), counts capped at 1,000;
 * - `log_next_buying_step`: log of the model's probability that the next event is a buying step
 *   (add_to_cart, begin_checkout, purchase), floored at 1e-4 (so in [-9.2, 0]); only where the
 *   model answered. A fitted model lists the features it uses, in the order of its weights.
 */

export const SESSION_PURCHASE_VERSION = 1;

export const SESSION_PURCHASE_FEATURES = [
  'log_views',
  'distinct_share',
  'log_seconds',
  'log_add_to_cart',
  'log_remove_from_cart',
  'log_begin_checkout',
  'log_searches',
  'log_next_buying_step',
] as const;
export type SessionPurchaseFeature = (typeof SESSION_PURCHASE_FEATURES)[number];

/** The features that need no model: what the trainer fits on. */
export const SESSION_BEHAVIOUR_FEATURES: readonly SessionPurchaseFeature[] = SESSION_PURCHASE_FEATURES.filter((name) => name !== 'log_next_buying_step');

/** `purchase.json`: a fitted logistic model, P(purchase) = sigmoid(intercept + Σ weights[i] · features[i]). */
export interface SessionPurchaseModel {
  version: typeof SESSION_PURCHASE_VERSION;
  /** The features its weights are for, in that order (a subset of SESSION_PURCHASE_FEATURES, each once). */
  features: SessionPurchaseFeature[];
  intercept: number;
  weights: number[];
  /** What it was fitted on (for people; the SDK does not read it). */
  fitted?: { sessions: number; purchaseSessions: number; cuts: number; l2: number };
}

/** The least a session event carries for the features: what Hunch events (core's HunchEvent) have. */
export interface SessionEventLike {
  name: string;
  ts: number;
  params: { item_id?: string | undefined };
}

const MAX_COUNT = 1000;
const MAX_SECONDS = 86_400;
const MIN_NEXT_STEP = 1e-4;
const PRODUCT_VIEWS: ReadonlySet<string> = new Set(['view_item', 'select_item']);

const logCount = (n: number) => Math.log1p(Math.min(n, MAX_COUNT));

/**
 * The features of a session so far: `session` is its behaviour events (no exposures), oldest
 * first, up to the moment of the prediction; `nextBuyingStep` the model's probability that the
 * next event is a buying step, or null without a model (then `log_next_buying_step` is null).
 */
export function sessionPurchaseFeatures(session: readonly SessionEventLike[], nextBuyingStep: number | null): Record<SessionPurchaseFeature, number | null> {
  let views = 0;
  const viewed = new Set<string>();
  const counts = { add_to_cart: 0, remove_from_cart: 0, begin_checkout: 0, search: 0 };
  let first = Infinity;
  let last = -Infinity;
  for (const { name, ts, params } of session) {
    if (Number.isFinite(ts)) {
      first = Math.min(first, ts);
      last = Math.max(last, ts);
    }
    if (PRODUCT_VIEWS.has(name)) {
      views++;
      if (params.item_id !== undefined) viewed.add(params.item_id);
    } else if (name in counts) counts[name as keyof typeof counts]++;
  }
  const seconds = last > first ? (last - first) / 1000 : 0;
  const p = nextBuyingStep;
  return {
    log_views: logCount(views),
    distinct_share: views === 0 ? 1 : Math.min(1, viewed.size / views),
    log_seconds: Math.log1p(Math.min(seconds, MAX_SECONDS)),
    log_add_to_cart: logCount(counts.add_to_cart),
    log_remove_from_cart: logCount(counts.remove_from_cart),
    log_begin_checkout: logCount(counts.begin_checkout),
    log_searches: logCount(counts.search),
    log_next_buying_step: p === null || !Number.isFinite(p) ? null : Math.log(Math.min(1, Math.max(MIN_NEXT_STEP, p))),
  };
}

/** The values of `names` in that order, or null where one is missing (the model's feature without a model). */
export function featureRow(features: Readonly<Record<SessionPurchaseFeature, number | null>>, names: readonly SessionPurchaseFeature[]): number[] | null {
  const row: number[] = [];
  for (const name of names) {
    const value = features[name];
    if (value === null) return null;
    row.push(value);
  }
  return row;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The model's probability for these features; null when it needs one that is missing (a model feature without a model). */
export function sessionPurchaseProbability(model: SessionPurchaseModel, features: Readonly<Record<SessionPurchaseFeature, number | null>>): number | null {
  const row = featureRow(features, model.features);
  return row === null ? null : sigmoid(row.reduce((sum, x, i) => sum + x * model.weights[i]!, model.intercept));
}

export type SessionPurchaseCheck = { ok: true; model: SessionPurchaseModel } | { ok: false; error: string };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a parsed `purchase.json`: its version, known features each once, one finite weight per feature and a finite intercept. */
export function validateSessionPurchaseModel(input: unknown): SessionPurchaseCheck {
  if (!isRecord(input)) return { ok: false, error: 'purchase model must be an object' };
  if (input.version !== SESSION_PURCHASE_VERSION) return { ok: false, error: `unsupported purchase model version ${JSON.stringify(input.version)}` };
  const { features, weights, intercept } = input;
  const known: readonly string[] = SESSION_PURCHASE_FEATURES;
  if (!Array.isArray(features) || features.length === 0 || !features.every((name) => typeof name === 'string' && known.includes(name)) || new Set(features).size !== features.length) {
    return { ok: false, error: `purchase model features must be distinct names among ${SESSION_PURCHASE_FEATURES.join(', ')}` };
  }
  if (!Array.isArray(weights) || weights.length !== features.length || !weights.every((w) => typeof w === 'number' && Number.isFinite(w))) {
    return { ok: false, error: `purchase model weights must be ${features.length} finite numbers, one per feature` };
  }
  if (typeof intercept !== 'number' || !Number.isFinite(intercept)) return { ok: false, error: 'purchase model intercept must be a finite number' };
  return { ok: true, model: input as unknown as SessionPurchaseModel };
}
