import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/rate-limit.js';

describe('RateLimiter', () => {
  it('lets a client burst, then refills at the rate, and says when to come back', () => {
    const limiter = new RateLimiter({ rate: 10, burst: 30 });
    expect(limiter.take('a', 25, 0)).toEqual({ ok: true });
    // 5 left; 25 needed: 2 s at 10 a second.
    expect(limiter.take('a', 25, 0)).toEqual({ ok: false, retryAfterSeconds: 2 });
    // Another client has its own bucket.
    expect(limiter.take('b', 30, 0)).toEqual({ ok: true });
    expect(limiter.take('a', 25, 1999)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take('a', 25, 2000)).toEqual({ ok: true });
    // Never more than the bucket holds, however long the client was away.
    expect(limiter.take('a', 30, 3_600_000)).toEqual({ ok: true });
    expect(limiter.take('a', 1, 3_600_000)).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('charges a batch larger than the bucket as a full bucket, and an empty one as one token', () => {
    const limiter = new RateLimiter({ rate: 1, burst: 5 });
    expect(limiter.take('a', 400, 0)).toEqual({ ok: true });
    expect(limiter.take('a', 400, 0)).toEqual({ ok: false, retryAfterSeconds: 5 });
    expect(limiter.take('a', 0, 1000)).toEqual({ ok: true });
    expect(limiter.take('a', 0, 1000)).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('forgets clients whose bucket is full again', () => {
    const limiter = new RateLimiter({ rate: 100 });
    expect(limiter.burst).toBe(500);
    expect(limiter.per).toBe('event');
    limiter.take('a', 500, 0);
    limiter.take('b', 100, 0);
    limiter.sweep(999);
    expect(limiter.size).toBe(2);
    // b is full again after 1 s (400 + 100), a after 5 s.
    limiter.sweep(1000);
    expect(limiter.size).toBe(1);
    limiter.sweep(5000);
    expect(limiter.size).toBe(0);
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => new RateLimiter({ rate: 0 })).toThrow('rate limit must be a positive number, got 0');
    expect(() => new RateLimiter({ rate: Number.NaN })).toThrow(/positive number/);
    expect(() => new RateLimiter({ rate: 1, burst: 0.5 })).toThrow('rate limit burst must be at least 1, got 0.5');
  });
});
