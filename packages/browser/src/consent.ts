/**
 * The shopper's consent, in Google Consent Mode v2 terms so a shop's existing banner maps
 * straight onto it:
 *   personalization_storage  gates keeping events and the model on this device ('storage')
 *   analytics_storage        gates sending events to the shop's collector ('upload')
 * Global Privacy Control (navigator.globalPrivacyControl) denies upload whatever the shop says:
 * it is a legally binding opt-out of sale/sharing in several US states.
 *
 * The choice is kept in localStorage (strictly necessary storage: without it we would have to
 * ask on every page) and shared with the shop's other tabs over a BroadcastChannel, as is
 * forget(): every tab, and the model's worker (worker/model-files.ts), hears it.
 */
import { logOnce } from './lib/log.js';

export type ConsentValue = 'granted' | 'denied';

export interface ConsentState {
  personalization_storage: ConsentValue;
  analytics_storage: ConsentValue;
}

export type ConsentPurpose = 'storage' | 'upload';
export type ConsentListener = (state: ConsentState) => void;

export interface ConsentOptions {
  /** Deny everything until update() (opt-in regimes such as the GDPR). Default false. */
  requireConsent?: boolean;
  /** Where the choice persists; default localStorage, null for none. */
  storage?: (Pick<Storage, 'getItem' | 'setItem'> & Partial<Pick<Storage, 'removeItem'>>) | null;
  /** Whether to sync with other tabs (default true where BroadcastChannel exists). */
  crossTab?: boolean;
  /** Default navigator.globalPrivacyControl. */
  globalPrivacyControl?: boolean;
}

export interface Consent {
  /** The effective state: the shop's choice with Global Privacy Control applied. */
  state(): ConsentState;
  allows(purpose: ConsentPurpose): boolean;
  /** Records the shop's choice (partial updates keep the other category), persists and broadcasts it. */
  update(choice: Partial<ConsentState>): void;
  /** Called with the effective state whenever it changes, here or in another tab. Returns unsubscribe. */
  subscribe(listener: ConsentListener): () => void;
  /** Whether Global Privacy Control is on (upload is then always denied). */
  readonly gpc: boolean;
  /**
   * Erases the stored choice and returns to the defaults (denied under requireConsent), here and
   * in the shop's other tabs, and calls every tab's onForget listeners: part of forget().
   */
  forget(): void;
  /** Called when forget() runs, here or in another tab (before the defaults apply). Returns unsubscribe. */
  onForget(listener: () => void): () => void;
  /** Stops listening to other tabs. */
  close(): void;
}

export const CONSENT_KEY = 'hunch.consent';
export const CONSENT_CHANNEL = 'hunch.consent';

interface StoredConsent extends ConsentState {
  v: 1;
  /** When the shopper chose: newest wins when tabs race. */
  ts: number;
}

/** What forget() broadcasts: the choice is erased as of `ts`, so a choice made before it cannot come back. */
export interface ForgetRecord {
  v: 1;
  forgotten: true;
  ts: number;
}

export function isForgetRecord(value: unknown): value is ForgetRecord {
  const record = value as Partial<ForgetRecord> | null;
  return typeof record === 'object' && record !== null && record.v === 1 && record.forgotten === true && typeof record.ts === 'number';
}

const isValue = (value: unknown): value is ConsentValue => value === 'granted' || value === 'denied';

function parseRecord(value: unknown): StoredConsent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (record.v !== 1 || !isValue(record.personalization_storage) || !isValue(record.analytics_storage)) return undefined;
  return {
    v: 1,
    personalization_storage: record.personalization_storage,
    analytics_storage: record.analytics_storage,
    ts: typeof record.ts === 'number' ? record.ts : 0,
  };
}

function defaultStorage(): ConsentOptions['storage'] {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // Access throws when the shopper blocks site data.
  }
}

