/**
 * Per-client rate limiting: a token bucket per key (the client's IP). A client may burst up
 * to `burst` tokens, then gets `rate` tokens a second. Buckets that have refilled are dropped,
 * so memory follows the clients seen lately, not all clients ever seen.
 */

export interface RateLimitOptions {
  /** Tokens added per second to each client's bucket. */
  rate: number;
  /** Bucket size, the largest burst (default 5 s worth of `rate`). */
  burst?: number;
  /**
   * What one token pays for: an event (default: a batch costs its events, at least one, or
   * its body's bytes, whichever is more: see the collector's BYTES_PER_TOKEN) or a request.
   */
  per?: 'event' | 'request';
}

export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly rate: number;
  readonly burst: number;
  readonly per: 'event' | 'request';
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate)) throw new Error(`rate limit must be a positive number, got ${options.rate}`);
    this.rate = options.rate;
    this.burst = options.burst ?? Math.max(1, options.rate * 5);
    if (!(this.burst >= 1)) throw new Error(`rate limit burst must be at least 1, got ${options.burst}`);
    this.per = options.per ?? 'event';
  }

  /**
   * Takes `cost` tokens from `key`'s bucket, or says how many whole seconds until it could.
   * A cost above the bucket size is charged as a full bucket: otherwise that batch could never pass.
   */
  take(key: string, cost: number, now: number = Date.now()): Admission {
    const need = Math.min(Math.max(cost, 1), this.burst);
    const bucket = this.refilled(key, now);
    if (bucket.tokens >= need) {
      bucket.tokens -= need;
      this.buckets.set(key, bucket);
      return { ok: true };
    }
    this.buckets.set(key, bucket);
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((need - bucket.tokens) / this.rate)) };
  }

  /** Forgets buckets that are full again: they are the same as no bucket. */
  sweep(now: number = Date.now()): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.rate >= this.burst) this.buckets.delete(key);
    }
  }

  /** Clients with a bucket (for tests and monitoring). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, now: number): Bucket {
    const bucket = this.buckets.get(key);
    if (!bucket) return { tokens: this.burst, at: now };
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    return { tokens: Math.min(this.burst, bucket.tokens + elapsed * this.rate), at: now };
  }
}
