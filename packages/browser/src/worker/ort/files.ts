/**
 * onnxruntime-web's .wasm, kept in the Cache API so the model also runs offline. It has no hash
 * in any manifest: it changes only with the SDK build, so it is keyed by its URL in a cache
 * named after the onnxruntime-web version compiled into this worker (the JS glue and the
 * .wasm must match), and caches of other versions are dropped after a successful load. Each
 * worker bundle has its own .wasm (hunch.worker.js the asyncify build, hunch.worker.wasm.js the
 * plain one): the cache keeps the one last loaded.
 */
import { cacheWrites, deleteCaches, fetchUncached, openCache } from '../lib/cache.js';

const CACHE_PREFIX = 'hunch-ort-';

const cacheName = (version: string) => `${CACHE_PREFIX}${version}`;

/** Deletes every runtime cache, of any version (forget()). */
export function eraseRuntimeFiles(): Promise<void> {
  return deleteCaches((name) => name.startsWith(CACHE_PREFIX));
}

/**
 * The runtime file at `url`: the cached copy, else the network's (then cached). Rejects when
 * neither is there.
 */
export async function runtimeFile(url: string, version: string): Promise<Response> {
  const cache = await openCache(cacheName(version), true);
  const cached = await cache?.match(url).catch(() => undefined);
  if (cached) return cached;
  const response = await fetchUncached(url, `onnxruntime-web file ${url}`);
  if (cacheWrites().allowed) await cache?.put(url, response.clone()).catch(() => undefined);
  return response;
}

/**
 * Drops the runtime files of other onnxruntime-web versions (earlier SDK builds), and of this
 * version every file but `keep`: the other worker bundle's .wasm, which this device no longer runs.
 */
export async function keepOnlyRuntime(version: string, keep: string): Promise<void> {
  await deleteCaches((name) => name.startsWith(CACHE_PREFIX) && name !== cacheName(version));
  const cache = await openCache(cacheName(version), false);
  const stale = ((await cache?.keys()) ?? []).filter((request) => request.url !== keep);
  await Promise.all(stale.map((request) => cache?.delete(request)));
}
