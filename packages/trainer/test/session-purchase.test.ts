import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest, sessionPurchaseFeatures, sessionPurchaseProbability, validateEvent, validateSessionPurchaseModel, type HunchEvent } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { writeCheckpoint } from '../src/checkpoint.js';
import type { EventSource } from '../src/event-source.js';
import { exportModel, PURCHASE_FILE } from '../src/export.js';
import { Rng } from '../src/lib/prng.js';
import { cutPoints, fitSessionPurchase, MIN_PURCHASE_SESSIONS } from '../src/session-purchase.js';
import { DEFAULT_EVENT_TRAIN_OPTIONS, trainEvents } from '../src/train-events.js';
import { writeEventsFile } from './event-files.js';
import { catalog, catalogPath } from './helpers.js';

/**
 * Shoppers whose sessions differ by whether they buy: buyers view more products, go back to
 * some, add to cart and check out before the purchase; the others mostly glance and leave
 * (a few add to cart too). Products are the storefront catalog's first 20.
 */
function shoppers(sessions: number, seed: number, { buyShare = 0.3, purchases = true } = {}): HunchEvent[] {
  const rng = new Rng(seed);
  const events: HunchEvent[] = [];
  for (let s = 0; s < sessions; s++) {
    const sessionId = `s${seed}-${s}`;
    const buys = purchases && rng.next() < buyShare;
    let ts = 1_700_000_000_000 + s * 3_600_000;
    let n = 0;
    const add = (name: HunchEvent['name'], params: HunchEvent['params']) => {
      ts += 5_000 + Math.floor(rng.next() * 30_000);
      const event = { id: `${sessionId}-${n++}`, name, ts, sessionId, params };
      expect(validateEvent(event).ok).toBe(true);
      events.push(event as HunchEvent);
    };
    const pool = Array.from({ length: 3 }, () => catalog[Math.floor(rng.next() * 20)]!.id);
    const views = buys ? 3 + Math.floor(rng.next() * 5) : 1 + Math.floor(rng.next() * 3);
    for (let v = 0; v < views; v++) add('view_item', { item_id: buys ? pool[v % pool.length]! : catalog[Math.floor(rng.next() * 20)]!.id });
    if (buys || rng.next() < 0.1) add('add_to_cart', { item_id: pool[0]! });
    if (buys) {
      add('begin_checkout', {});
      add('purchase', { items: [{ item_id: pool[0]! }], value: 10, currency: 'EUR' });
    }
  }
  return events;
}

const memorySource = (events: readonly HunchEvent[]): EventSource => ({
  name: 'memory',
  async scan(onEvent) {
    for (const event of events) onEvent(event);
    return { events: events.length, skipped: 0, skippedLines: [] };
  },
});

/** AUC by pairs: the share of (buyer, other) pairs the scores order right, ties one half. */
function auc(scores: number[], labels: boolean[]): number {
  let right = 0;
  let pairs = 0;
  scores.forEach((a, i) => scores.forEach((b, j) => {
    if (!labels[i] || labels[j]) return;
    pairs++;
    right += a > b ? 1 : a === b ? 0.5 : 0;
  }));
  return right / pairs;
}

