/**
 * The time budget (train/budget.ts, trainSequences' timeBudget): the steps are fixed from the
 * throughput timed on the first ones, the learning-rate schedule is laid over them and ends,
 * validation keeps running, and a budget that fits changes nothing. The clock is the test's
 * (every reading advances it by a fixed amount), so the figures do not depend on the machine.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import { parseTimeBudget, planBudget } from '../src/train/budget.js';
import { trainSequences, type SequenceTrainOptions } from '../src/train-sequences.js';

beforeAll(() => useWasmBackend());

const ITEMS = 30;
const V = ITEMS + 3;

function sessions(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    let cur = rng.int(ITEMS);
    const seq = [1, cur + 3];
    for (let t = 1, len = 3 + rng.int(6); t < len; t++) seq.push((cur = rng.next() < 0.8 ? (cur * 7 + 3) % ITEMS : rng.int(ITEMS)) + 3);
    return seq;
  });
}

const data = sessions(300, 1);
const validation = sessions(40, 2);
const base: SequenceTrainOptions = {
  layers: 1,
  embd: 16,
  heads: 2,
  context: 10,
  epochs: 20,
  batchTokens: 160,
  lr: 1e-2,
  weightDecay: 0.01,
  dropout: 0.1,
  negatives: 8,
  itemBias: true,
  repeat: true,
  seed: 3,
  workers: 1,
  validation: { sequences: validation, every: 100, patience: 100 },
};

/** A clock that advances `ms` at every reading, switching to `after.ms` after `after.readings` readings. */
function tickingClock(ms: number, after?: { readings: number; ms: number }): () => number {
  let now = 0;
  let readings = 0;
  return () => (now += after && ++readings > after.readings ? after.ms : ms);
}

describe('planBudget', () => {
  it('takes every planned step when they fit, else the most that fit, validations counted', () => {
    expect(planBudget({ remaining: 100, secondsPerStep: 0.1, secondsPerEval: 1, done: 10, cap: 500, every: 100 })).toMatchObject({ total: 500, every: 100, limited: false });
    // 0.1 s a step plus 1 s per 100 steps: 0.11 s a step -> about 909 steps in 100 s.
    const plan = planBudget({ remaining: 100, secondsPerStep: 0.1, secondsPerEval: 1, done: 10, cap: 5000, every: 100 });
    expect(plan.limited).toBe(true);
    expect(plan.total).toBeGreaterThan(900);
    expect(plan.total).toBeLessThan(915);
    expect(plan.predicted).toBeLessThanOrEqual(100);
    // A short run validates at least 4 times.
    const short = planBudget({ remaining: 5, secondsPerStep: 0.1, secondsPerEval: 0.1, done: 10, cap: 5000, every: 600 });
    expect(short.every).toBe(Math.floor(short.total / 4));
    expect(short.predicted).toBeLessThanOrEqual(5);
    // ... but validations that would take more than a fifth of the time are fewer: here only the final one.
    const slow = planBudget({ remaining: 100, secondsPerStep: 0.1, secondsPerEval: 30, done: 10, cap: 5000, every: 600 });
    expect(slow.total).toBe(710); // 700 steps of 0.1 s and the final validation of 30 s
    expect(slow.every).toBe(slow.total);
    // Nothing left: the run ends where it is.
    expect(planBudget({ remaining: -1, secondsPerStep: 0.1, secondsPerEval: 1, done: 20, cap: 500, every: 100 })).toMatchObject({ total: 20, limited: true });
  });

  it('refuses a budget that is not a positive number of minutes, in one line', () => {
    expect(parseTimeBudget('2.5')).toBe(2.5);
    for (const bad of ['0', '-1', 'abc', '', 'Infinity', '5min']) expect(() => parseTimeBudget(bad)).toThrow(/^--time-budget must be a positive number of minutes, got /);
  });
});

