/**
 * The report page in a real browser (Debian's Chromium, as the e2e tests use; skipped without
 * it): opened from file://, it draws its four charts per experiment with no script error and no
 * network request, and a hostile experiment key or variant does not run.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, launchChromium } from '../../../scripts/lib/chromium.mjs';
import { experimentReport, reportHtml } from '../src/report/index.js';
import { syntheticExperiment } from './report-synthetic.js';

describe.skipIf(!existsSync(CHROMIUM_PATH))('the report page in Chromium', () => {
  it('draws every chart from file:// with no error and no request, and runs nothing from the data', async () => {
    const ab = syntheticExperiment({ experiment: 'recs-home', arms: [{ variant: 'model', weight: 1, conversion: 0.08 }, { variant: 'none', weight: 1, conversion: 0.05 }], shoppers: 2000, seed: 31 });
    const evil = syntheticExperiment({
      experiment: '<img src=x onerror="window.__pwned=1">',
      arms: [{ variant: '</script><script>window.__pwned=2</script>', weight: 1, conversion: 0.05 }, { variant: '"><svg onload="window.__pwned=3">', weight: 1, conversion: 0.05 }],
      shoppers: 400,
      seed: 32,
    });
    const dir = await mkdtemp(join(tmpdir(), 'hunch-report-page-'));
    const browser = await launchChromium({ webgpu: false });
    try {
      const file = join(dir, 'report.html');
      await writeFile(file, reportHtml(await experimentReport([...ab.events, ...evil.events])));
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      page.on('request', (request) => !request.url().startsWith('file:') && requests.push(request.url()));
      await page.goto(pathToFileURL(file).href);
      const charts = await page.evaluate(() => {
        const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { config: { type: string } } | undefined } }).Chart;
        return [...document.querySelectorAll('canvas')].map((c) => `${c.dataset.chart}:${chart.getChart(c)?.config.type ?? 'none'}`);
      });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      expect(charts).toEqual(['conversion:bar', 'revenue:bar', 'lift:line', 'funnel:bar', 'conversion:bar', 'revenue:bar', 'lift:line', 'funnel:bar']);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.locator('h2').allTextContents()).toContain('<img src=x onerror="window.__pwned=1">');
    } finally {
      await browser.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
