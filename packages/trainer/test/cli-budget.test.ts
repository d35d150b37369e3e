/**
 * `--time-budget MINUTES` on `hunch benchmark` and `hunch train`: a tiny budget ends the run
 * within it, with the schedule over the steps it allowed and the output saying the budget set
 * the epochs; a bad value is refused in one line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, lastJson, writeSessionsDataset, type Cli } from './cli-helpers.js';
import { writeEventsFile } from './event-files.js';
import { simulated } from './helpers.js';

let cli: Cli;
let work: string;

beforeAll(async () => {
  cli = await buildCli('budget');
  work = await mkdtemp(join(tmpdir(), 'hunch-cli-budget-'));
});

afterAll(async () => {
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

interface BudgetJson {
  steps: number;
  time_budget: { minutes: number; planned_steps: number; total_steps: number; epochs: number; limited: boolean; ran_out: boolean; wall_seconds: number };
  recipe: { epochs: number };
  distil: { weight: number; k: number; seconds: number } | null;
}

describe('--time-budget', () => {
  it('refuses a budget that is not a positive number of minutes, in one line', async () => {
    const { train, test } = await writeSessionsDataset(join(work, 'bad'), 3, 60);
    for (const bad of ['0', '-5', 'soon', 'Infinity']) {
      const run = await cli.run(['benchmark', '--format', 'sessions', '--train', train, '--test', test, `--time-budget=${bad}`]);
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split('\n')).toEqual([`hunch: --time-budget must be a positive number of minutes, got ${JSON.stringify(bad)} (run "hunch help" for usage)`]);
    }
    // Distillation's flags likewise.
    for (const [flags, error] of [
      [['--distil', 'much'], '--distil must be a number >= 0 (0: off), got "much"'],
      [['--distil=-0.5'], '--distil must be a number >= 0 (0: off), got "-0.5"'],
      [['--distil-k', '0'], '--distil-k must be at least 1'],
      [['--distil', '0', '--distil-k', '20'], '--distil-k goes with distillation on (--distil 0 turns it off)'],
    ] as const) {
      for (const command of [['benchmark', '--format', 'sessions', '--train', train, '--test', test], ['train', '--events', join(work, 'none.ndjson'), '--out', join(work, 'x')]]) {
        const run = await cli.run([...command, ...flags]);
        expect(run.code).toBe(1);
        expect(run.stderr.trim().split('\n')).toEqual([`hunch: ${error} (run "hunch help" for usage)`]);
      }
    }
    const trained = await cli.run(['train', '--events', join(work, 'none.ndjson'), '--out', join(work, 'x'), '--time-budget', '0']);
    expect(trained.code).toBe(1);
    expect(trained.stderr.trim().split('\n')).toEqual(['hunch: --time-budget must be a positive number of minutes, got "0" (run "hunch help" for usage)']);
  });

  it('hunch benchmark: a 24-second budget sets the epochs, completes the schedule and ends within it', async () => {
    const { train, test } = await writeSessionsDataset(join(work, 'sessions'), 5, 300);
    const started = Date.now();
    // Without distillation's pass: this budget is for the schedule's steps.
    const run = await cli.run(['benchmark', '--format', 'sessions', '--train', train, '--test', test, '--json', '--workers', '1', '--epochs', '2000', '--time-budget', '0.4', '--distil', '0']);
    const wall = (Date.now() - started) / 1000;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/time budget 0\.4 min: \d+ s spent reading and on the baselines, the test evaluation predicted at \d+ s, \d+ s left for training/);
    expect(run.stderr).toMatch(/-> \d+ steps, \d+\.\d+ epochs: the budget sets the epochs \(2000 would take \d+ steps\)/);
    const result = lastJson(run.stdout) as unknown as BudgetJson;
    const budget = result.time_budget;
    expect(budget).toMatchObject({ minutes: 0.4, limited: true, ran_out: false });
    expect(budget.total_steps).toBeLessThan(budget.planned_steps);
    expect(budget.epochs).toBeLessThan(2000);
    // Every step the budget allowed ran, unless validation stopped it early.
    expect(result.steps === budget.total_steps || /stopping early/.test(run.stderr)).toBe(true);
    expect(budget.wall_seconds).toBeLessThanOrEqual(24);
    // The process, start to exit, within the budget and a little for exiting.
    expect(wall).toBeLessThan(24 + 2);
  });

  it('hunch benchmark: distils STAN by default where its pass fits its share of the budget, inside the budget; --distil α --distil-k K as given, --distil 0 not at all', async () => {
    const { train, test } = await writeSessionsDataset(join(work, 'distil'), 6, 400);
    const byDefault = await cli.run(['benchmark', '--format', 'sessions', '--train', train, '--test', test, '--json', '--workers', '1', '--epochs', '1', '--time-budget', '0.5']);
    expect(byDefault.code, byDefault.stderr).toBe(0);
    const distil = (lastJson(byDefault.stdout) as unknown as BudgetJson).distil!;
    expect(distil).toMatchObject({ weight: 0.5, k: 50 });
    // Its time is inside the budget: the seconds spent before training include it.
    const spent = Number(/(\d+) s spent reading and on the baselines \(\d+\.\d s of it on STAN's soft targets\)/.exec(byDefault.stderr)![1]);
    expect(spent + 0.5).toBeGreaterThanOrEqual(distil.seconds);
    const run = await cli.run(['benchmark', '--format', 'sessions', '--train', train, '--test', test, '--json', '--workers', '1', '--epochs', '1', '--time-budget', '0.5', '--distil', '0.5', '--distil-k', '20']);
    expect(run.code, run.stderr).toBe(0);
    const result = lastJson(run.stdout) as unknown as BudgetJson;
    expect(result.distil).toMatchObject({ weight: 0.5, k: 20 });
    expect(run.stderr).toMatch(/soft targets from STAN: \d+ of \d+ positions, 20 items each, in \d+\.\d s; distilled with weight 0\.5/);
    const off = await cli.run(['benchmark', '--format', 'sessions', '--train', train, '--test', test, '--json', '--workers', '1', '--epochs', '1', '--time-budget', '0.5', '--distil', '0']);
    expect(off.code, off.stderr).toBe(0);
    expect((lastJson(off.stdout) as unknown as BudgetJson).distil).toBeNull();
    expect(off.stderr).not.toMatch(/soft targets/);
  });

  it('hunch train: the budget sets the epochs of a run that would take longer', async () => {
    const events = join(work, 'events.ndjson');
    await writeEventsFile(events, simulated(300, 4));
    const started = Date.now();
    const run = await cli.run(['train', '--events', events, '--out', join(work, 'ckpt'), '--layers', '1', '--embd', '8', '--heads', '2', '--context', '16', '--epochs', '3000', '--batch-tokens', '128', '--workers', '1', '--time-budget', '0.15']);
    const wall = (Date.now() - started) / 1000;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/the budget sets the epochs \(3000 would take \d+ steps\)/);
    expect(wall).toBeLessThan(9 + 2);
  });
});
