/**
 * New products without retraining: the catalog's products the model never saw, scored from their
 * attributes. With hunch.json's `attributes` (an export of attribute-composed items), each such
 * catalog.json product with an attribute the model knows gets a vector composed from the
 * attribute table (compose.ts) and joins the scored items after the vocabulary's tokens: its
 * logit is at vocabulary size + its row, scored by the kernel from each step's query; on the
 * worker's own engine the same vector is its input embedding, so a history that names it
 * counts (onnxruntime's graph embeds known tokens only: there it stays the unknown token). Anything
 * that fails here is logged once and leaves the model's own items, as before.
 */
import { productAttributes } from '@hunch/core';
import { logOnce } from '../../lib/log.js';
import { ItemScorer } from '../item-head/scorer.js';
import type { ModelCatalog } from '../catalog-shards.js';
import type { LoadedModel } from '../loaded-model.js';
import { verifiedModelFile } from '../model-files.js';
import { readAttributeTable } from './attribute-table.js';
import { composeNewItems } from './compose.js';

/** `loaded` with the catalog's new products among its items (and `newItems` to score them), or `loaded` itself when there are none. */
export async function withNewItems(modelUrl: string, loaded: LoadedModel, catalog: ModelCatalog): Promise<LoadedModel> {
  const { manifest, runner } = loaded;
  const path = manifest.attributes;
  if (path === undefined) return loaded;
  try {
    if (!runner.returnsQuery) throw new Error(`${runner.engine} on ${loaded.backend} gives no query to score them with`);
    const table = readAttributeTable(new Uint8Array(await verifiedModelFile(modelUrl, path, manifest.files[path]!)));
    // A sharded catalog lists its new products in its index: their shards are read first.
    const listed = catalog.ids();
    await loaded.items.ensureIds(listed);
    const ids = listed.filter((itemId) => loaded.items.indexOf(itemId) === undefined);
    await catalog.ensure(ids);
    const products = ids.flatMap((itemId) => {
      const entry = catalog.entry(itemId);
      return entry ? [{ itemId, attributes: productAttributes(entry) }] : [];
    });
    const composed = composeNewItems(table, products, Boolean(manifest.onnx?.cosineScale));
    const scorer = composed && ItemScorer.create(composed.head);
    if (!composed || !scorer) return loaded;
    const { rows, table: codes, scales } = composed.head;
    runner.embedNewItems?.({ rows, table: codes, scales });
    return { ...loaded, items: loaded.items.withNew(composed.itemIds, loaded.vocabularySize), newItems: scorer, newItemsEmbedded: runner.embedNewItems !== undefined };
  } catch (error) {
    logOnce('new products not scored', error);
    return loaded;
  }
}
