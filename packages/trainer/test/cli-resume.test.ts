/**
 * `hunch benchmark --state DIR` saves the training state as it goes; a run killed with
 * SIGKILL and rerun with `--resume` continues from the last saved step and ends with the
 * figures of a run that was never interrupted.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, lastJson, writeSessionsDataset, type Cli } from './cli-helpers.js';

let cli: Cli;
let work: string;
let data: string[];

beforeAll(async () => {
  cli = await buildCli('resume');
  work = await mkdtemp(join(tmpdir(), 'hunch-cli-resume-'));
  const { train, test } = await writeSessionsDataset(join(work, 'data'), 11, 120);
  // One step per epoch on this data: the 2048-token batch holds all of it.
  data = ['benchmark', '--format', 'sessions', '--train', train, '--test', test, '--json', '--workers', '1', '--epochs', '7'];
});

afterAll(async () => {
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

/** What must not depend on an interruption (times and throughput may; the time budget's steps may not). */
const figures = (result: Record<string, unknown>) => {
  const { train_seconds: _s, tokens_per_second: _t, time_budget, distil, ...rest } = result;
  const { planned_steps, total_steps, limited } = time_budget as Record<string, unknown>;
  // Distillation's soft targets are computed again on resuming: the same, in their own time.
  const { seconds: _p, ...soft } = (distil ?? {}) as Record<string, unknown>;
  return { ...rest, distil: soft, time_budget: { planned_steps, total_steps, limited } };
};

describe('hunch benchmark --state / --resume', () => {
  it('resumes a killed run from its last saved step to the uninterrupted result', async () => {
    const straight = await cli.run(data);
    expect(straight.code, straight.stderr).toBe(0);

    // Save every 2 steps; kill once step 3 is logged, while step 4 computes.
    const state = join(work, 'state');
    const killed = await cli.runUntil([...data, '--state', state, '--state-every', '2'], (line) => /^\[[#.]+\] +\d+% step [3-6]\/7 /.test(line));
    expect(killed.killed, killed.stderr).toBe(true);
    expect(killed.code).not.toBe(0);
    expect(killed.stdout).toBe('');
    expect(existsSync(state)).toBe(true);

    // The state is never picked up unasked.
    const again = await cli.run([...data, '--state', state]);
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim().split('\n')).toEqual([`hunch: ${state} already holds training state: resume it (--resume) or remove it to start afresh`]);

    const resumed = await cli.run([...data, '--state', state, '--state-every', '2', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const from = Number(/resuming from step (\d+)\/7/.exec(resumed.stderr)?.[1]);
    expect([2, 4, 6]).toContain(from);
    // Only the steps after the saved one are run again.
    expect(resumed.stderr).not.toMatch(new RegExp(`^\\[[#.]+\\] +\\d+% step ${from}/7 `, 'm'));
    expect(resumed.stderr).toMatch(/^\[#{20}\] 100% step 7\/7 /m);
    expect(figures(lastJson(resumed.stdout))).toEqual(figures(lastJson(straight.stdout)));
  });

  it('refuses --resume without --state, and a bad --state-every, in one line', async () => {
    const noState = await cli.run([...data, '--resume']);
    expect(noState.code).not.toBe(0);
    expect(noState.stderr.trim()).toBe('hunch: --resume needs --state DIR (where the training state is saved) (run "hunch help" for usage)');
    const zero = await cli.run([...data, '--state', join(work, 'unused'), '--state-every', '0']);
    expect(zero.code).not.toBe(0);
    expect(zero.stderr.trim()).toBe('hunch: --state-every must be at least 1 (run "hunch help" for usage)');
    expect(existsSync(join(work, 'unused'))).toBe(false);
  });
});
