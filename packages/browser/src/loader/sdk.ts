/**
 * The entry of hunch.sdk.js, the part of the script-tag SDK that hunch.js imports lazily
 * (an ES module, so `import.meta.url` in create-hunch.ts finds hunch.worker.js beside it).
 */
import type { HunchOptions } from '../index.js';
import { createHunchWithRecorder } from '../create-hunch.js';
import { defineRecommendationsElement } from '../render/element.js';
import { defineSlotElement } from '../render/slot.js';
import { logOnce } from '../lib/log.js';
import type { QueuedEvent, SdkModule } from './protocol.js';

export const start: SdkModule['start'] = (options: HunchOptions, queue: QueuedEvent[], parts) => {
  // Auto-capture already runs in the loader, feeding its track().
  const { hunch, record } = createHunchWithRecorder({ ...options, autoCapture: false }, parts);
  for (const [name, params, id, ts] of queue.splice(0)) {
    try {
      record(name, params, id, ts);
    } catch (error) {
      logOnce('recording a queued event failed', error);
    }
  }
  // <hunch-recommendations> and [data-hunch-recs] render with this instance.
  defineRecommendationsElement(hunch);
  // <hunch-slot name="..."> renders a strategy's decision with it.
  defineSlotElement(hunch);
  return hunch;
};
