/**
 * onnxruntime-web's .wasm, kept in the Cache API so the model also runs offline. It has no hash
 * in any manifest: it changes only with the SDK build, so it is keyed by its URL in a cache
 * named after the onnxruntime-web version compiled into this worker (the JS glue and the
 * .wasm must match), and caches of other versions are dropped after a successful load. Each
 * worker bundle has its own .wasm (hunch.worker.js the asyncify build, hunch.worker.wasm.js the
 * plain one): the cache keeps the one last loaded.
 */
import { cacheWrites, openCache } from '../lib/cache.js';

const CACHE_PREFIX = 'hunch-ort-';

const cacheName = (version: string) => `${CACHE_PREFIX}${version}`;

/** Deletes every runtime cache, of any version (forget()). */
export async function eraseRuntimeFiles(): Promise<void> {
  if (typeof caches === 'undefined') return;
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX)).map((name) => caches.delete(name)));
}

/**
 * The runtime file at `url`: the cached copy, else the network's (then cached). Rejects when
 * neither is there.
 */
export async function runtimeFile(url: string, version: string): Promise<Response> {
  const cache = await openCache(cacheName(version), true);
  const cached = await cache?.match(url).catch(() => undefined);
  if (cached) return cached;
  let response: Response;
  try {
    // Revalidate: an HTTP-cached copy could be an earlier SDK build's, served at the same URL.
    response = await fetch(url, { cache: 'no-cache', credentials: 'same-origin' });
  } catch (error) {
    throw new Error(`onnxruntime-web file ${url} could not be fetched and is not cached (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!response.ok) throw new Error(`onnxruntime-web file ${url} could not be fetched: HTTP ${response.status}`);
  if (cacheWrites().allowed) await cache?.put(url, response.clone()).catch(() => undefined);
  return response;
}

/**
 * Drops the runtime files of other onnxruntime-web versions (earlier SDK builds), and of this
 * version every file but `keep`: the other worker bundle's .wasm, which this device no longer runs.
 */
export async function keepOnlyRuntime(version: string, keep: string): Promise<void> {
  if (typeof caches === 'undefined') return;
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== cacheName(version)).map((name) => caches.delete(name)));
  const cache = await openCache(cacheName(version), false);
  const stale = ((await cache?.keys()) ?? []).filter((request) => request.url !== keep);
  await Promise.all(stale.map((request) => cache?.delete(request)));
}
