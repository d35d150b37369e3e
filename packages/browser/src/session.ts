/**
 * The session id on each event: renewed after 30 minutes without events (as in GA4), per tab,
 * kept across reloads in sessionStorage. Held in memory so track() costs no storage access:
 * written when the id changes, at most every few seconds otherwise, and on page hide; and
 * only while `persist()` allows (the shopper's storage consent).
 */
import { uuid } from './lib/ids.js';
import { SESSION_KEY } from './lib/names.js';


export const SESSION_TIMEOUT_MS = 30 * 60 * 1000;
/** lastSeen on disk may lag this much: a reload then sees a session up to 5 s older. */
const SAVE_EVERY_MS = 5000;

interface StoredSession {
  id: string;
  lastSeen: number;
}

function read(): StoredSession | undefined {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    const parsed = raw ? (JSON.parse(raw) as Partial<StoredSession>) : undefined;
    return typeof parsed?.id === 'string' && typeof parsed.lastSeen === 'number' ? { id: parsed.id, lastSeen: parsed.lastSeen } : undefined;
  } catch {
    return undefined; // storage disabled or corrupt: start a new session
  }
}

export class SessionClock {
  private session: StoredSession | undefined;
  private savedAt = -Infinity;
  private loaded = false;

  constructor(private readonly persist: () => boolean) {}

  /** The current session id at `now`, starting a new session after inactivity. */
  id(now = Date.now()): string {
    if (!this.loaded && this.persist()) {
      this.loaded = true;
      this.session ??= read();
    }
    let session = this.session;
    if (!session || now - session.lastSeen >= SESSION_TIMEOUT_MS) {
      session = this.session = { id: uuid(), lastSeen: now };
      this.save();
    } else {
      session.lastSeen = now;
      if (now - this.savedAt >= SAVE_EVERY_MS) this.save();
    }
    return session.id;
  }

  /** Writes the session to sessionStorage if allowed (also called on page hide). */
  save(): void {
    if (!this.session || !this.persist()) return;
    this.savedAt = this.session.lastSeen;
    try {
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(this.session));
    } catch {
      // sessionStorage unavailable: the id lives as long as this page
    }
  }

  /** Ends the session and erases it from sessionStorage. */
  forget(): void {
    this.session = undefined;
    this.savedAt = -Infinity;
    try {
      sessionStorage.removeItem(SESSION_KEY);
    } catch {
      // nothing stored
    }
  }
}
