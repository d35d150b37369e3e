/**
 * The model directory's files, kept for offline use in the Cache API and trusted only when
 * their bytes match the SHA-256 that hunch.json lists for them. A file is fetched once; later
 * visits, and visits without a network, read it from the cache. Entries are keyed by URL and
 * hash, so a new model version never matches an old file. The cache holds one model: what the
 * last successful load did not use is removed after it.
 */
import { MANIFEST_FILE, type HunchManifest, type ModelFileEntry } from '@hunch/core';
import { CONSENT_CHANNEL, isForgetRecord } from '../consent.js';
import { cacheWrites, openCache } from './lib/cache.js';
import { eraseRuntimeFiles } from './ort/files.js';

const CACHE_NAME = 'hunch-model-files';

/** A cached response, looked up without opening the cache (which would create it). */
async function cachedResponse(request: string, options: CacheQueryOptions = {}): Promise<Response | undefined> {
  try {
    return typeof caches === 'undefined' ? undefined : await caches.match(request, { ...options, cacheName: CACHE_NAME });
  } catch {
    return undefined;
  }
}

/** Deletes the model's cached files and onnxruntime-web's (forget(): the page, and the worker when it hears it). */
export async function eraseModelFiles(): Promise<void> {
  if (typeof caches === 'undefined') return;
  await Promise.all([caches.delete(CACHE_NAME), eraseRuntimeFiles()]);
}

const FORGET_CHANNEL = Symbol.for('hunch.forget-channel');

/**
 * In the worker, at the start of each load (one asked for by a page with storage consent):
 * caching resumes, and stops when a page's forget() is heard on the consent channel, which also deletes the caches
 * again (what this load cached between the page's deletion and now). A shared worker outlives the
 * page that forgot, and may be loading for another page at that moment. One listener per worker
 * (on its global scope, as cacheWrites()).
 */
export function resumeCaching(): void {
  const writes = cacheWrites();
  writes.allowed = true;
  const scope = globalThis as unknown as Record<symbol, BroadcastChannel | undefined>;
  if (scope[FORGET_CHANNEL] || typeof BroadcastChannel !== 'function') return;
  try {
    const channel = (scope[FORGET_CHANNEL] = new BroadcastChannel(CONSENT_CHANNEL));
    channel.onmessage = (message: MessageEvent) => {
      if (!isForgetRecord(message.data)) return;
      writes.allowed = false;
      prefetched.clear();
      void eraseModelFiles().catch(() => undefined);
    };
  } catch {
    // No channel (opaque origin): the page's own deletion is all there is.
  }
}

const HASH_PARAM = 'hunch-sha256';

/** The cache key of a file's verified bytes: its URL plus its hash (never requested from a server). */
function cacheKey(url: string, sha256: string): string {
  const key = new URL(url);
  key.searchParams.set(HASH_PARAM, sha256);
  return key.href;
}

/** Cached bytes read before hunch.json said which hash they must have (prefetchModelFiles). */
interface Prefetched {
  sha256: string;
  bytes: ArrayBuffer;
}

/** Reads started by prefetchModelFiles, by file URL: each is taken once, by verifiedModelFile. */
const prefetched = new Map<string, Promise<Prefetched | undefined>>();

/**
 * Starts reading the cached copies of `paths` (whatever version the cache holds: it keeps one)
 * and hashing them, while hunch.json is still being read: the worker waits for that body
 * (from the HTTP cache), so these reads cost a cold start nothing. verifiedModelFile() then
 * uses the bytes only if their hash is the one hunch.json lists.
 */
export function prefetchModelFiles(modelUrl: string, paths: readonly string[]): void {
  prefetched.clear(); // one load at a time
  for (const path of paths) {
    const url = new URL(path, modelUrl).href;
    const read = (async (): Promise<Prefetched | undefined> => {
      const response = await cachedResponse(url, { ignoreSearch: true });
      if (!response) return undefined;
      const bytes = await response.arrayBuffer();
      return { sha256: await sha256Hex(bytes), bytes };
    })().catch(() => undefined);
    prefetched.set(url, read);
  }
}

