/**
 * Backend selection: HUNCH_TFJS_BACKEND overrides, tfjs-node when installed, wasm
 * otherwise. tfjs-node cannot be installed here, so its absence is the real case tested;
 * a tfjs-node that does not register with our tfjs-core is an import that registers nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND_ENV, planBackend, startBackend, useTfBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import { trainSequences, type SequenceTrainOptions } from '../src/train-sequences.js';

const original = process.env[BACKEND_ENV];
afterEach(() => {
  if (original === undefined) delete process.env[BACKEND_ENV];
  else process.env[BACKEND_ENV] = original;
});

describe('planBackend', () => {
  it('prefers the override, then an installed tfjs-node, then wasm', () => {
    expect(planBackend(undefined, false)).toEqual({ name: 'wasm', reason: '@tensorflow/tfjs-node is not installed' });
    expect(planBackend(undefined, true)).toEqual({ name: 'tensorflow', reason: '@tensorflow/tfjs-node is installed' });
    expect(planBackend('', true).name).toBe('tensorflow');
    expect(planBackend('cpu', true)).toEqual({ name: 'cpu', reason: 'HUNCH_TFJS_BACKEND=cpu' });
    expect(planBackend(' WASM ', true).name).toBe('wasm');
    expect(planBackend('tensorflow', false).name).toBe('tensorflow');
    expect(() => planBackend('webgpu', false)).toThrow('HUNCH_TFJS_BACKEND must be one of wasm, cpu, tensorflow; got "webgpu"');
  });
});

describe('useTfBackend', () => {
  it('falls back to wasm without an error when tfjs-node is not installed, and says so once', async () => {
    delete process.env[BACKEND_ENV];
    const lines: string[] = [];
    const choice = await useTfBackend({ log: (line) => lines.push(line) });
    expect(choice).toEqual({ name: 'wasm', reason: '@tensorflow/tfjs-node is not installed' });
    expect(tf.getBackend()).toBe('wasm');
    await useTfBackend({ log: (line) => lines.push(line) });
    expect(lines).toEqual(['tfjs backend: wasm (@tensorflow/tfjs-node is not installed)']);
  });

  it('falls back to wasm when a found tfjs-node registers nothing with our tfjs-core', async () => {
    const choice = await startBackend({ name: 'tensorflow', reason: '@tensorflow/tfjs-node is installed' }, () => import('node:path'));
    expect(choice.name).toBe('wasm');
    expect(choice.reason).toMatch(/^@tensorflow\/tfjs-node did not load \(.*another @tensorflow\/tfjs-core/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('fails in one clear line when the override names a backend that cannot start', async () => {
    process.env[BACKEND_ENV] = 'tensorflow';
    await expect(useTfBackend()).rejects.toThrow(/^HUNCH_TFJS_BACKEND=tensorflow: /);
    process.env[BACKEND_ENV] = 'tpu';
    await expect(useTfBackend()).rejects.toThrow('HUNCH_TFJS_BACKEND must be one of');
  });

  it('HUNCH_TFJS_BACKEND=cpu trains with the same losses as wasm', async () => {
    const rng = new Rng(3);
    const data = Array.from({ length: 40 }, () => [1, ...Array.from({ length: 3 + rng.int(5) }, () => 3 + rng.int(12))]);
    const options: SequenceTrainOptions = {
      layers: 1,
      embd: 8,
      heads: 2,
      context: 8,
      epochs: 1,
      batchTokens: 64,
      lr: 1e-2,
      weightDecay: 0.01,
      dropout: 0.1,
      negatives: 6,
      itemBias: true,
      repeat: true,
      seed: 2,
      workers: 1,
    };
    const losses = async (backend: string) => {
      process.env[BACKEND_ENV] = backend;
      const result = await trainSequences(data, { vocabSize: 15 }, options);
      expect(tf.getBackend()).toBe(backend);
      return result.history.map((h) => h.loss);
    };
    const cpu = await losses('cpu');
    const wasm = await losses('wasm');
    expect(cpu.length).toBeGreaterThan(3);
    cpu.forEach((loss, i) => expect(Math.abs(loss - wasm[i]!), `step ${i + 1}`).toBeLessThan(1e-5 * Math.max(1, loss)));
  });
});
