/**
 * What the shopper's consent does to this tab's storage. Granted personalization_storage
 * persists events (IndexedDB); withdrawn, what was stored is erased. Denied analytics_storage
 * empties the upload queue. forget(), in this tab or another, erases everything this tab holds.
 */
import type { Consent, ConsentState } from './consent.js';
import type { ConsentedStore } from './consented-store.js';
import { logOnce } from './lib/log.js';
import { forgetBackendChoice } from './model-client.js';
import type { SessionClock } from './session.js';
import { deleteDatabase } from './storage/index.js';
import type { Uploader } from './upload/uploader.js';
import { eraseModelFiles } from './worker/model-files.js';

/** Makes storage follow `consent` from now on; returns forget(). `retireModel` stops the model and drops it. */
export function wireConsent(consent: Consent, store: ConsentedStore, session: SessionClock, uploader: Uploader | undefined, retireModel: () => void): () => Promise<void> {
  const applyConsent = (state: ConsentState) => {
    if (state.personalization_storage === 'granted') {
      void store.persist().catch((error) => logOnce('opening storage failed', error));
    } else if (store.persisted) {
      session.forget();
      void store.unpersist().catch((error) => logOnce('erasing storage failed', error));
    }
    if (state.analytics_storage === 'denied') void store.clearOutbox().catch(() => undefined);
  };
  applyConsent(consent.state());
  consent.subscribe(applyConsent);

  // forget(), here or in another tab (before the defaults apply): what this tab holds goes, the
  // model's caches too; then storage follows consent again (defaults that grant it store anew).
  let erasing: Promise<void> = Promise.resolve();
  consent.onForget(() => {
    session.forget();
    uploader?.forget();
    retireModel();
    forgetBackendChoice();
    erasing = Promise.all([store.unpersist(), eraseModelFiles()])
      .catch((error: unknown) => logOnce('erasing storage failed', error))
      .then(() => applyConsent(consent.state()));
  });

  return async () => {
    // Asked before the other tabs hear of it: their connections close on its versionchange, and
    // a database they open afterwards is a new one.
    const deleted = deleteDatabase().catch((error: unknown) => logOnce('deleting storage failed', error));
    consent.forget(); // the record, and every tab's onForget (this one's above)
    await Promise.all([deleted, erasing]);
  };
}
