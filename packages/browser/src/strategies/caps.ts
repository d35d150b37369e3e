/**
 * Frequency caps and incentive budgets: how many decisions other than `none` each strategy took
 * this session and today, and the incentive cost it offered today. Counted in memory for the page, and kept in localStorage (`hunch.strategies`) only with
 * personalization_storage consent, so that caps hold across pages and visits; withdrawing that
 * consent or forget() (in any tab) erases them.
 */
import type { Consent } from '../consent.js';
import { STRATEGIES_KEY } from '../lib/names.js';

interface Count {
  day: string;
  perDay: number;
  session: string;
  perSession: number;
  /** Incentive cost offered today. */
  spent: number;
}

export interface Caps {
  /** Decisions other than `none` of `strategy` in `session` and today so far, and the incentive cost it offered today. */
  count(strategy: string, session: string): { perSession: number; perDay: number; spent: number };
  /** One more, costing `cost` (an incentive's). */
  add(strategy: string, session: string, cost?: number): void;
}

/** The local calendar day. */
const today = (now = new Date()) => `${now.getFullYear()}-${now.getMonth() + 1}-${now.getDate()}`;

export function createCaps(consent: Consent): Caps {
  let counts: Record<string, Count> | undefined;
  const erase = () => {
    counts = {};
    try {
      localStorage.removeItem(STRATEGIES_KEY);
    } catch {
      // Site data blocked: nothing was stored.
    }
  };
  consent.onForget(erase);
  consent.subscribe((state) => state.personalization_storage === 'denied' && erase());

  const load = (): Record<string, Count> => {
    if (counts) return counts;
    counts = {};
    if (!consent.allows('storage')) return counts;
    try {
      const stored: unknown = JSON.parse(localStorage.getItem(STRATEGIES_KEY) ?? '{}');
      if (stored && typeof stored === 'object') counts = stored as Record<string, Count>;
    } catch {
      // Blocked or corrupt: counted afresh.
    }
    return counts;
  };

  const current = (strategy: string, session: string): Count => {
    const day = today();
    const count = load()[strategy];
    const valid = count && typeof count.perDay === 'number' && typeof count.perSession === 'number';
    const sameDay = valid && count.day === day;
    return {
      day,
      perDay: sameDay ? count.perDay : 0,
      session,
      perSession: valid && count.session === session ? count.perSession : 0,
      spent: sameDay && typeof count.spent === 'number' ? count.spent : 0,
    };
  };

  return {
    count(strategy, session) {
      const { perDay, perSession, spent } = current(strategy, session);
      return { perDay, perSession, spent };
    },
    add(strategy, session, cost = 0) {
      const count = current(strategy, session);
      load()[strategy] = { ...count, perDay: count.perDay + 1, perSession: count.perSession + 1, spent: count.spent + cost };
      if (!consent.allows('storage')) return;
      try {
        localStorage.setItem(STRATEGIES_KEY, JSON.stringify(counts));
      } catch {
        // Full or blocked: the page's count still holds.
      }
    },
  };
}
