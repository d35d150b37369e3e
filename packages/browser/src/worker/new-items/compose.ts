/**
 * Vectors for products the model never saw, composed from their attributes as the trainer
 * composes them (trainer next-item/heads.ts): the mean of the attributes' vectors (and biases),
 * with no learned part; L2-normalised under cosine scoring, as the exported item table is. The
 * rows are quantized to int8 with a scale per row, as the exporter quantizes the item table, so
 * the worker's kernel (item-head/scorer.ts) scores them like the model's own items.
 */
import type { Int8ItemHead } from '../item-head/split.js';
import type { AttributeTable } from './attribute-table.js';

export interface NewItems {
  /** The products scored, in row order. */
  itemIds: string[];
  head: Int8ItemHead;
}

/** Rows for the products with at least one attribute in `table` (the others are left out); undefined when none has. */
export function composeNewItems(
  table: AttributeTable,
  products: ReadonlyArray<{ itemId: string; attributes: readonly string[] }>,
  cosine: boolean,
): NewItems | undefined {
  const { width, codes, scales } = table;
  const itemIds: string[] = [];
  const rows: Float32Array[] = [];
  const biases: number[] = [];
  const vector = new Float32Array(width);
  for (const { itemId, attributes } of products) {
    const found = [...new Set(attributes)].flatMap((name) => (table.rows.has(name) ? [table.rows.get(name)!] : []));
    if (found.length === 0) continue;
    vector.fill(0);
    let bias = 0;
    for (const row of found) {
      const share = scales[row]! / found.length;
      for (let d = 0; d < width; d++) vector[d]! += codes[row * width + d]! * share;
      bias += (table.bias?.[row] ?? 0) / found.length;
    }
    if (cosine) {
      let sum = 0;
      for (let d = 0; d < width; d++) sum += vector[d]! * vector[d]!;
      const norm = Math.sqrt(sum + 1e-12);
      for (let d = 0; d < width; d++) vector[d]! /= norm;
    }
    itemIds.push(itemId);
    rows.push(vector.slice());
    biases.push(bias);
  }
  if (itemIds.length === 0) return undefined;
  const quantized = new Int8Array(itemIds.length * width);
  const rowScales = new Float32Array(itemIds.length);
  rows.forEach((row, r) => {
    let max = 0;
    for (let d = 0; d < width; d++) max = Math.max(max, Math.abs(row[d]!));
    const scale = Math.fround(max / 127);
    rowScales[r] = scale;
    if (scale > 0) for (let d = 0; d < width; d++) quantized[r * width + d] = Math.max(-127, Math.min(127, Math.round(row[d]! / scale)));
  });
  return {
    itemIds,
    head: { query: '', rows: itemIds.length, width, table: quantized, scales: rowScales, bias: table.bias ? Float32Array.from(biases) : undefined },
  };
}
