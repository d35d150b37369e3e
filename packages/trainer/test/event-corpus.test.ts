import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildVocabulary, encodeHistory, type HunchEvent } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEventCorpus, windows } from '../src/event-corpus.js';
import { groupSessions, writeEventsFile } from './event-files.js';
import { simulated } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/events-with-broken-lines.ndjson', import.meta.url));
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-corpus-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const event = (n: number, sessionId: string, ts: number, name: HunchEvent['name'], params: HunchEvent['params']): HunchEvent => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  name,
  ts,
  sessionId,
  params,
});

describe('windows', () => {
  it('cuts a session into [BOS]-first chunks of the context, every token a target once', () => {
    const rows = windows(Int32Array.from([5, 6, 7, 8, 9]), 1, 2);
    expect(rows.map((r) => Array.from(r))).toEqual([[1, 5, 6], [1, 7, 8], [1, 9]]);
  });
});

describe('readEventCorpus', () => {
  it('skips broken lines with their numbers and orders each session by time', async () => {
    const corpus = await readEventCorpus(fixture, { context: 16, validationShare: 0 });
    expect(corpus.events).toBe(5);
    expect(corpus.skipped).toBe(5);
    expect(corpus.skippedLines.map((s) => s.line)).toEqual([3, 4, 6, 7, 8]);
    expect(corpus.sessions).toBe(2);
    const v = corpus.vocabulary;
    const ids = (...tokens: string[]) => [v.bos, ...tokens.map((t) => v.id(t))];
    // s2's view (earlier ts) comes before its search although the file has them the other way round.
    expect(corpus.train.map((r) => Array.from(r))).toEqual([
      ids('<page_view>', 'item:mugs-01', '<add_to_cart>', 'item:mugs-01'),
      ids('item:tea-03', '<search>', ...v.eventTokens({ name: 'search', params: { search_term: 'Green Tea' } }).slice(1)),
    ]);
    expect(corpus.itemCounts).toEqual({ 'mugs-01': 2, 'tea-03': 1 });
  });

  it('gives the encoding of in-memory training: same vocabulary, same sequences', async () => {
    const events = simulated(120, 5);
    const path = join(work, 'sim.ndjson');
    await writeEventsFile(path, events);
    const corpus = await readEventCorpus(path, { context: 1000, validationShare: 0 });
    const vocabulary = buildVocabulary(events);
    expect(corpus.vocabulary.tokens).toEqual(vocabulary.tokens);
    expect(corpus.vocabulary.merges).toEqual(vocabulary.merges);
    expect(corpus.train.map((r) => Array.from(r))).toEqual(groupSessions(events).map((s) => encodeHistory(s, vocabulary, 2000)));
  });

  it('holds out the latest sessions by start time, interleaved in the file or not', async () => {
    // Sessions a..t start one minute apart; the file interleaves them in reverse pairs.
    const events: HunchEvent[] = [];
    const names = 'abcdefghijklmnopqrst'.split('');
    names.forEach((s, i) => {
      events.push(event(2 * i, s, 1_000_000 + i * 60_000, 'view_item', { item_id: `x-${i}` }));
      events.push(event(2 * i + 1, s, 1_000_000 + i * 60_000 + 1, 'view_item', { item_id: `x-${(i + 1) % 20}` }));
    });
    const path = join(work, 'interleaved.ndjson');
    await writeEventsFile(path, [...events].reverse());
    const corpus = await readEventCorpus(path, { context: 8, validationShare: 0.1 });
    expect(corpus.validationSessions).toBe(2);
    const v = corpus.vocabulary;
    expect(corpus.validation.map((r) => Array.from(r)).sort()).toEqual(
      [[v.bos, v.id('item:x-18'), v.id('item:x-19')], [v.bos, v.id('item:x-19'), v.id('item:x-0')]].sort(),
    );
    expect(corpus.train).toHaveLength(18);
  });

  it('fails with one clear line on an empty or missing file', async () => {
    const empty = join(work, 'empty.ndjson');
    await writeEventsFile(empty, [], ['', '{not json']);
    await expect(readEventCorpus(empty, { context: 8, validationShare: 0 })).rejects.toThrow(`${empty} holds no valid events`);
    await expect(readEventCorpus(join(work, 'missing.ndjson'), { context: 8, validationShare: 0 })).rejects.toThrow(/cannot read .*ENOENT/);
  });
});
