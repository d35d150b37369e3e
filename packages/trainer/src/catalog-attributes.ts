/**
 * The attributes `hunch train` learns from a shop's catalog (core's item-attributes.ts): each
 * vocabulary item's attribute names, and the attribute vocabulary, the names that at least
 * MIN_ATTRIBUTE_ITEMS of the model's items share (a name on one item says nothing another item
 * could use; one on no item is never trained).
 */
import { productAttributes, type CatalogItem, type Vocabulary } from '@hunch/core';

export const MIN_ATTRIBUTE_ITEMS = 2;

export interface CatalogAttributes {
  /** The attribute vocabulary, sorted: attribute id = index. */
  names: string[];
  /** Per token id: its attribute ids (empty for tokens that are not items, or have none). */
  byToken: number[][];
  /** How many of the vocabulary's items have at least one attribute. */
  itemsWithAttributes: number;
}

/** The catalog's attributes for `vocabulary`'s items; undefined when no attribute is shared by two items. */
export function catalogAttributes(vocabulary: Vocabulary, products: readonly CatalogItem[]): CatalogAttributes | undefined {
  const byId = new Map(products.map((product) => [product.id, product]));
  const named = vocabulary.items().map(({ tokenId, itemId }) => {
    const product = byId.get(itemId);
    return { tokenId, names: product ? productAttributes(product) : [] };
  });
  const counts = new Map<string, number>();
  for (const { names } of named) for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  const names = [...counts].filter(([, count]) => count >= MIN_ATTRIBUTE_ITEMS).map(([name]) => name).sort();
  if (names.length === 0) return undefined;
  const idOf = new Map(names.map((name, id) => [name, id]));
  const byToken: number[][] = Array.from({ length: vocabulary.size }, () => []);
  let itemsWithAttributes = 0;
  for (const { tokenId, names: own } of named) {
    byToken[tokenId] = own.flatMap((name) => (idOf.has(name) ? [idOf.get(name)!] : []));
    if (byToken[tokenId]!.length > 0) itemsWithAttributes++;
  }
  return { names, byToken, itemsWithAttributes };
}