/** Whether SHA-256 can be checked here (SubtleCrypto: a secure context). */
const hashCheckable = (): boolean => typeof crypto !== 'undefined' && Boolean(crypto.subtle);

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Why `bytes` are not the file `listedIn` (hunch.json, or a shard listing) describes, or undefined
 * when they are. Without SubtleCrypto (a page served over http://) the hash cannot be checked:
 * that fails the file, unless `hashRequired` is false, when the size alone is checked.
 */
async function mismatch(bytes: ArrayBuffer, { sha256, bytes: size }: ModelFileEntry, hashRequired = true, listedIn = MANIFEST_FILE): Promise<string | undefined> {
  if (bytes.byteLength !== size) return `${bytes.byteLength} bytes where ${listedIn} lists ${size}`;
  if (!hashCheckable()) return hashRequired ? 'its SHA-256 cannot be checked here (no SubtleCrypto: not a secure context)' : undefined;
  const actual = await sha256Hex(bytes);
  return actual === sha256.toLowerCase() ? undefined : `SHA-256 ${actual} where ${listedIn} lists ${sha256}`;
}

/** Lets go of a prefetched file no load took (the load failed first, or chose another file). */
export function dropPrefetched(): void {
  prefetched.clear();
}

export interface ModelFileOptions {
  /** false: the page's own reads, made when no model runs, leave the cache to the worker. */
  keep?: boolean;
  /** false: where the hash cannot be checked, the size is enough (see mismatch). */
  hashRequired?: boolean;
  /** What lists `entry`, for the error: hunch.json (the default), or a shard listing. */
  listedIn?: string;
}

/** A model file whose bytes are not those listed: damaged, tampered with, or published after the hunch.json read (worker.ts reloads then). */
export class ModelFileMismatch extends Error {}

/**
 * The bytes of `path` (relative to the model directory at `modelUrl`), checked against `entry`:
 * from the cache when a checked copy is there, else from the HTTP cache when its copy has the
 * listed hash, else from the network, then cached (unless `keep` is false). Rejects, naming
 * the file, when it cannot be fetched or its bytes differ from the entry.
 */
export async function verifiedModelFile(modelUrl: string, path: string, entry: ModelFileEntry, { keep = true, hashRequired = true, listedIn = MANIFEST_FILE }: ModelFileOptions = {}): Promise<ArrayBuffer> {
  const url = new URL(path, modelUrl).href;
  const early = await prefetched.get(url);
  prefetched.delete(url);
  if (early && early.sha256 === entry.sha256.toLowerCase() && early.bytes.byteLength === entry.bytes) return early.bytes;
  const key = cacheKey(url, entry.sha256);
  const cached = await cachedResponse(key).then((response) => response?.arrayBuffer()).catch(() => undefined);
  // Checked again on the way out (a few ms per MB): storage can be damaged; a bad copy is dropped and fetched anew.
  if (cached && !(await mismatch(cached, entry))) return cached;
  if (cached) await (await openCache(CACHE_NAME, false))?.delete(key).catch(() => undefined);

  // The HTTP cache's copy as it is, without a round trip to revalidate it: the hash decides. A big
  // shop's first page after the Cache API was emptied (forget(), the browser's eviction) reads
  // hundreds of shards, one request each. Where the hash cannot be checked, always revalidated.
  const httpCached = hashCheckable() ? await httpCachedCopy(url, entry) : undefined;
  if (httpCached) return keepCopy(key, httpCached, keep);
  let response: Response;
  try {
    // Revalidate: the HTTP cache may still hold the previous version's bytes at this URL.
    response = await fetch(url, { cache: 'no-cache', credentials: 'same-origin' });
  } catch (error) {
    throw new Error(`model file ${path} could not be fetched and is not cached (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!response.ok) throw new Error(`model file ${path} could not be fetched: HTTP ${response.status}`);
  const bytes = await response.arrayBuffer();
  const wrong = await mismatch(bytes, entry, hashRequired, listedIn);
  if (wrong) throw new ModelFileMismatch(`model file ${path} does not match ${listedIn}: ${wrong}`);
  return keepCopy(key, bytes, keep);
}


/** The HTTP cache's response for `url` (the network's when it holds none), if its bytes are `entry`'s. */
async function httpCachedCopy(url: string, entry: ModelFileEntry): Promise<ArrayBuffer | undefined> {
  try {
    const response = await fetch(url, { cache: 'force-cache', credentials: 'same-origin' });
    if (!response.ok) return undefined;
    const bytes = await response.arrayBuffer();
    return (await mismatch(bytes, entry)) ? undefined : bytes;
  } catch {
    return undefined;
  }
}

/** Keeps checked bytes in the Cache API (unless `keep` is false); a full disk only costs the offline copy. */
async function keepCopy(key: string, bytes: ArrayBuffer, keep: boolean): Promise<ArrayBuffer> {
  if (keep && cacheWrites().allowed) await (await openCache(CACHE_NAME, true))?.put(key, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } })).catch(() => undefined);
  return bytes;
}

const manifestUrl = (modelUrl: string) => new URL(MANIFEST_FILE, modelUrl).href;
/** The version of the manifest copy kept in the cache. */
const VERSION_HEADER = 'x-hunch-model-version';

/**
 * Whether a cached shard (path relative to the model directory, its hash) is one the model's shard
 * listings name; undefined when the path is no shard of a listed family (shard-listing.ts).
 */
export type ListedShardCheck = (path: string, sha256: string) => Promise<boolean | undefined>;

/**
 * After a successful load: keeps the manifest (what the page reads when the server is gone)
 * and drops every cached file this manifest does not list, nor `listedShard` names, so old
 * versions don't pile up.
 */
export async function keepOnlyModel(modelUrl: string, manifest: HunchManifest, listedShard?: ListedShardCheck): Promise<void> {
  const cache = await openCache(CACHE_NAME, true);
  if (!cache || !cacheWrites().allowed) return;
  const wanted = new Set([manifestUrl(modelUrl), ...Object.entries(manifest.files).map(([path, { sha256 }]) => cacheKey(new URL(path, modelUrl).href, sha256))]);
  const keptShard = async (request: Request): Promise<boolean> => {
    const url = new URL(request.url);
    const sha256 = url.searchParams.get(HASH_PARAM);
    url.search = '';
    if (!listedShard || sha256 === null || !url.href.startsWith(modelUrl)) return false;
    return (await listedShard(decodeURIComponent(url.href.slice(modelUrl.length)), sha256)) === true;
  };
  // Written once per version: a big shop's manifest is megabytes, and every page load ends here.
  const kept = await cache.match(manifestUrl(modelUrl));
  if (kept?.headers.get(VERSION_HEADER) !== manifest.version) {
    await cache.put(manifestUrl(modelUrl), new Response(JSON.stringify(manifest), { headers: { 'content-type': 'application/json', [VERSION_HEADER]: manifest.version } }));
  }
  const others = (await cache.keys()).filter((request) => !wanted.has(request.url));
  await Promise.all(others.map(async (request) => (await keptShard(request)) || cache.delete(request)));
}

/**
 * For the page: the hunch.json of the model last loaded from `modelUrl`, parsed JSON, or
 * undefined. Used when the server cannot be reached, so the cached model still runs offline.
 */
export async function cachedManifest(modelUrl: string): Promise<unknown> {
  const response = await cachedResponse(manifestUrl(modelUrl));
  return response?.json();
}
