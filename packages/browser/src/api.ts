/**
 * The public API's types: what createHunch() takes and the instance it returns. index.ts
 * exports them; the SDK's own modules import them from here.
 */
import type { CatalogItem, EventName, EventParams, HunchEvent } from '@hunch/core';
import type { AutoCaptureOptions } from './capture/index.js';
import type { ConsentState } from './consent.js';
import type { ExperimentOptions, ExperimentTally } from './experiments.js';
import type { Intent } from './intent.js';
import type { ModelStatus } from './model-client.js';
import type { Recommendation } from './recommend/recommendations.js';
import type { RetentionLimits } from './storage/types.js';
import type { Decision } from './strategies/decide.js';
import type { StrategyDeclarations } from './strategies/declarations.js';
import type { BackendPreference, ModelDtype } from './worker/protocol.js';

export interface HunchOptions {
  /** URL of the model directory (hunch.json + Hugging Face files). */
  model: string;
  /**
   * URL of the model worker; by default hunch.worker.js beside this script, or its WASM-only
   * sibling hunch.worker.wasm.js (a smaller, faster runtime) when the model will run on WASM.
   * When set, this worker is used on every backend.
   */
  workerUrl?: string;
  /** 'auto' (default) uses WebGPU when the browser offers an adapter, else WASM. */
  backend?: BackendPreference;
  /**
   * Which ONNX variant to load: 'q4' (4-bit), 'q8' (int8), 'pq' (product-quantized item table) or 'fp32'. Default: q4 on WebGPU,
   * q8 on WASM; fp32 when the model directory lacks that file (hunch.json `onnx.variants`).
   */
  dtype?: ModelDtype;
  /** How many recent events the model sees (default 50). */
  historyLimit?: number;
  /** Frees the model's memory after this long without recommendations (default 5 minutes); the next one reloads it. */
  modelIdleMs?: number;
  /**
   * Run the model in one SharedWorker for all of the shop's pages and tabs (default true), kept
   * alive across navigations where the browser can (`extendedLifetime`, Chromium): the next page
   * finds the model loaded instead of starting the runtime again (seconds on a slow device).
   * Browsers without SharedWorker (Chrome on Android) run a worker per page; false always does.
   */
  sharedWorker?: boolean;
  /**
   * Opt-in consent (GDPR-style): nothing is stored on the device, no model runs and nothing is
   * uploaded until `consent({ ... })` grants it. Default false: both granted, except that
   * Global Privacy Control always denies upload.
   */
  requireConsent?: boolean;
  /** The shop's collector URL (`hunch collect`). Upload is off without it. */
  collector?: string;
  /** Caps on stored events: count, age and upload backlog (oldest evicted first). */
  retention?: Partial<RetentionLimits>;
  /** Declarative capture from data-hunch-* markup, JSON-LD and route changes. Default false (the script tag turns it on). */
  autoCapture?: boolean | AutoCaptureOptions;
  /**
   * Share of shoppers in the global holdout, e.g. 0.1 (recommended: 10%): they never get
   * personalisation (popular recommendations, the shop's order in rerank(), rule-based intent)
   * and are in no experiment, the baseline all experiments together are measured against.
   * Default off. Without storage consent there is no shopper id and it does not apply.
   */
  holdout?: number;
  /** Strategies (decision points) and their actions, for decide() and <hunch-slot>; more with hunch.strategies(). */
  strategies?: StrategyDeclarations;
}

export interface RecommendOptions {
  /** How many items (default 6). */
  k?: number;
  /** Item ids never to return, e.g. the product on screen. */
  exclude?: string[];
  /** Only items for which this returns true (e.g. in stock, a category). */
  filter?: (item: CatalogItem) => boolean;
  /** Also return what is in the cart or was just bought (default false). */
  includeCart?: boolean;
  /** Only the catalog's popular items (catalog.json), without waiting for the model: what shows before it answers (the cart still left out, unless includeCart). */
  popularOnly?: boolean;
  /**
   * Where the items will show ("home", "cart", ...). Each placement on a page gets items the
   * page's other placements are not showing, so no product appears twice.
   */
  placement?: string;
}