function readStored(storage: ConsentOptions['storage']): StoredConsent | undefined {
  try {
    const text = storage?.getItem(CONSENT_KEY);
    return text ? parseRecord(JSON.parse(text)) : undefined;
  } catch (error) {
    logOnce('consent record unreadable', error);
    return undefined;
  }
}

export function createConsent(options: ConsentOptions = {}): Consent {
  const storage = options.storage === undefined ? defaultStorage() : options.storage;
  const gpc = options.globalPrivacyControl ?? (globalThis.navigator as { globalPrivacyControl?: boolean } | undefined)?.globalPrivacyControl === true;
  const initial: ConsentValue = options.requireConsent ? 'denied' : 'granted';
  const defaults = (): StoredConsent => ({ v: 1, personalization_storage: initial, analytics_storage: initial, ts: 0 });
  let choice: StoredConsent = readStored(storage) ?? defaults();
  const listeners = new Set<ConsentListener>();
  const forgetListeners = new Set<() => void>();

  const effective = (): ConsentState => ({
    personalization_storage: choice.personalization_storage,
    analytics_storage: gpc ? 'denied' : choice.analytics_storage,
  });

  function apply(next: StoredConsent): void {
    const before = effective();
    choice = next;
    const after = effective();
    if (before.personalization_storage === after.personalization_storage && before.analytics_storage === after.analytics_storage) return;
    for (const listener of [...listeners]) {
      try {
        listener({ ...after });
      } catch (error) {
        logOnce('consent listener failed', error);
      }
    }
  }

  /**
   * forget() as of `ts`, here or in another tab: the listeners drop what this tab holds, then
   * the defaults apply, stamped `ts` so that a choice made before the forget (an older record
   * still on its way from another tab) is ignored. A choice made here after it stands.
   */
  function forgotten(ts: number): void {
    for (const listener of [...forgetListeners]) {
      try {
        listener();
      } catch (error) {
        logOnce('forget listener failed', error);
      }
    }
    if (ts >= choice.ts) apply({ ...defaults(), ts });
  }

  let channel: BroadcastChannel | undefined;
  if (options.crossTab !== false && typeof BroadcastChannel === 'function') {
    try {
      channel = new BroadcastChannel(CONSENT_CHANNEL);
      channel.onmessage = (message: MessageEvent) => {
        if (isForgetRecord(message.data)) return forgotten(message.data.ts);
        const record = parseRecord(message.data);
        // The sender already persisted it; an older choice never overrides a newer one.
        if (record && record.ts >= choice.ts) apply(record);
      };
    } catch (error) {
      logOnce('consent cannot sync tabs', error);
    }
  }

  return {
    gpc,
    state: effective,
    allows: (purpose) => (purpose === 'storage' ? effective().personalization_storage : effective().analytics_storage) === 'granted',
    update(update) {
      const next: StoredConsent = {
        v: 1,
        personalization_storage: isValue(update.personalization_storage) ? update.personalization_storage : choice.personalization_storage,
        analytics_storage: isValue(update.analytics_storage) ? update.analytics_storage : choice.analytics_storage,
        ts: Math.max(Date.now(), choice.ts + 1),
      };
      try {
        storage?.setItem(CONSENT_KEY, JSON.stringify(next));
      } catch (error) {
        logOnce('consent not persisted', error); // Still applies to this page.
      }
      try {
        channel?.postMessage(next);
      } catch (error) {
        logOnce('consent not broadcast', error);
      }
      apply(next);
    },
    forget() {
      const ts = Math.max(Date.now(), choice.ts + 1);
      try {
        storage?.removeItem?.(CONSENT_KEY);
      } catch (error) {
        logOnce('consent record not erased', error);
      }
      try {
        channel?.postMessage({ v: 1, forgotten: true, ts } satisfies ForgetRecord);
      } catch (error) {
        logOnce('forget not broadcast', error);
      }
      forgotten(ts);
    },
    onForget(listener) {
      forgetListeners.add(listener);
      return () => forgetListeners.delete(listener);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      channel?.close();
      channel = undefined;
      listeners.clear();
      forgetListeners.clear();
    },
  };
}