describe('the session purchase model hunch train fits', () => {
  it('cuts each session after its 1st, 2nd, 3rd, 5th, 8th ... event and its last before the purchase', () => {
    expect(cutPoints(0)).toEqual([]);
    expect(cutPoints(1)).toEqual([1]);
    expect(cutPoints(4)).toEqual([1, 2, 3, 4]);
    expect(cutPoints(10)).toEqual([1, 2, 3, 5, 8, 10]);
  });

  it('separates buyers from the others on sessions it never saw, cut before the purchase', async () => {
    const fit = await fitSessionPurchase(memorySource(shoppers(300, 1)), 300);
    expect(fit.model).not.toBeNull();
    const model = fit.model!;
    expect(validateSessionPurchaseModel(JSON.parse(JSON.stringify(model))).ok).toBe(true);
    expect(model.features).not.toContain('log_next_buying_step');
    expect(model.fitted).toMatchObject({ sessions: 300 });
    expect(fit.message).toMatch(/^purchase model: fitted on 300 sessions, \d+ with a purchase, \d+ cut points; intercept/);
    // Fresh sessions, cut before their first purchase (the label never shows).
    const test = new Map<string, HunchEvent[]>();
    for (const event of shoppers(200, 2)) test.set(event.sessionId, [...(test.get(event.sessionId) ?? []), event]);
    const sessions = [...test.values()];
    const labels = sessions.map((events) => events.some((e) => e.name === 'purchase'));
    const scores = sessions.map((events) => {
      const first = events.findIndex((e) => e.name === 'purchase');
      return sessionPurchaseProbability(model, sessionPurchaseFeatures(events.slice(0, first === -1 ? undefined : first), null))!;
    });
    expect(auc(scores, labels)).toBeGreaterThan(0.9);
  });

  it('fits none without purchases, or with too few buyers, and says why', async () => {
    const none = await fitSessionPurchase(memorySource(shoppers(100, 3, { purchases: false })), 100);
    expect(none).toEqual({ model: null, message: expect.stringMatching(/^purchase model: not fitted \(100 sessions, 0 with a purchase\): the events hold no purchase after another event; intent\(\)\.purchaseProbability stays the model's next-step value$/) as unknown });
    const few = await fitSessionPurchase(memorySource(shoppers(100, 3, { buyShare: 0.04 })), 100);
    expect(few.model).toBeNull();
    expect(few.message).toMatch(new RegExp(`needs at least ${MIN_PURCHASE_SESSIONS} sessions with a purchase`));
  });

  it('samples sessions by id beyond 50,000 sessions: the same sample on every run', async () => {
    const events = shoppers(300, 1);
    const [a, b] = [await fitSessionPurchase(memorySource(events), 150_000), await fitSessionPurchase(memorySource(events), 150_000)];
    expect(a.message).toMatch(/\(1 in 3 sampled\)/);
    expect(a).toEqual(b);
  });
});

describe('train and export with the session purchase model', () => {
  let work: string;
  beforeAll(async () => {
    await useWasmBackend();
    work = await mkdtemp(join(tmpdir(), 'hunch-session-purchase-'));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });
  const options = { ...DEFAULT_EVENT_TRAIN_OPTIONS, layers: 1, embd: 8, heads: 1, context: 16, epochs: 1, batchTokens: 256, workers: 1, validationShare: 0 };

  it('trainEvents fits it into the checkpoint, and the export ships it as purchase.json, listed with its hash', async () => {
    const events = join(work, 'buyers.ndjson');
    await writeEventsFile(events, shoppers(120, 5));
    const lines: string[] = [];
    const { checkpoint, purchase } = await trainEvents(events, { ...options, log: (line) => lines.push(line) });
    expect(purchase.model).not.toBeNull();
    expect(checkpoint.metadata.purchase).toEqual(purchase.model);
    expect(lines).toContain(purchase.message);
    const dir = join(work, 'checkpoint');
    await writeCheckpoint(dir, checkpoint);
    const out = join(work, 'model');
    const manifest = await exportModel({ checkpoint: dir, catalog: catalogPath, out, quant: ['fp32'] });
    expect(manifest.purchase).toBe(PURCHASE_FILE);
    const bytes = await readFile(join(out, PURCHASE_FILE));
    expect(manifest.files[PURCHASE_FILE]).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(purchase.model);
    const written = parseManifest(JSON.parse(await readFile(join(out, 'hunch.json'), 'utf8')));
    expect(written.purchase).toBe(PURCHASE_FILE);
    expect(written.files[PURCHASE_FILE]).toEqual(manifest.files[PURCHASE_FILE]);
  });

  it('without purchases: no model in the checkpoint, none shipped, and the training output says so', async () => {
    const events = join(work, 'browsers.ndjson');
    await writeEventsFile(events, shoppers(120, 6, { purchases: false }));
    const lines: string[] = [];
    const { checkpoint, purchase } = await trainEvents(events, { ...options, log: (line) => lines.push(line) });
    expect(purchase.model).toBeNull();
    expect(lines.some((line) => line.startsWith('purchase model: not fitted'))).toBe(true);
    expect(checkpoint.metadata).not.toHaveProperty('purchase');
    const dir = join(work, 'checkpoint-none');
    await writeCheckpoint(dir, checkpoint);
    const manifest = await exportModel({ checkpoint: dir, catalog: catalogPath, out: join(work, 'model-none'), quant: ['fp32'] });
    expect(manifest).not.toHaveProperty('purchase');
    expect(Object.keys(manifest.files)).not.toContain(PURCHASE_FILE);
  });

  it('refuses to export a checkpoint whose purchase model is broken', async () => {
    const events = join(work, 'buyers2.ndjson');
    await writeEventsFile(events, shoppers(120, 7));
    const { checkpoint } = await trainEvents(events, options);
    const dir = join(work, 'checkpoint-broken');
    await writeCheckpoint(dir, { ...checkpoint, metadata: { ...checkpoint.metadata, purchase: { ...checkpoint.metadata.purchase!, weights: [1] } } });
    await expect(exportModel({ checkpoint: dir, catalog: catalogPath, out: join(work, 'model-broken'), quant: ['fp32'] })).rejects.toThrow(/hunch-train.json purchase: purchase model weights must be 7 finite numbers/);
  });
});
