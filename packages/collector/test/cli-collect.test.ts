/**
 * `hunch collect` as a user runs it (this checkout's CLI, bundled, in its own process):
 * killed with SIGKILL while batches are being written, it must not lose any event it
 * acknowledged; stopped with SIGTERM, it closes the database cleanly.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, type Cli } from '../../trainer/test/cli-helpers.js';
import { startCollect, uploadUntilKilled, type Running } from './collect-process.js';
import { batchBody, shopperEvents, tempDir } from './helpers.js';

let cli: Cli;
let work: Awaited<ReturnType<typeof tempDir>>;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  cli = await buildCli('collect');
  work = await tempDir('cli');
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cli?.dispose();
  await work?.remove();
});

/** Starts `hunch collect`; the child is killed after the tests if still running. */
async function collect(args: string[]): Promise<Running> {
  const running = await startCollect(cli, args);
  children.push(running.child);
  return running;
}

describe('hunch collect', () => {
  it('loses no acknowledged event when killed mid-write, again and again, and stores each once', async () => {
    const db = join(work.dir, 'killed.sqlite');
    const events = shopperEvents(12_000, 41);
    const acknowledged = new Set<string>();
    let offset = 0;
    for (const killAfter of [40, 60, 80]) {
      const running = await collect(['--db', db, '--port', '0', '--rate', '0']);
      const traffic = await uploadUntilKilled(running, events.slice(offset, (offset += 4000)), 8, killAfter);
      expect(await running.exited).toEqual({ code: null, signal: 'SIGKILL' });
      // Requests were still being answered (and written) when the process died.
      expect(traffic.inFlightAtKill).toBeGreaterThan(0);
      expect(traffic.batches).toBeGreaterThanOrEqual(killAfter);
      // Killed, not closed: the last commits are only in the write-ahead log.
      expect(existsSync(`${db}-wal`)).toBe(true);
      traffic.acknowledged.forEach((id) => acknowledged.add(id));
    }

    const raw = new Database(db, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    const count = raw.prepare('SELECT count(*) FROM events WHERE id = ?').pluck();
    const lost = [...acknowledged].filter((id) => count.get(id) !== 1);
    expect(lost).toEqual([]);
    expect(raw.prepare('SELECT count(*) FROM (SELECT id FROM events GROUP BY id HAVING count(*) > 1)').pluck().get()).toBe(0);
    const rows = raw.prepare('SELECT count(*) FROM events').pluck().get() as number;
    // Besides the acknowledged events, at most the batches in flight at each kill.
    expect(rows).toBeGreaterThanOrEqual(acknowledged.size);
    expect(rows - acknowledged.size).toBeLessThanOrEqual(3 * 8 * 25);
    raw.close();
  });

  it('stops on SIGTERM: answers what it received, closes the database, exits 0', async () => {
    const db = join(work.dir, 'stopped.sqlite');
    const running = await collect(['--db', db, '--port', '0', '--allow-origin', 'http://localhost:8080', '--allow-origin', 'https://a.example,https://b.example']);
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/collect$/);
    expect(running.stderr()).toMatch(/collecting into .*stopped\.sqlite \(0 events so far\); allowed origins: http:\/\/localhost:8080, https:\/\/a\.example, https:\/\/b\.example; rate limit: 200 events\/s per client/);
    const events = shopperEvents(30, 42);
    const answer = await fetch(running.url, { method: 'POST', headers: { origin: 'https://b.example' }, body: batchBody(events) });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://b.example');
    running.child.kill('SIGTERM');
    expect(await running.exited).toEqual({ code: 0, signal: null });
    expect(running.stderr()).toMatch(/SIGTERM: stopping\nstopped; .*stopped\.sqlite holds 30 events\n$/);
    // Closed cleanly: the log was checkpointed into the database and removed.
    expect(existsSync(`${db}-wal`)).toBe(false);
  });

  it('fails with one line on bad options', async () => {
    for (const [args, message] of [
      [[], /^hunch: --db is required \(run "hunch help" for usage\)$/],
      [['--db', join(work.dir, 'x.sqlite'), '--allow-origin', 'https://shop.example/'], /^hunch: --allow-origin: allowed origin "https:\/\/shop\.example\/" is not an origin .*did you mean "https:\/\/shop\.example"\?/],
      [['--db', join(work.dir, 'no-such-dir', 'x.sqlite')], /^hunch: cannot open .*no-such-dir.*x\.sqlite: /],
    ] as Array<[string[], RegExp]>) {
      const { code, stderr } = await cli.run(['collect', ...args]);
      expect(code, args.join(' ')).not.toBe(0);
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr.trim()).toMatch(message);
    }
  });
});