/** Everything Hunch keeps about this shopper, as `hunch.export()` returns it. */
export interface HunchExport {
  exportedAt: string;
  consent: ConsentState;
  /** Where the events live: 'indexeddb', or 'memory' (not persisted). */
  storage: 'indexeddb' | 'memory';
  events: HunchEvent[];
}

export interface Hunch {
  /** Records a behaviour event. Returns its id, or undefined (and logs once) when invalid. */
  track(name: EventName, params?: EventParams): string | undefined;
  /** Next items for this shopper; never rejects, falls back to popular items. */
  recommend(options?: RecommendOptions): Promise<Recommendation[]>;
  /**
   * The shopper's intent now: funnel stage (browsing, researching, comparing, ready_to_buy,
   * at_risk_of_leaving) with its reason, next-action and purchase probabilities, top
   * categories. Never rejects: without a model the stage comes from the session's events.
   */
  intent(): Promise<Intent>;
  /**
   * A list the shop already has (search results, a category page), reordered for this
   * shopper: the shop's order fused with the model's (reciprocal rank fusion). Entries are ids,
   * or objects with `item_id` or `id` (or give `idOf`). Never rejects: on any failure the list
   * comes back in its own order.
   */
  rerank<T>(items: readonly T[], idOf?: (item: T) => string | undefined): Promise<T[]>;
  /**
   * Calls `listener` with the current intent, then whenever the funnel stage changes (after
   * events, or when a cart goes idle). Returns the function that unsubscribes.
   */
  on(type: 'intent', listener: (intent: Intent) => void): () => void;
  /** Which backend and ONNX variant (dtype, file) the model runs on, why, the model version and how it answered last. */
  status(): Promise<ModelStatus>;
  /** Every stored event, oldest first. */
  history(): Promise<HunchEvent[]>;
  /** Waits until queued events are written to storage. */
  flush(): Promise<void>;
  /**
   * Records the shopper's choice, in Google Consent Mode terms: `personalization_storage`
   * gates storing events and the model, `analytics_storage` gates upload. Withdrawing
   * `personalization_storage` erases what was stored. Returns the effective state.
   */
  consent(choice?: Partial<ConsentState>): ConsentState;
  /** Everything stored about this shopper (events, consent), e.g. for a data access request. */
  export(): Promise<HunchExport>;
  /** Erases everything: events, upload queue, session, shopper id and consent record, in every tab. */
  forget(): Promise<void>;
  /**
   * The shopper's variant of experiment `key` (synchronous, sticky: the same anonymous shopper
   * id always gets the same one), or null when they are not enrolled: no personalization_storage
   * consent (no id), in the global holdout, or outside `options.traffic`.
   */
  experiment(key: string, variants: readonly string[], options?: ExperimentOptions): string | null;
  /** This page's experiment() answers so far, per key: variants given and reasons for null. */
  experiments(): ExperimentTally;
  /**
   * Logs that the shopper saw experiment `key`'s treatment: one `experience_impression`
   * { experiment_id: key, variant_id, item_list_id? } per page view (a route change starts a new
   * one), with the variant experiment(key) gave on this page; nothing for a shopper not enrolled
   * (or before experiment(key) was asked). With `target`, once that element is viewable (≥ 50% in
   * the viewport for one continuous second, in a visible tab), else at once. `listId` (default:
   * the data-hunch-list the target is in) is the event's item_list_id. The key 'hunch-holdout'
   * logs the global holdout's variant ('holdout' or 'personalised') while the holdout is on.
   */
  expose(key: string, target?: Element | null, listId?: string): void;
  /** Declares strategies (or replaces those of the same name): named decision points with their actions, eligibility, copy and caps. */
  strategies(declarations: StrategyDeclarations): void;
  /**
   * The action strategy `name` takes for this shopper now, drawn among its eligible actions by
   * the model's policy.json (uniform without one), with its copy (text), reason and probability;
   * logged as a `decision` event with that probability (with storage consent). Action `none`
   * when it does nothing (always for a shopper in the global holdout). null, with one console
   * warning and the decision logged as none, on bad input: an unknown strategy, a declaration
   * that does not check, a policy that does not validate or match. Never rejects.
   */
  decide(name: string): Promise<Decision | null>;
}
