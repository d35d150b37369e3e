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
    [{ ...base, name: 'experience_impression', params: { experiment_id: 'recs-home' } }, /experiment_id and variant_id are required/],
    [{ ...base, name: 'page_view', params: {}, shopperId: 'jane@example.com' }, /shopperId must be/],
    [{ ...base, name: 'page_view', params: {}, shopperId: 'short' }, /shopperId must be/],
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

  it('keeps an exposure with its experiment and variant, and the shopper id it was uploaded with', () => {
    const shopperId = '3b241101-e2bb-4255-8caf-4136c566a962';
    const input = { ...base, name: 'experience_impression', params: { experiment_id: 'recs-home', variant_id: 'model', item_list_id: 'home' }, shopperId };
    expect(validateEvent(input)).toEqual({ ok: true, value: input });
  });
});
