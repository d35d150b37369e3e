/**
 * `hunch policy` end to end: the CLI as a user runs it on a small NDJSON of simulated decisions
 * (decision events carrying params.features and params.eligible, and purchases), writing the
 * policy when it beats the current one and refusing, with exit code 2 and one line, when not.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validatePolicy } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HunchEvent } from '@hunch/core';
import { openPostgresStore } from '../../collector/src/postgres-store.js';
import { openSqliteStore } from '../../collector/src/sqlite-store.js';
import { useTestPostgres } from '../../collector/test/postgres.js';
import { buildCli, lastJson, type Cli } from './cli-helpers.js';
import { cartNudgeRules, decisionEvents, logDecisions, simulateShoppers, type PolicyCommandResult } from '../src/strategies/index.js';

/** The JSON line `hunch policy` prints last. */
const policyJson = (stdout: string) => lastJson(stdout) as unknown as PolicyCommandResult & { out: string | null };

let cli: Cli;
let dir: string;
let decisions: ReturnType<typeof logDecisions>;

beforeAll(async () => {
  cli = await buildCli('policy');
  dir = await mkdtemp(join(tmpdir(), 'hunch-policy-'));
  decisions = logDecisions(simulateShoppers(8_000, 11), null, 11);
  await writeFile(join(dir, 'events.ndjson'), `${decisionEvents(decisions).map((e) => JSON.stringify(e)).join('\n')}\nnot json\n`);
  await writeFile(join(dir, 'rules.json'), JSON.stringify(cartNudgeRules()));
  // The collector's database, rows written through its store (the upload endpoint would today drop
  // params.features: core's event schema does not know it yet).
  const store = openSqliteStore(join(dir, 'events.sqlite'));
  await store.insert(decisionEvents(decisions) as unknown as HunchEvent[]);
  await store.close();
  await writeFile(join(dir, 'few.ndjson'), `${decisionEvents(decisions.slice(0, 10)).map((e) => JSON.stringify(e)).join('\n')}\n`);
});

