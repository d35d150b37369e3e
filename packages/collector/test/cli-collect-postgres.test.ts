/**
 * `hunch collect --db postgres://...` as a shop runs it (this checkout's CLI in its own
 * processes) on a throw-away PostgreSQL: several collectors on one database store each event
 * once; neither a collector nor the server itself killed with SIGKILL mid-write loses an event
 * that was acknowledged; a wrong URL or an unreachable server fails at start in one line.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, type Cli } from '../../trainer/test/cli-helpers.js';
import { startCollect, uploadUntilKilled, type Running } from './collect-process.js';
import { batchBody, shopperEvents } from './helpers.js';
import { useTestPostgres } from './postgres.js';

let cli: Cli;
const postgres = useTestPostgres();
const running: Running[] = [];

beforeAll(async () => {
  cli = await buildCli('collect-pg');
});
afterAll(async () => {
  for (const { child } of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cli?.dispose();
});

async function collect(url: string): Promise<Running> {
  const collector = await startCollect(cli, ['--db', url, '--port', '0', '--rate', '0']);
  running.push(collector);
  return collector;
}

/** How often each id is stored: ids acknowledged but missing or stored twice, and the rows. */
async function audit(url: string, acknowledged: Iterable<string>): Promise<{ rows: number; lostOrTwice: string[]; storedTwice: number }> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string; n: string }>('SELECT id, count(*) AS n FROM hunch_events GROUP BY id');
    const times = new Map(rows.map((row) => [row.id, Number(row.n)]));
    return {
      rows: [...times.values()].reduce((a, b) => a + b, 0),
      lostOrTwice: [...acknowledged].filter((id) => times.get(id) !== 1),
      storedTwice: rows.filter((row) => Number(row.n) > 1).length,
    };
  } finally {
    await db.end();
  }
}

describe('hunch collect --db postgres://', () => {
  it('stores each event once when two collectors on one database receive the same batches at the same time', async () => {
    const url = await postgres.freshDatabase();
    const [a, b] = await Promise.all([collect(url), collect(url)]);
    expect(a!.stderr()).toContain(`collecting into ${url} (0 events so far)`);
    const events = shopperEvents(2000, 51);
    const acknowledged = new Set<string>();
    // Every batch goes to both at once (a browser retrying on another collector), 8 at a time.
    for (let i = 0; i < events.length; i += 8 * 25) {
      const bodies = Array.from({ length: 8 }, (_, k) => batchBody(events.slice(i + k * 25, i + (k + 1) * 25))).filter((body) => !body.includes('"events":[]'));
      const answers = await Promise.all(bodies.flatMap((body) => [a!, b!].map((c) => fetch(c.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }))));
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        for (const id of ((await answer.json()) as { accepted: string[] }).accepted) acknowledged.add(id);
      }
    }
    expect(acknowledged.size).toBe(events.length);
    expect(await audit(url, acknowledged)).toEqual({ rows: events.length, lostOrTwice: [], storedTwice: 0 });
    for (const c of [a!, b!]) {
      c.child.kill('SIGTERM');
      expect(await c.exited).toEqual({ code: 0, signal: null });
    }
    expect(b!.stderr()).toMatch(new RegExp(`stopped; ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds ${events.length} events\\n$`));
  });

  it('loses no acknowledged event when a collector is killed mid-write, again and again, beside another one writing', async () => {
    const url = await postgres.freshDatabase();
    const events = shopperEvents(14_000, 52);
    const acknowledged = new Set<string>();
    const steady = await collect(url);
    let offset = 0;
    for (const killAfter of [30, 50]) {
      const victim = await collect(url);
      const [killed, beside] = await Promise.all([
        uploadUntilKilled(victim, events.slice(offset, (offset += 4000)), 8, killAfter),
        uploadUntilKilled(steady, events.slice(offset, (offset += 2000)), 2, 20, () => {}),
      ]);
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(killed.inFlightAtKill).toBeGreaterThan(0);
      for (const traffic of [killed, beside]) traffic.acknowledged.forEach((id) => acknowledged.add(id));
    }
    const { rows, lostOrTwice, storedTwice } = await audit(url, acknowledged);
    expect(lostOrTwice).toEqual([]);
    expect(storedTwice).toBe(0);
    // Besides the acknowledged events, at most the batches in flight at each kill.
    expect(rows).toBeGreaterThanOrEqual(acknowledged.size);
    expect(rows - acknowledged.size).toBeLessThanOrEqual(2 * 8 * 25);
  });

  it('loses no acknowledged event when PostgreSQL itself is killed mid-write, and stores again once it is back', async () => {
    const url = await postgres.freshDatabase();
    const collector = await collect(url);
    const events = shopperEvents(6000, 53);
    let killed: Promise<void> | undefined;
    const traffic = await uploadUntilKilled(collector, events.slice(0, 4000), 8, 40, () => (killed = postgres.server.kill()));
    expect(traffic.inFlightAtKill).toBeGreaterThan(0);
    await killed;
    // The server is gone: the collector is still up and says to retry, acknowledging nothing.
    const down = await fetch(collector.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batchBody(events.slice(4000, 4025)) });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    await postgres.server.restart();
    const back = await fetch(collector.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batchBody(events.slice(4000, 4025)) });
    expect(back.status).toBe(200);
    for (const id of ((await back.json()) as { accepted: string[] }).accepted) traffic.acknowledged.add(id);
    const { lostOrTwice, storedTwice } = await audit(url, traffic.acknowledged);
    expect(lostOrTwice).toEqual([]);
    expect(storedTwice).toBe(0);
    collector.child.kill('SIGTERM');
    expect(await collector.exited).toEqual({ code: 0, signal: null });
  });

  it('fails at start with one line for a wrong URL or a server that is not there', async () => {
    const refused = `postgres://hunch:secret@127.0.0.1:1/hunch`;
    for (const [args, message] of [
      [['--db', 'postgres://wrong'], /^hunch: cannot open postgres:\/\/wrong: getaddrinfo (ENOTFOUND|EAI_AGAIN) wrong$/],
      [['--db', refused], /^hunch: cannot open postgres:\/\/hunch@127\.0\.0\.1:1\/hunch: connect ECONNREFUSED 127\.0\.0\.1:1$/],
      [['--db', postgres.server.url.replace(/\/hunch$/, '/nope')], /^hunch: cannot open postgres:\/\/hunch@127\.0\.0\.1:\d+\/nope: database "nope" does not exist$/],
      [['--db', 'postgres://a:b@[::1'], /^hunch: cannot open postgres:\/\/a@\[::1: not a URL \(postgres:\/\/USER:PASSWORD@HOST:PORT\/DATABASE\)$/],
      [['--db', postgres.server.url, '--sync', 'normal'], /^hunch: --sync is SQLite's: PostgreSQL's durability is the server's \(synchronous_commit\)/],
    ] as Array<[string[], RegExp]>) {
      const { code, stderr } = await cli.run(['collect', '--port', '0', ...args]);
      expect(code, args.join(' ')).not.toBe(0);
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr.trim()).toMatch(message);
      expect(stderr).not.toContain('secret');
    }
  });
});
