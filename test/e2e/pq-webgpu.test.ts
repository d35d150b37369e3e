/**
 * The product-quantized item table scored in a WebGPU compute shader (item-head/pq-webgpu.ts),
 * in real Chromium on its WebGPU adapter (SwiftShader here: --enable-unsafe-webgpu), against the
 * worker's WASM SIMD kernel (pq-scorer.ts) on the same codes and query: the same logits (the
 * shader sums the same table entries in the same order) and the same top 20. The worker uses it
 * on real GPUs only: a software adapter is refused unless asked for (as here).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.js';
import { startModuleServer, type ModuleServer } from './module-server.js';

declare global {
  interface Window {
    PqScorer: typeof import('../../packages/browser/src/worker/item-head/pq-scorer.js');
    PqWebGpu: typeof import('../../packages/browser/src/worker/item-head/pq-webgpu.js');
  }
}

let browser: Browser;
let server: ModuleServer;

beforeAll(async () => {
  server = await startModuleServer({ entries: { PqScorer: 'packages/browser/src/worker/item-head/pq-scorer.ts', PqWebGpu: 'packages/browser/src/worker/item-head/pq-webgpu.ts' } });
  browser = await launchChromium({ webgpu: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('WebGpuPqScorer', () => {
  it('gives the WASM kernel’s logits and top 20 on a WebGPU adapter, with OPQ’s rotation', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    const result = await page.evaluate(async () => {
      let state = 7;
      const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296);
      const [rows, width, subspaces] = [5003, 64, 16];
      const head = {
        rows,
        width,
        subspaces,
        codes: Uint8Array.from({ length: rows * subspaces }, () => Math.floor(random() * 256)),
        codebooks: Float32Array.from({ length: subspaces * 256 * (width / subspaces) }, () => random() * 2 - 1),
        bias: Float32Array.from({ length: rows }, () => random()),
        // OPQ's rotation (orthogonal: a signed permutation here), which both scorers turn the query by.
        rotation: (() => {
          const rotation = new Float32Array(width * width);
          for (let k = 0; k < width; k++) rotation[k * width + ((k * 5 + 3) % width)] = k % 3 === 0 ? -1 : 1;
          return rotation;
        })(),
      };
      const gpu = await window.PqWebGpu.WebGpuPqScorer.create(head, { allowSoftware: true });
      // The SDK itself leaves a software adapter to the WASM kernel.
      const refused = (await window.PqWebGpu.WebGpuPqScorer.create(head)) === undefined;
      if (!gpu) return { adapter: false };
      const cpu = window.PqScorer.PqScorer.create(head)!;
      const top = (logits: Float32Array) => Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, 20);
      const runs = [];
      for (let q = 0; q < 3; q++) {
        const query = Float32Array.from({ length: width }, () => (random() * 2 - 1) * 10 ** q);
        const [fromGpu, fromCpu] = [new Float32Array(rows), new Float32Array(rows)];
        await gpu.score(query, fromGpu);
        cpu.score(query, fromCpu);
        let worst = 0;
        for (let r = 0; r < rows; r++) worst = Math.max(worst, Math.abs(fromGpu[r]! - fromCpu[r]!));
        runs.push({ worst, same: top(fromGpu).join() === top(fromCpu).join(), nonzero: fromGpu.some((v) => v !== 0) });
      }
      const wrongSize = await gpu.score(new Float32Array(3), new Float32Array(rows)).then(() => 'scored', (error: Error) => error.message);
      gpu.dispose();
      return { adapter: true, runs, wrongSize, refused };
    });
    await page.close();
    expect(result.adapter).toBe(true);
    expect(result.refused).toBe(true); // SwiftShader is a fallback adapter
    for (const run of result.runs!) {
      expect(run.nonzero).toBe(true);
      expect(run.same).toBe(true);
      expect(run.worst).toBeLessThanOrEqual(1e-6);
    }
    console.log(`webgpu pq scorer: max |Δ| to the WASM kernel ${Math.max(...result.runs!.map((r) => r.worst)).toExponential(2)} over 3 queries of 5,003 items`);
    expect(result.wrongSize).toBe('webgpu pq scorer: a query of 3 for 64 and an output of 5003 for 5003 rows');
  });
});