afterAll(async () => {
  await cli?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('hunch policy', () => {
  it('learns from uniform logs, prints the comparison and writes a policy that beats uniform exploration', async () => {
    const out = join(dir, 'out', 'policy.json');
    const run = await cli.run(['policy', '--from', join(dir, 'events.ndjson'), '--out', out, '--costs', 'incentive=5', '--id', 'p1']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('8000 learnable, 0 without features');
    expect(run.stdout).toContain('1 invalid lines skipped');
    expect(run.stdout).toMatch(/gain \(candidate − current\), DR:/);
    expect(run.stdout).toContain('p1 is estimated to beat uniform');
    const result = lastJson(run.stdout);
    expect(result).toMatchObject({ ship: true, current: 'uniform', out });
    const written = validatePolicy(JSON.parse(await readFile(out, 'utf8')));
    expect(written.ok && written.policy.id).toBe('p1');
    expect(run.stderr).toContain(`policy p1 -> ${out}`);
    // Learned for net by default; every outcome estimated for both policies, from the clicks and add-to-carts read.
    expect(run.stdout).toMatch(/purchases, \d+ add-to-carts, \d+ clicks on actions/);
    expect(run.stdout).toMatch(/\n  net \* /);
    const { reward, outcomes } = policyJson(run.stdout);
    expect(reward).toBe('net');
    for (const side of ['candidate', 'current'] as const) {
      expect(Object.keys(outcomes[side]).sort()).toEqual(['add_to_cart', 'click', 'conversion', 'net', 'revenue']);
    }
    expect(outcomes.current.click.dr.value).toBeGreaterThan(0);
  });

  it('--reward click learns for clicks, checks on them and reports every outcome', async () => {
    const out = join(dir, 'out', 'click.json');
    const run = await cli.run(['policy', '--from', join(dir, 'events.ndjson'), '--out', out, '--costs', 'incentive=5', '--id', 'clicks', '--reward', 'click']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('value per decision, click (--reward; 95% intervals)');
    expect(run.stdout).toMatch(/\n  click rate \* +0\.\d{3} \[/);
    for (const name of ['add-to-cart rate', 'conversion', 'revenue', 'net']) expect(run.stdout).toMatch(new RegExp(`\\n  ${name} +-?\\d+\\.\\d{3} \\[`));
    const result = policyJson(run.stdout);
    expect(result).toMatchObject({ ship: true, reward: 'click', current: 'uniform' });
    // Checked on clicks: a gain in click rate (a fraction per decision), and the clicks of the candidate above uniform's.
    expect(result.check.gain.low).toBeGreaterThan(0);
    expect(result.check.gain.high).toBeLessThan(1);
    expect(result.outcomes.candidate.click.dr.low).toBeGreaterThan(result.outcomes.current.click.dr.high);
    // Learned for clicks, not net revenue: not the net policy.
    const net = JSON.parse(await readFile(join(dir, 'out', 'policy.json'), 'utf8'));
    expect(JSON.parse(await readFile(out, 'utf8')).strategies).not.toEqual(net.strategies);
  });

  it('reads the collector database the same way', async () => {
    const out = join(dir, 'out', 'from-sqlite.json');
    const run = await cli.run(['policy', '--from', join(dir, 'events.sqlite'), '--out', out, '--costs', 'incentive=5', '--id', 'p1']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('8000 learnable, 0 without features');
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(JSON.parse(await readFile(join(dir, 'out', 'policy.json'), 'utf8')));
  });

  describe('from PostgreSQL', () => {
    const postgres = useTestPostgres();

    it('reads a collector database in PostgreSQL the same way, and fails in one line on one it cannot reach', async () => {
      const url = await postgres.freshDatabase();
      const store = await openPostgresStore(url);
      await store.insert(decisionEvents(decisions) as unknown as HunchEvent[]);
      await store.close();
      const out = join(dir, 'out', 'from-postgres.json');
      const run = await cli.run(['policy', '--from', url, '--out', out, '--costs', 'incentive=5', '--id', 'p1']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('8000 learnable, 0 without features');
      expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(JSON.parse(await readFile(join(dir, 'out', 'policy.json'), 'utf8')));
      const refused = await cli.run(['policy', '--from', 'postgres://hunch:secret@127.0.0.1:1/hunch', '--out', join(dir, 'x.json')]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr.trim()).toBe('hunch policy: cannot open postgres://hunch@127.0.0.1:1/hunch: connect ECONNREFUSED 127.0.0.1:1');
    });
  });

  it('refuses, with exit code 2 and one line, a policy not estimated to beat the current one', async () => {
    // The current policy is the one learned from these very logs: a new one learned the same way cannot beat it.
    const current = join(dir, 'out', 'policy.json');
    const out = join(dir, 'refused.json');
    const run = await cli.run(['policy', '--from', join(dir, 'events.ndjson'), '--out', out, '--current', current, '--costs', 'incentive=5', '--id', 'p1']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^hunch policy: not shipped: p1 is not estimated to beat p1/);
    expect(lastJson(run.stdout)).toMatchObject({ ship: false, out: null });
    expect(existsSync(out)).toBe(false);
    // The hand-written rules, which the learned policy does not beat on 4,000 decisions either.
    const rules = await cli.run(['policy', '--from', join(dir, 'events.ndjson'), '--out', out, '--current', join(dir, 'rules.json'), '--costs', 'incentive=5']);
    expect(rules.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('bad input: one line, exit code 1', async () => {
    const missing = await cli.run(['policy', '--from', join(dir, 'nope.ndjson'), '--out', join(dir, 'x.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^hunch policy: cannot read .*nope\.ndjson: no such file\n$/);
    const few = await cli.run(['policy', '--from', join(dir, 'few.ndjson'), '--out', join(dir, 'x.json')]);
    expect(few.code).toBe(1);
    expect(few.stderr).toMatch(/^hunch policy: .*10 learnable decisions .* at least 50 are needed\n$/);
    const costs = await cli.run(['policy', '--from', join(dir, 'events.ndjson'), '--out', join(dir, 'x.json'), '--costs', 'incentive']);
    expect(costs.code).toBe(1);
    expect(costs.stderr).toMatch(/^hunch: --costs: costs must be action=cost pairs/);
    const reward = await cli.run(['policy', '--from', join(dir, 'events.ndjson'), '--out', join(dir, 'x.json'), '--reward', 'clicks']);
    expect(reward.code).toBe(1);
    expect(reward.stderr).toMatch(/^hunch: --reward must be one of net, revenue, conversion, add_to_cart, click, got "clicks"/);
    expect(reward.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
    const noOut = await cli.run(['policy', '--from', join(dir, 'events.ndjson')]);
    expect(noOut.stderr).toMatch(/--out is required/);
  });
});
