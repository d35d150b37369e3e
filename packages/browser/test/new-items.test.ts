/**
 * The worker's scoring of new products (worker/new-items): the query the graph's head uses,
 * exposed by query-output.ts for onnxruntime's own head, is the one the logits come from; and a
 * new product composed of an attribute whose vector is a known item's row scores as that item does.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ItemScorer } from '../src/worker/item-head/scorer.js';
import { splitItemHead } from '../src/worker/item-head/split.js';
import { composeNewItems } from '../src/worker/new-items/compose.js';
import { withQueryOutput } from '../src/worker/new-items/query-output.js';
import { exportedWithHeads, maxAbsDiff, step } from './lib/exported-gpt2.js';

const layout = { layers: 2, heads: 2, headDim: 16 };
const WIDTH = 32;

async function run(bytes: Uint8Array) {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'basic' });
  try {
    return { outputNames: session.outputNames, outputs: await step(session, layout, [5, 17, 40, 3], 77) };
  } finally {
    await session.release();
  }
}

describe('the graph head’s query as an output (query-output.ts)', () => {
  it.each(['fp32', 'int8', 'q4'] as const)('%s: adds the query, leaves the logits as they were', async (variant) => {
    const { bytes } = exportedWithHeads(variant);
    const exposed = withQueryOutput(bytes, WIDTH)!;
    expect(exposed).toBeDefined();
    const before = await run(bytes);
    const after = await run(exposed.body);
    expect(after.outputNames).toEqual([...before.outputNames, exposed.query]);
    expect(after.outputs[exposed.query]!.dims).toEqual([1, 1, WIDTH]);
    expect(maxAbsDiff(after.outputs.logits!.data as Float32Array, before.outputs.logits!.data as Float32Array)).toBe(0);
  });

  it('int8: the query is what the logits are computed from, and a new product made of a known row scores as that item', async () => {
    const { bytes } = exportedWithHeads('int8');
    const exposed = withQueryOutput(bytes, WIDTH)!;
    const { outputs } = await run(exposed.body);
    const query = Float32Array.from(outputs[exposed.query]!.data as Float32Array);
    const logits = outputs.logits!.data as Float32Array;
    const { head } = splitItemHead(bytes)!;
    const scored = new Float32Array(head.rows);
    ItemScorer.create(head)!.score(query, scored);
    expect(maxAbsDiff(scored, logits)).toBeLessThan(1e-3);

    // An attribute table of two known rows, 7 and 250: new products of one of them score as it does.
    const rows = [7, 250];
    const table = {
      rows: new Map([['category:a', 0], ['category:b', 1]]),
      width: WIDTH,
      codes: Int8Array.from(rows.flatMap((r) => Array.from(head.table.subarray(r * WIDTH, (r + 1) * WIDTH)))),
      scales: Float32Array.from(rows, (r) => head.scales[r]!),
      bias: Float32Array.from(rows, (r) => head.bias![r]!),
    };
    const composed = composeNewItems(table, [{ itemId: 'new-a', attributes: ['category:a', 'title:unknown'] }, { itemId: 'none', attributes: ['title:unknown'] }, { itemId: 'new-b', attributes: ['category:b'] }], false)!;
    expect(composed.itemIds).toEqual(['new-a', 'new-b']);
    const fresh = new Float32Array(2);
    ItemScorer.create(composed.head)!.score(query, fresh);
    // A row of one attribute is that attribute's row: its int8 codes and scale come out as they went in.
    expect(maxAbsDiff(fresh, rows.map((r) => logits[r]!))).toBeLessThan(1e-3);
    expect(Math.min(...rows.map((r) => Math.abs(head.bias![r]!)))).toBeGreaterThan(0.01); // the bias counts
  });
});
