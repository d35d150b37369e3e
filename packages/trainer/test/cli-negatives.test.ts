/**
 * `hunch benchmark --negatives full|N`: the loss's negatives, chosen by the recipe from the
 * catalog's size unless given; a bad value is refused in one line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, lastJson, writeSessionsDataset, type Cli } from './cli-helpers.js';

let cli: Cli;
let work: string;
let data: { train: string; test: string };

beforeAll(async () => {
  cli = await buildCli('negatives');
  work = await mkdtemp(join(tmpdir(), 'hunch-cli-negatives-'));
  // 30 items: far below the full-softmax limit.
  data = await writeSessionsDataset(join(work, 'sessions'), 7, 200);
});

afterAll(async () => {
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

const benchmark = (...extra: string[]) =>
  cli.run(['benchmark', '--format', 'sessions', '--train', data.train, '--test', data.test, '--json', '--workers', '1', '--epochs', '1', ...extra]);

describe('hunch benchmark --negatives', () => {
  it('refuses a value that is neither "full" nor a positive integer, in one line', async () => {
    for (const bad of ['0', '-3', '2.5', 'all']) {
      const run = await benchmark(`--negatives=${bad}`);
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split('\n')).toEqual([`hunch: --negatives must be "full" or a positive integer, got ${JSON.stringify(bad)} (run "hunch help" for usage)`]);
    }
  });

  it('trains a small catalog with the full softmax by default, and with sampled negatives when asked', async () => {
    const byDefault = await benchmark();
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(byDefault.stderr).toMatch(/vocab \d+, [\d,]+ parameters; \d+ sequences, \d+ steps \(1 epochs\), full softmax/);
    expect((lastJson(byDefault.stdout).recipe as { negatives: number }).negatives).toBe(0);

    const sampled = await benchmark('--negatives', '8');
    expect(sampled.code, sampled.stderr).toBe(0);
    expect(sampled.stderr).toMatch(/\(1 epochs\), 8 sampled negatives/);
    expect((lastJson(sampled.stdout).recipe as { negatives: number }).negatives).toBe(8);

    const full = await benchmark('--negatives', 'full');
    expect(full.code, full.stderr).toBe(0);
    expect(full.stderr).toMatch(/full softmax/);
  });
});
