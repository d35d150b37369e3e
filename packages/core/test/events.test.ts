import { describe, expect, it } from 'vitest';
import { validateEvent, validateParams } from '../src/index.js';

const base = { id: '6f1c1d2e-0000-4000-8000-000000000001', ts: 1_700_000_000_000, sessionId: 's1' };

describe('validateEvent', () => {
  it('accepts a well-formed event and drops unknown parameters', () => {
    const result = validateEvent({ ...base, name: 'view_item', params: { item_id: 'sku-1', email: 'a@b.c' } });
    expect(result).toEqual({ ok: true, value: { ...base, name: 'view_item', params: { item_id: 'sku-1' } } });
  });

  it.each([
    [{ ...base, name: 'teleport', params: {} }, /unknown event name/],
    [{ ...base, name: 'view_item', params: {} }, /item_id is required/],
    [{ ...base, name: 'search', params: {} }, /search_term is required/],
    [{ ...base, name: 'page_view', params: [] }, /params must be an object/],
    [{ ...base, ts: 'yesterday', name: 'page_view', params: {} }, /ts must be/],
    [{ ...base, id: undefined, name: 'page_view', params: {} }, /id is required/],
    [{ ...base, name: 'purchase', params: { items: [{ price: 3 }] } }, /items\[0\]\.item_id is required/],
    [{ ...base, name: 'purchase', params: { value: Number.NaN } }, /value must be a finite number/],
    ['not an event', /must be an object/],
  ])('rejects %j', (input, message) => {
    const result = validateEvent(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });

  it('keeps items with their known fields', () => {
    const result = validateParams('purchase', { items: [{ item_id: 'a', price: 2, quantity: 1, colour: 'red' }], value: 2 });
    expect(result).toEqual({ ok: true, value: { items: [{ item_id: 'a', price: 2, quantity: 1 }], value: 2 } });
  });
});
