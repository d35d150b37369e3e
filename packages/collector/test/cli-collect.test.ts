/**
 * `hunch collect` as a user runs it (this checkout's CLI, bundled, in its own process):
 * killed with SIGKILL while batches are being written, it must not lose any event it
 * acknowledged; stopped with SIGTERM, it closes the database cleanly.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { HunchEvent } from '@hunch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, type Cli } from '../../trainer/test/cli-helpers.js';
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

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `hunch collect` and waits for the URL it prints on stdout. */
async function collect(args: string[]): Promise<Running> {
  const child = cli.start(['collect', ...args]);
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
    });
    void exited.then(({ code }) => reject(new Error(`hunch collect exited (${code}) before listening: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr, exited };
}

/** What the clients saw: ids acknowledged with a 200, and how many requests were in flight at the kill. */
interface Traffic {
  acknowledged: Set<string>;
  batches: number;
  inFlightAtKill: number;
}

/**
 * `clients` concurrent uploaders, each posting 25-event batches (one in five a retry of a
 * batch already acknowledged), until `killAfter` batches were acknowledged: then SIGKILL.
 */
async function uploadUntilKilled(running: Running, events: HunchEvent[], clients: number, killAfter: number): Promise<Traffic> {
  const acknowledged = new Set<string>();
  const sentBatches: string[] = [];
  let next = 0;
  let batches = 0;
  let inFlight = 0;
  let inFlightAtKill = -1;
  let killed = false;
  const client = async (n: number) => {
    for (let round = 0; !killed; round++) {
      let body: string;
      if (round % 5 === 4 && sentBatches.length > 0) body = sentBatches[(n * 7 + round) % sentBatches.length]!;
      else {
        if (next >= events.length) throw new Error('ran out of events before the kill');
        body = batchBody(events.slice(next, (next += 25)));
      }
      inFlight++;
      try {
        const response = await fetch(running.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const answer = (await response.json()) as { accepted: string[] };
        if (response.status === 200) {
          answer.accepted.forEach((id) => acknowledged.add(id));
          sentBatches.push(body);
          batches++;
        }
      } catch {
        // The server died under this request: its events were never acknowledged.
      } finally {
        inFlight--;
      }
      if (!killed && batches >= killAfter) {
        killed = true;
        inFlightAtKill = inFlight;
        running.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
  return { acknowledged, batches, inFlightAtKill };
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
