/**
 * `hunch report` end to end: the CLI as a user runs it, on a real SQLite file written through
 * the collector's store (and on NDJSON), with its text, --json and --html outputs and its
 * one-line errors.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HunchEvent } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../collector/src/postgres-store.js';
import { openSqliteStore } from '../../collector/src/sqlite-store.js';
import { useTestPostgres } from '../../collector/test/postgres.js';
import { buildCli, lastJson, type Cli } from './cli-helpers.js';
import { syntheticExperiment } from './report-synthetic.js';

let cli: Cli;
let dir: string;

async function writeStore(path: string, events: readonly HunchEvent[]): Promise<void> {
  const store = openSqliteStore(path);
  for (let i = 0; i < events.length; i += 500) await store.insert(events.slice(i, i + 500));
  await store.close();
}

const ab = syntheticExperiment({
  experiment: 'recs-home',
  arms: [
    { variant: 'model', weight: 1, conversion: 0.08 },
    { variant: 'popular', weight: 1, conversion: 0.05 },
  ],
  shoppers: 2000,
  seed: 21,
});
const holdout = syntheticExperiment({ experiment: 'hunch-holdout', arms: [{ variant: 'holdout', weight: 1, conversion: 0.05 }, { variant: 'personalised', weight: 9, conversion: 0.06 }], shoppers: 2000, seed: 22, list: null });

beforeAll(async () => {
  cli = await buildCli('report');
  dir = await mkdtemp(join(tmpdir(), 'hunch-report-'));
  await writeStore(join(dir, 'events.sqlite'), [...ab.events, ...holdout.events]);
  await writeStore(join(dir, 'empty.sqlite'), ab.events.filter((e) => e.name !== 'experience_impression').slice(0, 300));
  await writeFile(join(dir, 'events.ndjson'), `${ab.events.map((e) => JSON.stringify(e)).join('\n')}\nnot json\n`);
});

afterAll(async () => {
  await cli?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('hunch report', () => {
  it('prints the text table of every experiment in a collector database', async () => {
    const run = await cli.run(['report', '--from', join(dir, 'events.sqlite')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('experiment hunch-holdout: control holdout (the global holdout (no personalisation))');
    expect(run.stdout).toContain('experiment recs-home: control popular');
    expect(run.stdout).toMatch(/model vs popular:/);
    expect(run.stdout).toMatch(/personalised vs holdout:/);
  });

  describe('from PostgreSQL', () => {
    const postgres = useTestPostgres();

    it('prints the same report from a collector database in PostgreSQL, and fails in one line on one it cannot reach', async () => {
      const url = await postgres.freshDatabase();
      const store = await openPostgresStore(url);
      const events = [...ab.events, ...holdout.events];
      for (let i = 0; i < events.length; i += 500) await store.insert(events.slice(i, i + 500));
      await store.close();
      const [fromPostgres, fromSqlite] = await Promise.all([cli.run(['report', '--from', url]), cli.run(['report', '--from', join(dir, 'events.sqlite')])]);
      expect(fromPostgres.stderr).toBe('');
      expect(fromPostgres.code).toBe(0);
      expect(fromPostgres.stdout).toContain('experiment recs-home: control popular');
      // The same report; its first line names where it was read from (the URL without a password).
      expect(fromPostgres.stdout.split('\n')[0]).toBe(`experiment report of ${url}: 11,641 events, 4,000 exposures, 2 experiments`);
      expect(fromPostgres.stdout.split('\n').slice(1)).toEqual(fromSqlite.stdout.split('\n').slice(1));
      const withPassword = await cli.run(['report', '--from', url.replace('//hunch@', '//hunch:secret@')]);
      expect(withPassword.stdout).toBe(fromPostgres.stdout);
      const refused = await cli.run(['report', '--from', 'postgres://hunch:secret@127.0.0.1:1/hunch']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr.trim()).toBe('hunch: cannot open postgres://hunch@127.0.0.1:1/hunch: connect ECONNREFUSED 127.0.0.1:1');
    });
  });

  it('--json prints the report as the last line; --experiment picks one; --html writes the page', async () => {
    const page = join(dir, 'out', 'report.html');
    const run = await cli.run(['report', '--from', join(dir, 'events.sqlite'), '--experiment', 'recs-home', '--json', '--html', page, '--control', 'model']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`report page -> ${page}\n`);
    const report = lastJson(run.stdout) as { experiments: Array<{ key: string; control: string; arms: Array<{ shoppers: number }> }>; skipped: Array<{ key: string }> };
    expect(report.experiments.map((e) => e.key)).toEqual(['recs-home']);
    expect(report.experiments[0]!.control).toBe('model');
    expect(report.experiments[0]!.arms.reduce((s, a) => s + a.shoppers, 0)).toBe(2000);
    expect(report.skipped.map((s) => s.key)).toEqual(['hunch-holdout']);
    const html = await readFile(page, 'utf8');
    for (const chart of ['conversion', 'revenue', 'lift', 'funnel']) expect(html.includes(`data-chart="${chart}"`)).toBe(true);
    expect(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i.exec(html)?.[0]).toBeUndefined();
    expect(/Chart\.js v4/.test(html)).toBe(true);
  });

  it('reads NDJSON too, and counts the lines that are not events', async () => {
    const run = await cli.run(['report', '--from', join(dir, 'events.ndjson'), '--json']);
    expect(run.code).toBe(0);
    const report = lastJson(run.stdout) as { invalid: { count: number }; experiments: Array<{ key: string }> };
    expect(report.invalid.count).toBe(1);
    expect(report.experiments.map((e) => e.key)).toEqual(['recs-home']);
  });

  it('--split and --holdout set the expected split of the SRM check', async () => {
    const skewed = await cli.run(['report', '--from', join(dir, 'events.sqlite'), '--experiment', 'hunch-holdout', '--holdout', '0.5']);
    expect(skewed.code).toBe(0);
    expect(skewed.stdout).toContain('!!! SAMPLE RATIO MISMATCH');
    const split = await cli.run(['report', '--from', join(dir, 'events.sqlite'), '--experiment', 'hunch-holdout', '--split', 'hunch-holdout=holdout:1,personalised:9', '--json']);
    expect(split.code).toBe(0);
    expect((lastJson(split.stdout) as { experiments: Array<{ srm: { mismatch: boolean } }> }).experiments[0]!.srm.mismatch).toBe(false);
  });

  it('says what is wrong in one line: no exposures, an unknown experiment, one arm, a missing file', async () => {
    const none = await cli.run(['report', '--from', join(dir, 'empty.sqlite')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^hunch report: no experience_impression events: nothing is exposed yet \(300 events read; [^\n]*\)\n$/);
    const unknown = await cli.run(['report', '--from', join(dir, 'events.sqlite'), '--experiment', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('hunch report: experiment "nope" not found; experiments in the data: "hunch-holdout", "recs-home"\n');
    const lone = join(dir, 'lone.ndjson');
    await writeFile(lone, ab.events.filter((e) => e.name !== 'experience_impression' || e.params.variant_id === 'model').map((e) => JSON.stringify(e)).join('\n'));
    const one = await cli.run(['report', '--from', lone]);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/^hunch report: no experiment has two arms to compare: "recs-home" has only one arm exposed \("model", [\d,]+ shoppers\): a lift needs at least two\n$/);
    const missing = await cli.run(['report', '--from', join(dir, 'missing.sqlite')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`hunch report: cannot read ${join(dir, 'missing.sqlite')}: no such file\n`);
    const usage = await cli.run(['report']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toBe('hunch: --from is required (run "hunch help" for usage)\n');
    expect(existsSync(join(dir, 'missing.sqlite'))).toBe(false);
  });

  it('--help prints its usage', async () => {
    const run = await cli.run(['report', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage:\n  hunch report --from events.sqlite\|events.ndjson\|postgres:\/\/\.\.\. \[--experiment KEY\] \[--json\] \[--html FILE\] \[--control ARM\]\n/);
    expect((await cli.run(['help', 'report'])).stdout).toBe(run.stdout);
    expect((await cli.run(['--help'])).stdout).toContain('\n  hunch report --from ');
  });
});
