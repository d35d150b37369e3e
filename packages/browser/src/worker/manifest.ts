/**
 * hunch.json as the page and the worker read it: revalidated (a 304 from the HTTP cache when
 * unchanged), else — offline, a failing server, a broken file — the copy kept with the cached
 * model files. The worker reads its own copy: a big shop's manifest (tens of thousands of
 * tokens) would cost the page's main thread hundreds of milliseconds to copy into the worker.
 * catalog.json, the products, is one of the model's files: checked against hunch.json, cached.
 */
import { CATALOG_FILE, indexCatalog, MANIFEST_FILE, parseManifest, validateSessionPurchaseModel, type HunchManifest, type SessionPurchaseModel } from '@hunch/core';
import { logOnce } from '../lib/log.js';
import { hasCatalogShards, shardedCatalog, wholeCatalog, type ModelCatalog } from './catalog-shards.js';
import { cachedManifest, verifiedModelFile } from './model-files.js';
import type { PolicyAnswer } from './protocol.js';

export interface ReadManifest {
  manifest: HunchManifest;
  /** The response's ETag (else Last-Modified and length): what tells a later check that the file is unchanged. */
  validator: string | undefined;
}

export async function readManifest(modelUrl: string): Promise<ReadManifest> {
  try {
    const response = await fetch(new URL(MANIFEST_FILE, modelUrl), { cache: 'no-cache' });
    if (!response.ok) throw new Error(`${MANIFEST_FILE}: HTTP ${response.status}`);
    return { manifest: parseManifest(await response.json()), validator: validatorOf(response) };
  } catch (error) {
    const cached = await cachedManifest(modelUrl).then((json) => (json ? parseManifest(json) : undefined)).catch(() => undefined);
    if (cached) return { manifest: cached, validator: undefined };
    throw error;
  }
}

/** The strategy policy a manifest names, with its listed hash and size; null when it ships none. */
export const policyNamedBy = (manifest: HunchManifest): PolicyAnswer => (manifest.policy === undefined ? null : { path: manifest.policy, file: manifest.files[manifest.policy]! });

/**
 * The session purchase model hunch.json names (purchase.json), its bytes checked against the listed
 * hash (cached like the other model files) and its contents validated; null when it ships none.
 * A file that cannot be read or does not validate is logged and counts as none: intent then
 * falls back to the model's next-step value rather than failing the model's load.
 */
export async function readPurchaseModel(modelUrl: string, manifest: HunchManifest): Promise<SessionPurchaseModel | null> {
  if (manifest.purchase === undefined) return null;
  try {
    const bytes = await verifiedModelFile(modelUrl, manifest.purchase, manifest.files[manifest.purchase]!);
    const checked = validateSessionPurchaseModel(JSON.parse(new TextDecoder().decode(bytes)));
    if (!checked.ok) throw new Error(`${manifest.purchase}: ${checked.error}`);
    return checked.model;
  } catch (error) {
    logOnce('purchase model unreadable', error);
    return null;
  }
}

/**
 * Whether hunch.json is still the file read with `validator`: revalidated, body not read.
 * Unreachable (offline, server down) counts as unchanged: the loaded model is what the
 * offline path would load anyway. A server sending no validator never counts as unchanged.
 */
export async function manifestUnchanged(modelUrl: string, validator: string | undefined): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(new URL(MANIFEST_FILE, modelUrl), { cache: 'no-cache' });
  } catch {
    return true;
  }
  void response.body?.cancel().catch(() => undefined);
  if (!response.ok) return true; // a failing server: the load would fall back to the cached copy too
  return validator !== undefined && validatorOf(response) === validator;
}

function validatorOf(response: Response): string | undefined {
  const etag = response.headers.get('etag');
  if (etag) return etag;
  const modified = response.headers.get('last-modified');
  return modified ? `${modified}; ${response.headers.get('content-length') ?? ''}` : undefined;
}

/**
 * The model's catalog (catalog.json, or its shards: catalog-shards.ts), its bytes checked against `manifest` (from the cache when there,
 * else fetched and, when `keep`, cached), indexed by product id (core's indexCatalog: a product
 * is parsed when asked for). `hashRequired`: as verifiedModelFile's.
 */
export async function readCatalog(modelUrl: string, manifest: HunchManifest, options: { keep?: boolean; hashRequired?: boolean } = {}): Promise<ModelCatalog> {
  if (hasCatalogShards(manifest)) return shardedCatalog(modelUrl, manifest, options);
  const bytes = await verifiedModelFile(modelUrl, CATALOG_FILE, manifest.files[CATALOG_FILE]!, options);
  return wholeCatalog(indexCatalog(new TextDecoder().decode(bytes)));
}

interface ManifestRead extends ReadManifest {
  ms: number;
}

interface CatalogRead {
  catalog: ModelCatalog;
  ms: number;
}

/** A model directory's hunch.json and catalog.json, being read for a load (readModelDirectory), and the ms each took. */
export interface ModelDirectoryRead {
  manifest: Promise<ManifestRead>;
  catalog: Promise<CatalogRead>;
}

/**
 * Starts reading hunch.json, then catalog.json: the catalog is read alongside the model's
 * load, not before it (it is most of a big shop's bytes).
 */
export function readModelDirectory(modelUrl: string): ModelDirectoryRead {
  const started = performance.now();
  const manifest = readManifest(modelUrl).then(({ manifest, validator }) => ({ manifest, validator, ms: performance.now() - started }));
  const catalog = manifest.then(async ({ manifest: read }) => {
    const catalogStarted = performance.now();
    return { catalog: await readCatalog(modelUrl, read), ms: performance.now() - catalogStarted };
  });
  // Reported by the load (and by catalog requests) that awaits them.
  manifest.catch(() => undefined);
  catalog.catch(() => undefined);
  return { manifest, catalog };
}
