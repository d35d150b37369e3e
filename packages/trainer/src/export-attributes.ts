/**
 * Export of an attribute-composed checkpoint (next-item/heads.ts ATTR_TABLE): the graphs and
 * model.safetensors get the item table and bias as the model uses them (each known item's
 * learned part plus its attributes' mean), so every engine scores the known items unchanged,
 * and the attribute file (core's ATTRIBUTE_FILE) ships the attribute table, int8 with a scale per
 * row as the item table is, with the attribute biases and names: from it the browser composes
 * vectors for catalog products the model never saw.
 */
import { ATTR_BIAS, ATTR_TABLE, ATTRIBUTE_NAMES_KEY, int8Codes, int8Scales, ITEM_BIAS, ITEM_TABLE, productAttributes, type CatalogItem } from '@hunch/core';
import type { Checkpoint } from './checkpoint.js';
import { ATTR_INDEX, composedItemBias, composedItemTable } from './next-item/heads.js';
import { quantizeInt8 } from './onnx/quantize.js';
import { encodeRawSafetensors, littleEndianFloats, type TensorMap } from './safetensors.js';

/** The attribute heads a checkpoint's tensors imply (count, slots per item), or undefined without them. */
export function attributeHeadsOf(weights: TensorMap, vocabSize: number): { count: number; perItem: number } | undefined {
  const table = weights.get(ATTR_TABLE);
  if (!table) return undefined;
  const slots = weights.get(ATTR_INDEX)?.data.length ?? vocabSize;
  return { count: table.shape[0]!, perItem: Math.max(1, Math.floor(slots / vocabSize)) };
}

/** Throws unless the checkpoint's metadata names one attribute per row of its attribute table. */
export function checkAttributeNames(checkpoint: Checkpoint, count: number, where: string): string[] {
  const names = checkpoint.metadata.attributes;
  if (!Array.isArray(names) || names.length !== count || !names.every((name) => typeof name === 'string')) {
    throw new Error(`${where}: hunch-train.json attributes must name the ${count} attributes of ${ATTR_TABLE}, got ${Array.isArray(names) ? `${names.length} names` : JSON.stringify(names)}`);
  }
  if (new Set(names).size !== names.length) throw new Error(`${where}: hunch-train.json attributes repeat a name`);
  return names;
}

/** The weights as a plain GPT-2 (plus heads) computes them: composed item table and bias, the attribute tensors gone. */
export function composedWeights(weights: TensorMap): TensorMap {
  const table = composedItemTable(weights);
  const bias = composedItemBias(weights);
  const out: TensorMap = new Map();
  for (const [name, tensor] of weights) {
    if (name.startsWith('hunch.attr.')) continue;
    if (name === ITEM_TABLE) out.set(name, { shape: tensor.shape, data: table });
    else if (name === ITEM_BIAS && bias) out.set(name, { shape: tensor.shape, data: bias });
    else out.set(name, tensor);
  }
  return out;
}

/** The attribute file's bytes (safetensors: core's item-attributes.ts names its tensors). */
export function attributeFile(weights: TensorMap, names: readonly string[]): Uint8Array {
  const table = weights.get(ATTR_TABLE)!;
  const [A, D] = table.shape as [number, number];
  const { q, scales } = quantizeInt8(table.data, A, D, 0);
  const bias = weights.get(ATTR_BIAS);
  return encodeRawSafetensors(
    [
      { name: int8Codes(ATTR_TABLE), dtype: 'I8', shape: [A, D], bytes: new Uint8Array(q.buffer, q.byteOffset, q.byteLength) },
      { name: int8Scales(ATTR_TABLE), dtype: 'F32', shape: [A], bytes: littleEndianFloats(scales) },
      ...(bias ? [{ name: ATTR_BIAS, dtype: 'F32' as const, shape: [A], bytes: littleEndianFloats(bias.data) }] : []),
    ],
    { [ATTRIBUTE_NAMES_KEY]: JSON.stringify(names) },
  );
}

/** The catalog products the model never saw that the attribute file can score: at least one attribute of `names`. */
export function newProductsWithAttributes(products: readonly CatalogItem[], known: ReadonlySet<string>, names: readonly string[]): CatalogItem[] {
  const vocabulary = new Set(names);
  return products.filter((product) => !known.has(product.id) && productAttributes(product).some((name) => vocabulary.has(name)));
}
