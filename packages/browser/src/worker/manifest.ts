/**
 * hunch.json as the page and the worker read it: revalidated (a 304 from the HTTP cache when
 * unchanged), else — offline, a failing server, a broken file — the copy kept with the cached
 * model files. The worker reads its own copy: a big shop's manifest (tens of thousands of
 * tokens and products) would cost the page's main thread hundreds of milliseconds to copy
 * into the worker.
 */
import { MANIFEST_FILE, parseManifest, type HunchManifest } from '@hunch/core';
import { cachedManifest } from './model-files.js';

export async function readManifest(modelUrl: string): Promise<HunchManifest> {
  try {
    const response = await fetch(new URL(MANIFEST_FILE, modelUrl), { cache: 'no-cache' });
    if (!response.ok) throw new Error(`${MANIFEST_FILE}: HTTP ${response.status}`);
    return parseManifest(await response.json());
  } catch (error) {
    const cached = await cachedManifest(modelUrl).then((json) => (json ? parseManifest(json) : undefined)).catch(() => undefined);
    if (cached) return cached;
    throw error;
  }
}
