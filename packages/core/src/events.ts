/**
 * The Hunch event schema: GA4 retail event names, each event with a stable id,
 * a timestamp, a session id and validated parameters. Shared by the browser SDK
 * (which records events) and the trainer (which reads them as NDJSON).
 */

export const EVENT_NAMES = [
  'page_view',
  'view_item',
  'view_item_list',
  'select_item',
  'search',
  'add_to_cart',
  'remove_from_cart',
  'view_cart',
  'begin_checkout',
  'purchase',
  'experience_impression',
  'decision',
  'view_promotion',
  'select_promotion',
] as const;

export type EventName = (typeof EVENT_NAMES)[number];

/**
 * An experiment's exposure (`experience_impression`, GA4's name): what the shop showed, not what
 * the shopper did.
 */
export const EXPOSURE_EVENT = 'experience_impression' satisfies EventName;

/**
 * A strategy's decision (`decision`: strategy_id, action_id, propensity, policy_id) and how its
 * action fared (`view_promotion` when shown, `select_promotion` when clicked; GA4's names, with
 * promotion_id = the action, creative_slot = the strategy).
 */
export const DECISION_EVENT = 'decision' satisfies EventName;

/**
 * Events about what the shop showed and how it fared: experiment analysis and policy learning
 * read them; the model, intent and sessions never do, so neither an experiment nor a strategy
 * can change a prediction (nor the golden vectors).
 */
const NOT_BEHAVIOUR: ReadonlySet<EventName> = new Set([EXPOSURE_EVENT, DECISION_EVENT, 'view_promotion', 'select_promotion']);

/** Whether an event is the shopper's own browsing and buying, what the model reads. */
export const isBehaviourEvent = (name: EventName): boolean => !NOT_BEHAVIOUR.has(name);

/** One product as it appears in an event's `items` list. */
export interface EventItem {
  item_id: string;
  item_category?: string;
  price?: number;
  quantity?: number;
}

export interface EventParams {
  /** The product the event is about (view_item, select_item, add_to_cart, ...). */
  item_id?: string;
  item_category?: string;
  /** What the shopper typed into search. */
  search_term?: string;
  /** The list or placement the event happened in. */
  item_list_id?: string;
  /** Several products (view_item_list, purchase, ...). */
  items?: EventItem[];
  /** Page path for page_view; never the query string. */
  page_path?: string;
  value?: number;
  currency?: string;
  /** experience_impression: the experiment's key. */
  experiment_id?: string;
  /** experience_impression: the variant the shopper saw. */
  variant_id?: string;
  /** decision: the strategy (decision point), the action taken ('none' for nothing), its probability under the policy, and the policy. */
  strategy_id?: string;
  action_id?: string;
  propensity?: number;
  policy_id?: string;
  /** decision: the decision features it was made on (DECISION_FEATURES' order) and the actions that were eligible, so the decision can be evaluated and learned from. */
  features?: number[];
  eligible?: string[];
  /** view_promotion / select_promotion: the action shown (GA4's promotion) and the strategy it was shown for (its slot). */
  promotion_id?: string;
  creative_slot?: string;
}

export interface HunchEvent {
  /** UUID, stable across retries, so storing or uploading twice is harmless. */
  id: string;
  name: EventName;
  /** Milliseconds since the Unix epoch. */
  ts: number;
  sessionId: string;
  params: EventParams;
  /**
   * The anonymous shopper id experiments assign by (a random id, the unit of randomisation):
   * added by the uploader to what it sends with analytics consent, never stored on the device
   * with the event. Absent without storage consent (then there is no id).
   */
  shopperId?: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; error: string };

const EVENT_NAME_SET: ReadonlySet<string> = new Set(EVENT_NAMES);
const MAX_STRING = 500;
/** Longest decision feature vector or eligible-action list kept. */
const MAX_FEATURES = 64;
/** A shopper id is a random token (the SDK makes UUIDs): nothing else, so no PII fits in it. */
const SHOPPER_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** Events that are about one product and so must name it. */
const NEEDS_ITEM: ReadonlySet<EventName> = new Set(['view_item', 'select_item', 'add_to_cart', 'remove_from_cart']);

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && EVENT_NAME_SET.has(name);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_STRING) {
    return `${field} must be a non-empty string of at most ${MAX_STRING} characters`;
  }
  return undefined;
}

