import { uuid } from './lib/ids.js';

const SESSION_KEY = 'hunch.session';
/** A session ends after 30 minutes without events, as in GA4. */
const SESSION_TIMEOUT_MS = 30 * 60 * 1000;

interface StoredSession {
  id: string;
  lastSeen: number;
}

/** The current session id, renewed after inactivity; per tab, kept across reloads. */
export function currentSessionId(now = Date.now()): string {
  let stored: StoredSession | undefined;
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    stored = raw ? (JSON.parse(raw) as StoredSession) : undefined;
  } catch {
    stored = undefined; // storage disabled or corrupt: start a new session
  }
  const session = stored && now - stored.lastSeen < SESSION_TIMEOUT_MS ? { id: stored.id, lastSeen: now } : { id: uuid(), lastSeen: now };
  try {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  } catch {
    // sessionStorage unavailable: the id lives as long as this page
  }
  return session.id;
}

export function forgetSession(): void {
  try {
    sessionStorage.removeItem(SESSION_KEY);
  } catch {
    // nothing stored
  }
}
