/** Reads a shop catalog file: `{ products: CatalogItem[] }` (other fields are ignored), its attribute fields checked. */
import { readFile } from 'node:fs/promises';
import { attributeFieldsError, type CatalogItem } from '@hunch/core';

export async function readCatalog(path: string): Promise<CatalogItem[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? 'not valid JSON';
    throw new Error(`cannot read catalog ${path}: ${why}`);
  }
  const products = (parsed as { products?: unknown } | null)?.products;
  if (!Array.isArray(products)) throw new Error(`catalog ${path}: "products" must be an array`);
  products.forEach((product: unknown, index) => {
    const p = product as Partial<CatalogItem> | null;
    if (typeof p?.id !== 'string' || typeof p.title !== 'string' || typeof p.url !== 'string') {
      throw new Error(`catalog ${path}: products[${index}] needs string id, title and url`);
    }
    const error = attributeFieldsError(p, index);
    if (error) throw new Error(`catalog ${path}: ${error}`);
  });
  return products as CatalogItem[];
}
