/**
 * WebGPU or WASM, decided by a warm-up race: a GPU is not always faster for a model this
 * small (dispatch and readback cost more than the arithmetic; a software adapter is far
 * slower), so both run the steady-state workload — one event on a cached history — and
 * the faster stays.
 */
import { disposeCache, forward, type LoadedModel } from './loaded-model.js';

/** Tokens of the warm-up history and timed one-token steps on top of it. */
const WARM_UP_TOKENS = 24;
const TIMED_STEPS = 5;

/**
 * Median ms of a one-token step on a cache of about WARM_UP_TOKENS tokens of the model's own
 * items, after an untimed prefill and step (shader compilation, allocations).
 */
export async function stepMs(loaded: LoadedModel): Promise<number> {
  const { items: { tokens: items }, vocabulary, manifest } = loaded;
  const length = Math.min(WARM_UP_TOKENS, manifest.encoding.maxLength - TIMED_STEPS - 2);
  const token = (i: number) => items.length > 0 ? items[i % items.length]! : vocabulary.unk;
  const context = [vocabulary.bos, ...Array.from({ length }, (_, i) => token(i))];
  let { cache } = await forward(loaded, context, context);
  const times: number[] = [];
  try {
    for (let step = 0; step <= TIMED_STEPS; step++) {
      context.push(token(length + step));
      const started = performance.now();
      const next = await forward(loaded, [context.at(-1)!], context, cache);
      if (step > 0) times.push(performance.now() - started); // the first step warms up
      disposeCache(cache);
      cache = next.cache;
    }
  } finally {
    disposeCache(cache);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export interface RaceResult {
  winner: LoadedModel;
  reason: string;
}

/** Times both, keeps the faster (WebGPU on a tie), frees the other. */
export async function race(webgpu: LoadedModel, wasm: LoadedModel): Promise<RaceResult> {
  const gpuMs = await stepMs(webgpu);
  const cpuMs = await stepMs(wasm);
  const [winner, loser] = gpuMs <= cpuMs ? [webgpu, wasm] : [wasm, webgpu];
  await loser.runner.dispose();
  const figure = (ms: number) => `${ms.toFixed(1)} ms`;
  return { winner, reason: `warm-up race: one event takes ${figure(gpuMs)} on webgpu (${webgpu.variant.dtype}), ${figure(cpuMs)} on wasm (${wasm.variant.dtype})` };
}
