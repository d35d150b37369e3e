/** Shared test inputs: the storefront catalog and small simulated event sets. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CatalogItem, HunchEvent } from '@hunch/core';
import { expect } from 'vitest';
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