function checkNumber(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${field} must be a finite number`;
  return undefined;
}

function validateItem(value: unknown, field: string): Validation<EventItem> {
  if (!isRecord(value)) return { ok: false, error: `${field} must be an object` };
  const error =
    (typeof value.item_id === 'string' ? undefined : `${field}.item_id is required`) ??
    checkString(value.item_id, `${field}.item_id`) ??
    checkString(value.item_category, `${field}.item_category`) ??
    checkNumber(value.price, `${field}.price`) ??
    checkNumber(value.quantity, `${field}.quantity`);
  if (error) return { ok: false, error };
  const item: EventItem = { item_id: value.item_id as string };
  if (value.item_category !== undefined) item.item_category = value.item_category as string;
  if (value.price !== undefined) item.price = value.price as number;
  if (value.quantity !== undefined) item.quantity = value.quantity as number;
  return { ok: true, value: item };
}

/**
 * Checks an event's parameters for `name` and returns a copy holding only known fields,
 * so that nothing unexpected (and possibly private) is stored or uploaded.
 */
export function validateParams(name: EventName, input: unknown): Validation<EventParams> {
  const raw = input === undefined ? {} : input;
  if (!isRecord(raw)) return { ok: false, error: `${name}: params must be an object` };
  const stringFields = [
    'item_id',
    'item_category',
    'search_term',
    'item_list_id',
    'page_path',
    'currency',
    'experiment_id',
    'variant_id',
    'strategy_id',
    'action_id',
    'policy_id',
    'promotion_id',
    'creative_slot',
  ] as const;
  const params: EventParams = {};
  for (const field of stringFields) {
    const error = checkString(raw[field], field);
    if (error) return { ok: false, error: `${name}: ${error}` };
    if (raw[field] !== undefined) params[field] = raw[field] as string;
  }
  const valueError = checkNumber(raw.value, 'value');
  if (valueError) return { ok: false, error: `${name}: ${valueError}` };
  if (raw.value !== undefined) params.value = raw.value as number;
  if (raw.features !== undefined) {
    if (!Array.isArray(raw.features) || raw.features.length > MAX_FEATURES || !raw.features.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      return { ok: false, error: `${name}: features must be at most ${MAX_FEATURES} finite numbers` };
    }
    params.features = [...(raw.features as number[])];
  }
  if (raw.eligible !== undefined) {
    if (!Array.isArray(raw.eligible) || raw.eligible.length > MAX_FEATURES || raw.eligible.some((id) => typeof id !== 'string' || checkString(id, 'eligible[]') !== undefined)) {
      return { ok: false, error: `${name}: eligible must be at most ${MAX_FEATURES} action ids` };
    }
    params.eligible = [...(raw.eligible as string[])];
  }
  if (raw.propensity !== undefined) {
    if (typeof raw.propensity !== 'number' || !(raw.propensity > 0 && raw.propensity <= 1)) return { ok: false, error: `${name}: propensity must be a probability in (0, 1]` };
    params.propensity = raw.propensity;
  }
  if (raw.items !== undefined) {
    if (!Array.isArray(raw.items)) return { ok: false, error: `${name}: items must be an array` };
    params.items = [];
    for (const [index, candidate] of raw.items.entries()) {
      const item = validateItem(candidate, `items[${index}]`);
      if (!item.ok) return { ok: false, error: `${name}: ${item.error}` };
      params.items.push(item.value);
    }
  }
  if (NEEDS_ITEM.has(name) && params.item_id === undefined) {
    return { ok: false, error: `${name}: item_id is required` };
  }
  if (name === 'search' && params.search_term === undefined) {
    return { ok: false, error: 'search: search_term is required' };
  }
  if (name === EXPOSURE_EVENT && (params.experiment_id === undefined || params.variant_id === undefined)) {
    return { ok: false, error: `${name}: experiment_id and variant_id are required` };
  }
  if (name === DECISION_EVENT && (params.strategy_id === undefined || params.action_id === undefined || params.propensity === undefined)) {
    return { ok: false, error: `${name}: strategy_id, action_id and propensity are required` };
  }
  if ((name === 'view_promotion' || name === 'select_promotion') && (params.promotion_id === undefined || params.creative_slot === undefined)) {
    return { ok: false, error: `${name}: promotion_id and creative_slot are required` };
  }
  return { ok: true, value: params };
}

/** Validates a whole stored or uploaded event (as read from NDJSON or IndexedDB). */
export function validateEvent(input: unknown): Validation<HunchEvent> {
  if (!isRecord(input)) return { ok: false, error: 'event must be an object' };
  if (!isEventName(input.name)) return { ok: false, error: `unknown event name ${JSON.stringify(input.name)}` };
  const error =
    checkString(input.id, 'id') ??
    (typeof input.id === 'string' ? undefined : 'id is required') ??
    checkString(input.sessionId, 'sessionId') ??
    (typeof input.sessionId === 'string' ? undefined : 'sessionId is required') ??
    (typeof input.ts === 'number' && Number.isFinite(input.ts) && input.ts >= 0 ? undefined : 'ts must be a timestamp in ms') ??
    (input.shopperId === undefined || (typeof input.shopperId === 'string' && SHOPPER_ID.test(input.shopperId))
      ? undefined
      : 'shopperId must be 8 to 64 letters, digits, - or _');
  if (error) return { ok: false, error };
  const params = validateParams(input.name, input.params);
  if (!params.ok) return params;
  const event: HunchEvent = { id: input.id as string, name: input.name, ts: input.ts as number, sessionId: input.sessionId as string, params: params.value };
  if (input.shopperId !== undefined) event.shopperId = input.shopperId as string;
  return { ok: true, value: event };
}
