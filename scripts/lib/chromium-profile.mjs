// Debian's Chromium with a real (temporary) profile directory, for benchmarks that need the HTTP
// cache a returning shopper has. An off-the-record context (browser.newContext(), what
// launchChromium gives) keeps its HTTP cache in memory, and that cache refuses large entries:
// onnxruntime-web's 27 MB wasm would be downloaded again by every page. The flags are those of
// launchChromium (scripts/lib/chromium.mjs).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH } from './chromium.mjs';

/**
 * A persistent browser context on a fresh profile (removed on close): its pages share a disk
 * HTTP cache, IndexedDB and service workers, like one shopper's browser.
 * @param {{ webgpu: boolean }} options
 */
export async function launchChromiumProfile({ webgpu }) {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const args = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  const profile = mkdtempSync(join(tmpdir(), 'hunch-chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args });
  const close = context.close.bind(context);
  context.close = async (...rest) => {
    try {
      await close(...rest);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  };
  return context;
}
