/**
 * What passes between the script-tag loader (hunch.js, up front) and the SDK it imports
 * lazily (hunch.sdk.js). Types only: nothing here ends up in either bundle.
 */
import type { EventName, EventParams } from '@hunch/core';
import type { LoaderParts } from '../create-hunch.js';
import type { Hunch, HunchOptions } from '../index.js';

/** A track() call made before the SDK arrived: name, params, and the id and time assigned at call time. */
export type QueuedEvent = [name: EventName, params: EventParams | undefined, id: string, ts: number];

/** hunch.sdk.js's exports. */
export interface SdkModule {
  /**
   * Creates the real instance with the loader's consent, experiments and exposures objects, records
   * the queued events in order with their original ids and times (emptying the queue), and returns the instance.
   */
  start(options: HunchOptions, queue: QueuedEvent[], parts: Required<LoaderParts>): Hunch;
}
