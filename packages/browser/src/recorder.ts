/**
 * Recording an event: checked against its event's parameters, scrubbed of personal data and
 * stamped with its session, then stored and, when upload is allowed, handed to the uploader.
 */
import { isEventName, scrubParams, validateParams, type EventName, type EventParams, type HunchEvent } from '@hunch/core';
import type { Consent } from './consent.js';
import type { ConsentedStore } from './consented-store.js';
import { noteEventTime } from './lib/clock.js';
import { logOnce } from './lib/log.js';
import type { SessionClock } from './session.js';
import type { Uploader } from './upload/uploader.js';

/** Records an event with a given id and time: track() itself, and events the script-tag loader queued before the SDK arrived. */
export type EventRecorder = (name: EventName, params: EventParams | undefined, id: string, ts: number) => string | undefined;

/** The recorder; `recorded` hears of each event it keeps, after it is stored. */
export function createRecorder(consent: Consent, store: ConsentedStore, session: SessionClock, uploader: Uploader | undefined, recorded: (event: HunchEvent) => void): EventRecorder {
  return (name, params = {}, id, ts) => {
    if (!isEventName(name)) {
      logOnce(`unknown event ${String(name)}`, new Error('not a supported event name'));
      return undefined;
    }
    const checked = validateParams(name, params);
    if (!checked.ok) {
      logOnce(`invalid ${name} event`, new Error(checked.error));
      return undefined;
    }
    noteEventTime(ts);
    // Scrubbed before it is kept anywhere: e-mails, phone and card numbers never reach storage.
    const event: HunchEvent = { id, name, ts, sessionId: session.id(ts), params: scrubParams(name, checked.value) };
    const upload = uploader !== undefined && consent.allows('upload');
    store.add(event, { upload });
    if (upload) uploader.added([event]);
    recorded(event);
    return event.id;
  };
}
