import { describe, expect, it } from 'vitest';
import type { HunchEvent } from '../src/events.js';
import { chunkEvents, MAX_UPLOAD_BYTES, parseUploadBatch, parseUploadResponse, utf8Length } from '../src/upload.js';

const event = (n: number, params: HunchEvent['params'] = { item_id: `sku-${n}` }): HunchEvent => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  name: 'view_item',
  ts: 1_700_000_000_000 + n,
  sessionId: 's1',
  params,
});

describe('parseUploadBatch', () => {
  it('accepts a valid batch', () => {
    const batch = { v: 1, sentAt: 5, events: [event(1), event(2)] };
    expect(parseUploadBatch(batch)).toEqual({ ok: true, batch, rejected: [] });
  });

  it('rejects one bad event, not the batch, and names it by id or position', () => {
    const bad = { ...event(2), name: 'teleport' };
    const result = parseUploadBatch({ v: 1, sentAt: 5, events: [event(1), bad, 'junk', event(3)] });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.batch.events.map((e) => e.id)).toEqual([event(1).id, event(3).id]);
    expect(result.rejected).toEqual([
      { id: event(2).id, error: expect.stringMatching(/unknown event name/) },
      { id: '#2', error: expect.stringMatching(/must be an object/) },
    ]);
  });

  it('keeps one copy per id and scrubs again', () => {
    const search: HunchEvent = { ...event(4), name: 'search', params: { search_term: 'mugs jane@example.com' } };
    const result = parseUploadBatch({ v: 1, sentAt: 5, events: [search, search] });
    expect(result.ok && result.batch.events).toEqual([{ ...search, params: { search_term: 'mugs [email]' } }]);
  });

  it.each([
    [null, /must be an object/],
    [{ v: 2, sentAt: 1, events: [] }, /unsupported batch version/],
    [{ v: 1, events: [] }, /sentAt/],
    [{ v: 1, sentAt: 1, events: {} }, /events must be an array/],
  ])('rejects the batch %j', (input, message) => {
    const result = parseUploadBatch(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });
});

describe('parseUploadResponse', () => {
  it('reads accepted and rejected ids and tolerates missing lists', () => {
    expect(parseUploadResponse({ accepted: ['a'], rejected: [{ id: 'b', error: 'bad' }, { id: 'c' }] })).toEqual({
      ok: true,
      value: { accepted: ['a'], rejected: [{ id: 'b', error: 'bad' }, { id: 'c', error: 'rejected' }] },
    });
    expect(parseUploadResponse({})).toEqual({ ok: true, value: { accepted: [], rejected: [] } });
    expect(parseUploadResponse({ accepted: [1] }).ok).toBe(false);
    expect(parseUploadResponse('ok').ok).toBe(false);
  });
});

describe('chunkEvents', () => {
  it('counts UTF-8 bytes like TextEncoder', () => {
    for (const text of ['abc', 'é', '€', '😀', 'mug ☕ 😀 é', JSON.stringify('\ud800')]) {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
    }
  });

  it('packs every event once, in order, into bodies of at most maxBytes that parse as batches', () => {
    // Multi-byte text, so a character count would overshoot the byte limit.
    const events = Array.from({ length: 300 }, (_, n) => event(n, { item_id: `sku-${n}`, item_category: '☕'.repeat(n % 50 + 1) }));
    for (const maxBytes of [1000, 4096, MAX_UPLOAD_BYTES]) {
      const { chunks, oversized } = chunkEvents(events, maxBytes, 42);
      expect(oversized).toEqual([]);
      const ids: string[] = [];
      for (const chunk of chunks) {
        const bytes = new TextEncoder().encode(chunk.body).length;
        expect(bytes).toBe(chunk.bytes);
        expect(bytes).toBeLessThanOrEqual(maxBytes);
        const parsed = JSON.parse(chunk.body);
        expect(chunk.body).toBe(JSON.stringify({ v: 1, sentAt: 42, events: parsed.events }));
        expect(parsed.events.map((e: HunchEvent) => e.id)).toEqual(chunk.ids);
        ids.push(...chunk.ids);
      }
      expect(ids).toEqual(events.map((e) => e.id));
      // Greedy: no two neighbouring chunks would have fit together.
      for (let i = 1; i < chunks.length; i++) expect(chunks[i - 1]!.bytes + chunks[i]!.bytes).toBeGreaterThan(maxBytes);
    }
  });

  it('sets aside an event that can never fit', () => {
    const big = event(1, { item_id: 'x', items: Array.from({ length: 100 }, (_, n) => ({ item_id: `sku-${n}` })) });
    const { chunks, oversized } = chunkEvents([event(0), big, event(2)], 500, 1);
    expect(oversized).toEqual([big]);
    expect(chunks.flatMap((c) => c.ids)).toEqual([event(0).id, event(2).id]);
  });

  it('returns nothing for nothing', () => {
    expect(chunkEvents([], 100)).toEqual({ chunks: [], oversized: [] });
  });
});
