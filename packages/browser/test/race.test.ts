/**
 * The warm-up race (worker/race.ts) on two stand-in models whose steps take a controlled time:
 * whichever backend is made slower, the faster one stays, the other is disposed, and the reason
 * reports both times. (test/e2e/intent.test.ts races the real backends in Chromium.)
 */
import { describe, expect, it } from 'vitest';
import type { LoadedModel } from '../src/worker/loaded-model.js';
import type { Backend } from '../src/worker/protocol.js';
import { race } from '../src/worker/race.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A model on `backend` whose every forward step takes `stepMs`; `disposed` counts runner disposals. */
function standIn(backend: Backend, stepMs: number): LoadedModel & { disposed: number; steps: number } {
  const model = {
    disposed: 0,
    steps: 0,
    backend,
    variant: { dtype: backend === 'webgpu' ? 'q4' : 'q8', file: 'onnx/model.onnx', reason: 'test' },
    manifest: { encoding: { maxLength: 64 } },
    vocabulary: { bos: 0, unk: 1, size: 8 },
    vocabularySize: 8,
    items: { tokens: Int32Array.of(2, 3, 4, 5), length: 4, has: (tokenId: number) => tokenId >= 2 && tokenId <= 5 },
    runner: {
      engine: 'hunch-gpt2',
      itemScoring: 'graph',
      scoredTokens: undefined,
      step: async () => {
        model.steps++;
        await sleep(stepMs);
        return { cache: { dispose: () => {} }, repeat: undefined };
      },
      dispose: async () => {
        model.disposed++;
      },
    },
  };
  return model as unknown as LoadedModel & { disposed: number; steps: number };
}

/** The two times the reason reports, in ms. */
function reported(reason: string): { webgpu: number; wasm: number } {
  const match = /one event takes ([\d.]+) ms on webgpu \(q4\), ([\d.]+) ms on wasm \(q8\)/.exec(reason);
  expect(match, reason).not.toBeNull();
  return { webgpu: Number(match![1]), wasm: Number(match![2]) };
}

describe('the warm-up race', () => {
  it('keeps WASM when WebGPU is made slower, and frees WebGPU', async () => {
    const webgpu = standIn('webgpu', 40);
    const wasm = standIn('wasm', 2);
    const { winner, reason } = await race(webgpu, wasm);
    expect(winner).toBe(wasm);
    expect([webgpu.disposed, wasm.disposed]).toEqual([1, 0]);
    const times = reported(reason);
    expect(times.webgpu).toBeGreaterThanOrEqual(35);
    expect(times.wasm).toBeLessThan(times.webgpu);
    // Both ran the same workload: a prefill, an untimed step and the timed ones.
    expect(webgpu.steps).toBe(wasm.steps);
    expect(webgpu.steps).toBeGreaterThan(2);
  });

  it('keeps WebGPU when WASM is made slower, and frees WASM', async () => {
    const webgpu = standIn('webgpu', 2);
    const wasm = standIn('wasm', 40);
    const { winner, reason } = await race(webgpu, wasm);
    expect(winner).toBe(webgpu);
    expect([webgpu.disposed, wasm.disposed]).toEqual([0, 1]);
    const times = reported(reason);
    expect(times.wasm).toBeGreaterThanOrEqual(35);
    expect(times.webgpu).toBeLessThan(times.wasm);
  });
});
