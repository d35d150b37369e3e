/**
 * The Cache API as the worker's file caches use it (../model-files.ts: the model's files;
 * ../ort/files.ts: onnxruntime-web's .wasm). It is missing in insecure contexts and can refuse
 * to open (some private modes): then files just aren't kept.
 */

const CACHE_WRITES = Symbol.for('hunch.cache-writes');

/**
 * Whether the worker may write its caches: not from a forget() it heard until its next load
 * (model-files.ts resumeCaching). Kept on the global scope, not in a module: the worker's entry
 * and its onnxruntime module are separate bundles, each with its own copy of this file, and the
 * flag must be one for both.
 */
export function cacheWrites(): { allowed: boolean } {
  const scope = globalThis as unknown as Record<symbol, { allowed: boolean } | undefined>;
  return (scope[CACHE_WRITES] ??= { allowed: true });
}

/**
 * The cache `name`, or undefined where there is none to use. Without `create` (or while writes
 * are off) only if it exists: caches.open() creates it, and a read must leave nothing on the
 * device (the page reads catalog.json before the shopper consented to storage).
 */
export async function openCache(name: string, create: boolean): Promise<Cache | undefined> {
  try {
    if (typeof caches === 'undefined') return undefined;
    if (!(create && cacheWrites().allowed) && !(await caches.has(name))) return undefined;
    return await caches.open(name);
  } catch {
    return undefined;
  }
}