describe('trainSequences with a time budget', () => {
  it('fixes the steps from the timed first ones and completes the schedule over them', async () => {
    const lines: string[] = [];
    const result = await trainSequences(data, { vocabSize: V }, { ...base, timeBudget: { seconds: 1, calibrationSteps: 10 }, clock: tickingClock(10), log: (l) => lines.push(l) });
    const budget = result.budget!;
    expect(budget.limited).toBe(true);
    expect(budget.ranOut).toBe(false);
    // Fewer steps than the 20 epochs plan, more than the timed ones, and all of them run.
    expect(result.totalSteps).toBeLessThan(budget.plannedSteps);
    expect(result.totalSteps).toBeGreaterThan(10);
    expect(result.steps).toBe(result.totalSteps);
    expect(result.seconds).toBeLessThanOrEqual(1.01); // the last step ends within the budget; one more clock reading ends the run
    // The cosine decay ends at its floor (10% of the peak) on the last step.
    const last = result.history.at(-1)!;
    expect(last.lr! / base.lr).toBeCloseTo(0.1, 2);
    // Validation: at least 4 times (the short run validates more often than every 100 steps), the best kept.
    const validated = result.history.filter((h) => h.valMrr !== undefined);
    expect(validated.length).toBeGreaterThanOrEqual(4);
    expect(validated.at(-1)!.step).toBe(result.totalSteps);
    const best = validated.reduce((b, h) => (h.valMrr! > b.valMrr! ? h : b));
    expect(result.bestStep).toBe(best.step);
    expect(lines.join('\n')).toMatch(/time budget 1s: .* -> \d+ steps, \d+\.\d+ epochs: the budget sets the epochs \(20 would take \d+ steps\)/);
  });

  it('changes nothing when the epochs fit the budget', async () => {
    const options = { ...base, epochs: 2 };
    const plain = await trainSequences(data, { vocabSize: V }, options);
    const lines: string[] = [];
    const budgeted = await trainSequences(data, { vocabSize: V }, { ...options, timeBudget: { seconds: 3600 }, log: (l) => lines.push(l) });
    expect(budgeted.budget!.limited).toBe(false);
    expect(budgeted.steps).toBe(plain.steps);
    expect(budgeted.history).toEqual(plain.history.map((h, i) => ({ ...h, seconds: budgeted.history[i]!.seconds })));
    expect(budgeted.bestStep).toBe(plain.bestStep);
    for (const [name, t] of plain.weights) expect(budgeted.weights.get(name)!.data, name).toEqual(t.data);
    expect(lines.join('\n')).toMatch(/\(all 2 epochs fit\)/);
  });

  it('checks the throughput a quarter of the way and lays the schedule over the steps that still fit', async () => {
    const lines: string[] = [];
    // 10 ms a reading for the timed steps, then 20 ms: half the steps fit.
    const result = await trainSequences(data, { vocabSize: V }, {
      ...base,
      timeBudget: { seconds: 1, calibrationSteps: 10 },
      clock: tickingClock(10, { readings: 14, ms: 20 }),
      log: (l) => lines.push(l),
    });
    const first = Number(/-> (\d+) steps/.exec(lines.join('\n'))?.[1]);
    const checked = /time budget checked at step (\d+): 20 ms a step since step 10 -> (\d+) steps instead of (\d+)/.exec(lines.join('\n'));
    expect(checked, lines.join('\n')).not.toBeNull();
    expect(Number(checked![3])).toBe(first);
    expect(Number(checked![2])).toBeLessThan(first);
    expect(result.totalSteps).toBe(Number(checked![2]));
    expect(result.steps).toBe(result.totalSteps);
    expect(result.budget!.ranOut).toBe(false);
    expect(result.history.at(-1)!.lr! / base.lr).toBeCloseTo(0.1, 2);
    expect(result.seconds).toBeLessThanOrEqual(1.02);
  });

  it('keeps time back for the work after training when the steps slow down (it will slow down alike)', async () => {
    const plain = await trainSequences(data, { vocabSize: V }, { ...base, timeBudget: { seconds: 1, calibrationSteps: 10 }, clock: tickingClock(10, { readings: 14, ms: 20 }) });
    const lines: string[] = [];
    const kept = await trainSequences(data, { vocabSize: V }, {
      ...base,
      timeBudget: { seconds: 1, calibrationSteps: 10, afterSeconds: 0.3 },
      clock: tickingClock(10, { readings: 14, ms: 20 }),
      log: (l) => lines.push(l),
    });
    // Twice as slow: the 0.3 s predicted after training become 0.6 s, so training ends 0.3 s sooner.
    expect(lines.join('\n')).toMatch(/\(2\.00x the first steps': 0\.3 s more kept for after training\)/);
    expect(kept.totalSteps).toBeLessThan(plain.totalSteps);
    expect(kept.steps).toBe(kept.totalSteps);
    expect(kept.seconds).toBeLessThanOrEqual(0.7 + 0.02);
    expect(plain.seconds).toBeGreaterThan(0.9);
  });

  it('stops when the time runs out after all (the steps got slower than measured)', async () => {
    const lines: string[] = [];
    const result = await trainSequences(data, { vocabSize: V }, {
      ...base,
      timeBudget: { seconds: 6, calibrationSteps: 10 },
      clock: tickingClock(10, { readings: 60, ms: 500 }), // after the check a quarter of the way
      log: (l) => lines.push(l),
    });
    expect(result.budget!.ranOut).toBe(true);
    expect(result.steps).toBeLessThan(result.totalSteps);
    expect(lines.join('\n')).toMatch(/time budget spent at step \d+ of \d+/);
  });

  it('judges the last weights on validation when training stops between validations', async () => {
    const lines: string[] = [];
    // Slower after the calibration: the time runs out at a step that is not a validation step.
    const result = await trainSequences(data, { vocabSize: V }, {
      ...base,
      timeBudget: { seconds: 1, calibrationSteps: 10 },
      clock: tickingClock(10, { readings: 20, ms: 60 }),
      log: (l) => lines.push(l),
    });
    expect(result.budget!.ranOut).toBe(true);
    const last = result.history.at(-1)!;
    expect(last.step).toBe(result.steps);
    expect(last.valMrr, lines.join('\n')).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(new RegExp(`final validation at step ${result.steps}: val MRR@20`));
    // The kept weights are the best validated ones, the last among them.
    const validated = result.history.filter((h) => h.valMrr !== undefined);
    const bestMrr = Math.max(...validated.map((h) => h.valMrr!));
    expect(result.bestValMrr).toBe(bestMrr);
    expect(result.history.find((h) => h.step === result.bestStep)!.valMrr).toBe(bestMrr);
  });
});
