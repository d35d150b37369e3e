/**
 * `hunch train` with a catalog's attributes and the export of its attribute-composed items
 * (export-attributes.ts): the graphs score the composed item table (the trainer's own scores),
 * the attribute file holds the attribute table to int8 tolerance, the browser's composition of a
 * new product (worker/new-items) equals the trainer's for an item known by its attributes alone,
 * and catalog.json keeps the new products the attributes can score, and only those.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ATTR_TABLE, ATTRIBUTE_FILE, ITEM_TABLE, parseCatalog, productAttributes, Vocabulary, type CatalogItem } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAttributeTable } from '../../browser/src/worker/new-items/attribute-table.js';
import { composeNewItems } from '../../browser/src/worker/new-items/compose.js';
import { splitItemHead } from '../../browser/src/worker/item-head/split.js';
import { writeCheckpoint, type Checkpoint } from '../src/checkpoint.js';
import { exportModel, type ExportManifest } from '../src/export.js';
import { ATTR_INDEX, ATTR_LEARNED, ATTR_WEIGHT, composedItemTable } from '../src/next-item/heads.js';
import { NextItemScorer } from '../src/next-item/scorer.js';
import { DEFAULT_EVENT_TRAIN_OPTIONS, trainEvents } from '../src/train-events.js';
import { writeEventsFile } from './event-files.js';
import { catalog, simulated, tinyOptions } from './helpers.js';
import { fixedInput, ortRun } from './parity.js';

const product = (id: string, fields: Partial<CatalogItem>): CatalogItem => ({ id, title: 'Zz', url: `/#/product/${id}`, ...fields });
/** Added after training: a mug the model never saw; one with nothing the model knows; one with no attributes at all. */
const newMug = product('new-mug', { title: 'Stoneware Mug', category: 'mugs', price: 24 });
const strange = product('new-strange', { category: 'no-such-category', brand: 'nobody' });
const bare = product('new-bare', {});

let work: string;
let checkpoint: Checkpoint;
let modelDir: string;
let manifest: ExportManifest;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hunch-export-attributes-'));
  const eventsPath = join(work, 'events.ndjson');
  await writeEventsFile(eventsPath, simulated(200, 4));
  const { layers, embd, heads, context, lr, seed } = tinyOptions;
  ({ checkpoint } = await trainEvents(eventsPath, { ...DEFAULT_EVENT_TRAIN_OPTIONS, layers, embd, heads, context, lr, seed, epochs: 2, batchTokens: 256, workers: 1, catalog }));
  const checkpointDir = join(work, 'checkpoint');
  await writeCheckpoint(checkpointDir, checkpoint);
  const catalogPath = join(work, 'catalog.json');
  await writeFile(catalogPath, JSON.stringify({ products: [...catalog, newMug, strange, bare] }));
  modelDir = join(work, 'model');
  manifest = await exportModel({ checkpoint: checkpointDir, catalog: catalogPath, out: modelDir, quant: ['fp32', 'int8'] });
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const dequantized = (codes: Int8Array, scales: Float32Array, width: number) => Float32Array.from(codes, (code, i) => code * scales[Math.floor(i / width)]!);

/** The largest |a - b| of each row over its tolerance: ≤ 1 everywhere when within it. */
function worstRow(a: Float32Array, b: Float32Array, width: number, tolerance: (row: number) => number): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / tolerance(Math.floor(i / width)));
  return worst;
}

describe('hunch train with catalog attributes', () => {
  it('learns an attribute table over the attributes its items share, named in the checkpoint', () => {
    const names = checkpoint.metadata.attributes!;
    expect(names).toContain('category:mugs');
    expect(names.some((name) => name.startsWith('price:'))).toBe(true);
    expect(names.some((name) => name.startsWith('title:'))).toBe(true);
    expect(checkpoint.weights.get(ATTR_TABLE)!.shape).toEqual([names.length, tinyOptions.embd]);
    const vocabulary = new Vocabulary(checkpoint.metadata.vocabulary);
    // Each item's attribute ids are its catalog attributes that the vocabulary of attributes has.
    const K = checkpoint.weights.get(ATTR_INDEX)!.data.length / vocabulary.size;
    const { tokenId, itemId } = vocabulary.items().find(({ itemId }) => itemId.startsWith('mugs-'))!;
    const slots = Array.from({ length: K }, (_, j) => j).filter((j) => checkpoint.weights.get(ATTR_WEIGHT)!.data[tokenId * K + j]! > 0);
    const ids = slots.map((j) => names[checkpoint.weights.get(ATTR_INDEX)!.data[tokenId * K + j]!]);
    expect(ids.sort()).toEqual(productAttributes(catalog.find((p) => p.id === itemId)!).filter((name) => names.includes(name)).sort());
  });
});

