/** Shared test inputs: the storefront catalog and small simulated event sets. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CatalogItem, HunchEvent } from '@hunch/core';
import { simulateEvents } from '../src/simulate.js';

export const catalogPath = fileURLToPath(new URL('../../../examples/storefront/catalog.json', import.meta.url));
export const catalog = (JSON.parse(readFileSync(catalogPath, 'utf8')) as { products: CatalogItem[] }).products;

export function simulated(sessions: number, seed: number): HunchEvent[] {
  return [...simulateEvents(catalog, { sessions, seed })];
}

export const tinyOptions = { layers: 2, embd: 16, heads: 2, context: 16, batch: 16, lr: 5e-3, seed: 3 };
