/**
 * Item attributes (issue 21 part 2, "new products without retraining"): what the catalog knows
 * of a product, as attribute names a model learns a vector for. An item's vector is its learned
 * embedding plus the mean of its attributes' vectors, so a product the model never saw (added to
 * catalog.json after training) is scored by its attributes alone. The trainer names each known
 * item's attributes with productAttributes, the browser's worker names the new products' the same
 * way, and both look them up in the model's attribute vocabulary (the attribute file's names).
 */
import type { CatalogItem } from './catalog.js';

/** The attribute file of an export (hunch.json `attributes`, listed in `files`): safetensors, see below. */
export const ATTRIBUTE_FILE = 'attributes.safetensors';
/**
 * Its tensors: the attribute table [A, D] as int8 codes (int8Codes) with one scale per row
 * (int8Scales), quantized as the exported item table is, and, when the model has an item bias,
 * each attribute's bias [A] (float32). Its `__metadata__.attributes` is the JSON array of the A
 * attribute names, in row order.
 */
export const ATTR_TABLE = 'hunch.attr.table';
export const ATTR_BIAS = 'hunch.attr.bias';
export const ATTRIBUTE_NAMES_KEY = 'attributes';

/** Title words shorter than this are not attributes (sizes, single letters). */
const MIN_WORD = 3;

/**
 * A price's bucket: half an octave wide (×√2), so "about the same price" shares a bucket at any
 * price level. Undefined for a missing or non-positive price.
 */
export function priceBucket(price: number | undefined): number | undefined {
  return price !== undefined && price > 0 && Number.isFinite(price) ? Math.floor(2 * Math.log2(price)) : undefined;
}

/**
 * A product's attribute names, each once: `category:`, `brand:`, `attribute:` (each of
 * `attributes`), `price:` (its priceBucket) and `title:` (each lower-cased word of 3 or more
 * letters or digits of its title).
 */
export function productAttributes(product: Partial<Pick<CatalogItem, 'category' | 'brand' | 'attributes' | 'price' | 'title'>>): string[] {
  // Fields of the wrong type (a catalog the browser reads is not re-validated) are ignored.
  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
  const names = new Set<string>();
  const category = text(product.category);
  if (category) names.add(`category:${category}`);
  const brand = text(product.brand);
  if (brand) names.add(`brand:${brand}`);
  if (Array.isArray(product.attributes)) for (const attribute of product.attributes) if (text(attribute)) names.add(`attribute:${attribute}`);
  const bucket = typeof product.price === 'number' ? priceBucket(product.price) : undefined;
  if (bucket !== undefined) names.add(`price:${bucket}`);
  for (const word of (text(product.title) ?? '').toLowerCase().split(/[^\p{L}\p{N}]+/u)) if (word.length >= MIN_WORD) names.add(`title:${word}`);
  return [...names];
}

/** Why products[index]'s attribute fields cannot be used, or undefined when they can (absent fields are fine). */
export function attributeFieldsError(product: Partial<CatalogItem>, index: number): string | undefined {
  const where = `products[${index}]`;
  for (const field of ['category', 'brand'] as const) {
    if (product[field] !== undefined && typeof product[field] !== 'string') return `${where}.${field} must be a string`;
  }
  const { attributes, price } = product;
  if (attributes !== undefined && !(Array.isArray(attributes) && attributes.every((a) => typeof a === 'string' && a.length > 0))) {
    return `${where}.attributes must be an array of non-empty strings`;
  }
  if (price !== undefined && !(typeof price === 'number' && Number.isFinite(price) && price >= 0)) return `${where}.price must be a number of at least 0`;
  return undefined;
}
