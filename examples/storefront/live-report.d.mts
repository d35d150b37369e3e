import type { EventStore } from '../../packages/collector/src/store.js';
/** The live experiment report's page over the collector's store, made anew on every call. */
export function liveReport(store: EventStore, options?: { holdout?: number }): () => Promise<string>;
