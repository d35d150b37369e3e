/**
 * Hunch's public API for the shopper's browser.
 *
 *   const hunch = createHunch({ model: '/models/demo/' });
 *   hunch.track('view_item', { item_id: 'sku-1' });
 *   const recs = await hunch.recommend({ k: 6 });
 *   const { stage } = await hunch.intent();
 *
 * track() only validates and queues (microseconds on the main thread); storage is
 * batched into IndexedDB and the model runs in a Web Worker.
 *
 * This file is the package's whole public surface: createHunch(), defineRecommendationsElement(),
 * defineSlotElement() and the types. create-hunch.ts makes the SDK's parts and wires them into an instance.
 */
import type { Hunch, HunchOptions } from './api.js';
import { createHunchWithRecorder } from './create-hunch.js';

export type { Hunch, HunchExport, HunchOptions, RecommendOptions } from './api.js';
export type { CatalogItem, EventName, EventParams, HunchEvent } from '@hunch/core';
export type { Recommendation } from './recommend/recommendations.js';
export type { FunnelStage, Intent } from './intent.js';
export { defineRecommendationsElement, type RenderOptions } from './render/element.js';
export { defineSlotElement } from './render/slot.js';
export type { Decision } from './strategies/decide.js';
export type { ActionDeclaration, ActionEligibility, ActionKind, StrategyDeclaration, StrategyDeclarations } from './strategies/declarations.js';
export type { AutoCaptureOptions } from './capture/index.js';
export type { ConsentState, ConsentValue } from './consent.js';
export type { ExperimentOptions, ExperimentTally, NotEnrolled } from './experiments.js';
export { HOLDOUT_ARMS, HOLDOUT_KEY } from './experiments.js';
export type { ModelStatus } from './model-client.js';
export type { RetentionLimits } from './storage/types.js';
export type { Backend, BackendPreference, InferenceStats, ItemScoring, ModelDtype } from './worker/protocol.js';

/** A Hunch instance for this page. */
export function createHunch(options: HunchOptions): Hunch {
  return createHunchWithRecorder(options).hunch;
}
