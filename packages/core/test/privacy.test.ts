import { describe, expect, it } from 'vitest';
import { validateParams } from '../src/events.js';
import { isDeniedParam, luhnValid, ibanValid, scrubParams, scrubPath, scrubText } from '../src/privacy.js';
import golden from './golden-privacy.json' with { type: 'json' };

describe('scrubText (golden vectors)', () => {
  it.each(golden.scrubText.map((c) => [c.why, c.in, c.out] as const))('%s: %j', (_why, input, expected) => {
    expect(scrubText(input)).toBe(expected);
  });

  it('is idempotent, so the collector can scrub again', () => {
    for (const { out } of golden.scrubText) expect(scrubText(out)).toBe(out);
  });
});

describe('scrubPath (golden vectors)', () => {
  it.each(golden.scrubPath.map((c) => [c.why, c.in, c.out] as const))('%s: %j', (_why, input, expected) => {
    expect(scrubPath(input)).toBe(expected);
  });

  it('is idempotent', () => {
    for (const { out } of golden.scrubPath) expect(scrubPath(out)).toBe(out);
  });

  it('lets a shop allow more parameters, but never denied ones', () => {
    expect(scrubPath('/x?shelf=3&email=a%40b.c', { allowParams: ['shelf', 'email'] })).toBe('/x?shelf=3');
  });
});

describe('cost', () => {
  it('stays linear on hostile input', () => {
    // 40,000 characters each: a quadratic pattern takes seconds on these, linear ones milliseconds.
    const n = 20_000;
    const hostile = ['1 '.repeat(n), '1-'.repeat(n), 'a'.repeat(2 * n), 'a.'.repeat(n) + '@', '1'.repeat(2 * n), 'a@b.'.repeat(n / 2), 'DE89 '.repeat(n / 2)];
    const started = performance.now();
    for (const text of hostile) scrubText(text);
    scrubPath(`/${'x/'.repeat(n)}?q=${'1 '.repeat(n)}`);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('checksums and the deny-list', () => {
  it('checks Luhn and IBAN mod-97', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(ibanValid('DE88 3704 0044 0532 0130 00')).toBe(false);
  });

  it.each(['email', 'E-Mail', 'customerEmail', 'x_auth_token', 'PHPSESSID', 'gclid', 'dclid', 'phone'])('denies %s', (name) => {
    expect(isDeniedParam(name)).toBe(true);
  });

  it.each(['page', 'sort', 'q', 'utm_source', 'size'])('does not deny %s', (name) => {
    expect(isDeniedParam(name)).toBe(false);
  });
});

describe('scrubParams', () => {
  it('scrubs search_term and page_path and leaves the rest', () => {
    const params = { search_term: 'mugs for jane@example.com', page_path: 'https://shop.example/c/mugs?email=x&page=2#y', item_id: 'sku-1', value: 3 };
    expect(scrubParams('search', params)).toEqual({ search_term: 'mugs for [email]', page_path: '/c/mugs?page=2', item_id: 'sku-1', value: 3 });
    expect(params.search_term).toBe('mugs for jane@example.com');
  });

  it('keeps scrubbed params valid', () => {
    const scrubbed = scrubParams('page_view', { page_path: '/x?q=4111111111111111' });
    expect(validateParams('page_view', scrubbed).ok).toBe(true);
  });
});
