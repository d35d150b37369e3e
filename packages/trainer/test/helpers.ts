/** Shared test inputs: the storefront catalog and small simulated event sets. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ITEM_BIAS, ITEM_TABLE, REPEAT_BIAS, REPEAT_WEIGHT, type CatalogItem, type HunchEvent } from '@hunch/core';
import { expect } from 'vitest';
import type { ShardOutput } from '../src/next-item/loss.js';
import type { ParamLayout } from '../src/next-item/param-layout.js';
import { simulateEvents } from '../src/simulate.js';

export const catalogPath = fileURLToPath(new URL('../../../examples/storefront/catalog.json', import.meta.url));
export const catalog = (JSON.parse(readFileSync(catalogPath, 'utf8')) as { products: CatalogItem[] }).products;

export function simulated(sessions: number, seed: number): HunchEvent[] {
  return [...simulateEvents(catalog, { sessions, seed })];
}

export const tinyOptions = { layers: 2, embd: 16, heads: 2, context: 16, batch: 16, lr: 5e-3, seed: 3 };

/**
 * Central finite differences (step 1e-2) against analytic gradients, on the 3 largest
 * entries of each named parameter, each within `tolerance` (relative to the gradient, plus
 * an absolute part); returns how many entries were compared.
 */
export function expectFiniteDifferences(
  params: Float32Array,
  view: (name: string) => Float32Array,
  analytic: Map<string, Float32Array>,
  names: string[],
  loss: () => number,
  tolerance = { relative: 0.03, absolute: 1e-3 },
): number {
  const eps = 1e-2;
  let compared = 0;
  for (const name of names) {
    const g = analytic.get(name)!;
    const values = view(name);
    for (const i of [...g.keys()].sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!)).slice(0, 3)) {
      const original = values[i]!;
      values[i] = original + eps;
      const up = loss();
      values[i] = original - eps;
      const down = loss();
      values[i] = original;
      const numeric = (up - down) / (2 * eps);
      expect(Math.abs(numeric - g[i]!), `${name}[${i}] analytic ${g[i]} numeric ${numeric}`).toBeLessThan(tolerance.relative * Math.abs(g[i]!) + tolerance.absolute);
      compared++;
    }
  }
  return compared;
}

/**
 * A shard's gradients (next-item/loss.ts) of a model with the item-bias and repeat heads
 * against finite differences: the heads, the item table (its sparse rows made dense) and a
 * few trunk tensors.
 */
export function expectHeadGradients(out: ShardOutput, layout: ParamLayout, params: Float32Array, lossAt: () => number): void {
  const [V, D] = layout.byName.get(ITEM_TABLE)!.shape as [number, number];
  const analytic = new Map<string, Float32Array>(out.dense);
  const wte = new Float32Array(V * D);
  const bias = new Float32Array(V);
  out.rows.forEach((token, u) => {
    wte.set(out.wteGrad.subarray(u * D, u * D + D), token * D);
    bias[token] = out.biasGrad![u]!;
  });
  analytic.set(ITEM_TABLE, wte);
  analytic.set(ITEM_BIAS, bias);
  const checked = [ITEM_TABLE, ITEM_BIAS, REPEAT_WEIGHT, REPEAT_BIAS, 'transformer.wpe.weight', 'transformer.h.0.attn.c_attn.weight', 'transformer.h.1.mlp.c_fc.weight', 'transformer.ln_f.bias'];
  const compared = expectFiniteDifferences(params, (name) => layout.view(params, name), analytic, checked, lossAt);
  expect(compared).toBe((checked.length - 1) * 3 + 1); // hunch.repeat.bias has one entry
}
