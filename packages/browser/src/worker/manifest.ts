/**
 * hunch.json, read by the worker itself: a big shop's manifest (tens of thousands of tokens
 * and products) would cost the page's main thread hundreds of milliseconds to copy into the
 * worker. Revalidated like the page's copy (a 304 from the HTTP cache when unchanged); the
 * copy kept with the cached model files when offline.
 */
import { MANIFEST_FILE, parseManifest, type HunchManifest } from '@hunch/core';
import { cachedManifest } from './model-files.js';

export async function readManifest(modelUrl: string): Promise<HunchManifest> {
  let response: Response;
  try {
    response = await fetch(new URL(MANIFEST_FILE, modelUrl), { cache: 'no-cache' });
  } catch (error) {
    const cached = await cachedManifest(modelUrl).catch(() => undefined);
    if (cached) return parseManifest(cached);
    throw error;
  }
  if (!response.ok) {
    const cached = await cachedManifest(modelUrl).catch(() => undefined);
    if (cached) return parseManifest(cached);
    throw new Error(`${MANIFEST_FILE}: HTTP ${response.status}`);
  }
  return parseManifest(await response.json());
}
