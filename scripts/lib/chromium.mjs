// Launches Debian's Chromium through playwright-core (never a downloaded browser), with the
// flags this closed-network machine needs, optionally with WebGPU. Shared by the Playwright
// tests (test/e2e/chromium.ts) and the benchmarks.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** @param {{ webgpu: boolean, args?: string[] }} options `args`: more command-line flags. */
export async function launchChromium({ webgpu, args: extra = [] }) {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const args = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', ...extra];
  // Headless Chromium has a software (SwiftShader) WebGPU adapter only with this flag.
  if (webgpu) args.push('--enable-unsafe-webgpu');
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
}
