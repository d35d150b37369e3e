/** Debian's Chromium through playwright-core: one launcher for the tests and the benchmarks. */
export { CHROMIUM_PATH, launchChromium } from '../../scripts/lib/chromium.mjs';
