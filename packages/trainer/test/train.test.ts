import { beforeAll, describe, expect, it } from 'vitest';
import { BOS_TOKEN } from '@hunch/core';
import { useWasmBackend } from '../src/backend.js';
import { learningRate, makeBatch, prepareData, train } from '../src/train.js';
import { simulated, tinyOptions } from './helpers.js';

beforeAll(() => useWasmBackend());

describe('prepareData', () => {
  it('encodes one [BOS]-first sequence per session, within the context', () => {
    const events = simulated(50, 1);
    const data = prepareData(events, 12);
    expect(data.sequences).toHaveLength(50);
    for (const ids of data.sequences) {
      expect(ids[0]).toBe(data.vocabulary.id(BOS_TOKEN));
      expect(ids.length).toBeLessThanOrEqual(12);
    }
    const views = events.filter((e) => e.name === 'view_item' && e.params.item_id === 'mugs-01').length;
    expect(data.itemCounts['mugs-01'] ?? 0).toBeGreaterThanOrEqual(views);
  });

  it('right-pads batches with [PAD] targets', () => {
    const { ids, targets, tokens } = makeBatch([[1, 5, 6, 7], [1, 8]]);
    expect(ids.arraySync()).toEqual([[1, 5, 6], [1, 0, 0]]);
    expect(targets.arraySync()).toEqual([[5, 6, 7], [8, 0, 0]]);
    expect(tokens).toBe(4);
  });

  it('marks the next item to come at every position', () => {
    const items = new Set([5, 7, 8]);
    const { nextItems } = makeBatch([[1, 4, 5, 4, 6, 7], [1, 4, 8]], items);
    expect(nextItems!.arraySync()).toEqual([[5, 5, 7, 7, 7], [8, 8, 0, 0, 0]]);
  });

  it('warms the learning rate up, then decays it', () => {
    expect(learningRate(0, 1000, 1)).toBeCloseTo(0.01);
    expect(learningRate(99, 1000, 1)).toBeCloseTo(1);
    expect(learningRate(999, 1000, 1)).toBeCloseTo(0.1, 2);
  });
});

describe('train', () => {
  it('makes the loss fall clearly, and the same seed gives the same weights', async () => {
    const events = simulated(300, 2);
    const options = { ...tinyOptions, steps: 160 };
    const first = await train(events, options);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const start = mean(first.losses.slice(0, 5));
    const end = mean(first.losses.slice(-10));
    expect(start).toBeGreaterThan(Math.log(first.config.vocabSize) - 0.5); // starts near uniform
    expect(end).toBeLessThan(start * 0.7);
    expect(first.training.finalLoss).toBeLessThan(start * 0.7);

    const again = await train(events, { ...options, steps: 5 });
    const twice = await train(events, { ...options, steps: 5 });
    for (const [name, tensor] of again.weights) expect(twice.weights.get(name)!.data).toEqual(tensor.data);
  });
});