describe('hunch export of attribute-composed items', () => {
  it('ships the attribute file, named and hashed in hunch.json', async () => {
    expect(manifest.attributes).toBe(ATTRIBUTE_FILE);
    const bytes = await readFile(join(modelDir, ATTRIBUTE_FILE));
    expect(manifest.files[ATTRIBUTE_FILE]).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
    const table = readAttributeTable(bytes);
    const trained = checkpoint.weights.get(ATTR_TABLE)!;
    expect([...table.rows.keys()]).toEqual(checkpoint.metadata.attributes);
    expect(worstRow(dequantized(table.codes, table.scales, table.width), trained.data, table.width, (row) => table.scales[row]! / 2 + 1e-7)).toBeLessThanOrEqual(1);
  });

  it('the int8 item table is the composed one, and the graph scores as the trainer does', async () => {
    const composed = composedItemTable(checkpoint.weights);
    const D = checkpoint.config.nEmbd;
    const head = splitItemHead(await readFile(join(modelDir, 'onnx/model_quantized.onnx')))!.head;
    expect(worstRow(dequantized(head.table, head.scales, D), composed, D, (row) => head.scales[row]! / 2 + 1e-7)).toBeLessThanOrEqual(1);
    // Not the learned embedding alone: the attributes are in it.
    expect(worstRow(dequantized(head.table, head.scales, D), checkpoint.weights.get(ITEM_TABLE)!.data, D, (row) => head.scales[row]! / 2 + 1e-7)).toBeGreaterThan(1);

    const vocabulary = new Vocabulary(checkpoint.metadata.vocabulary);
    const { ids, mask, dims } = fixedInput(vocabulary);
    const session = await ort.InferenceSession.create(join(modelDir, 'onnx/model.onnx'));
    const T = dims[1];
    const logits = (await ortRun(session, checkpoint.config, ids.slice(0, T), mask.slice(0, T), [1, T], undefined, 1)).logits!.data as Float32Array;
    await session.release();
    const isItem = new Uint8Array(vocabulary.size).fill(1);
    const scorer = new NextItemScorer(checkpoint.config, checkpoint.weights, isItem);
    const trainer = scorer.scorePrefixes([ids.slice(0, T)]);
    scorer.dispose();
    let worst = 0;
    for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i]! - trainer[i]!));
    expect(worst).toBeLessThan(1e-4);
  });

  it("the browser's vector for a new product is the trainer's for an item known by its attributes alone", async () => {
    const table = readAttributeTable(await readFile(join(modelDir, ATTRIBUTE_FILE)));
    const attributes = productAttributes(newMug);
    const composed = composeNewItems(table, [{ itemId: newMug.id, attributes }], false)!;
    expect(composed.itemIds).toEqual([newMug.id]);
    // The trainer's composition (heads.ts) for one item with no learned part and these attributes.
    const ids = attributes.flatMap((name) => (table.rows.has(name) ? [table.rows.get(name)!] : []));
    expect(ids.length).toBeGreaterThanOrEqual(2); // category and price at least
    const D = table.width;
    const trainer = composedItemTable(
      new Map([
        [ITEM_TABLE, { shape: [1, D], data: new Float32Array(D) }],
        [ATTR_TABLE, checkpoint.weights.get(ATTR_TABLE)!],
        [ATTR_INDEX, { shape: [ids.length], data: Float32Array.from(ids) }],
        [ATTR_WEIGHT, { shape: [ids.length], data: new Float32Array(ids.length).fill(1 / ids.length) }],
        [ATTR_LEARNED, { shape: [1], data: new Float32Array(1) }],
      ]),
    );
    const tolerance = Math.max(...ids.map((id) => table.scales[id]!)) / 2 + composed.head.scales[0]! / 2 + 1e-7;
    expect(worstRow(dequantized(composed.head.table, composed.head.scales, D), trainer, D, () => tolerance)).toBeLessThanOrEqual(1);
  });

  it('catalog.json keeps the new products the attributes can score, after the known ones in no popular list', async () => {
    const exported = parseCatalog(JSON.parse(await readFile(join(modelDir, 'catalog.json'), 'utf8')));
    const ids = exported.products.map((p) => p.id);
    expect(ids).toContain(newMug.id);
    expect(ids).not.toContain(strange.id);
    expect(ids).not.toContain(bare.id);
    expect(exported.popular).not.toContain(newMug.id);
    expect(exported.products.find((p) => p.id === newMug.id)).toEqual(newMug);
  });

  it('refuses a catalog whose attribute fields are malformed, naming the product and field', async () => {
    const badPath = join(work, 'bad-catalog.json');
    await writeFile(badPath, JSON.stringify({ products: [catalog[0], { ...catalog[1], attributes: 'red' }] }));
    await expect(exportModel({ checkpoint: join(work, 'checkpoint'), catalog: badPath, out: join(work, 'never') })).rejects.toThrow(`catalog ${badPath}: products[1].attributes must be an array of non-empty strings`);
  });
});
