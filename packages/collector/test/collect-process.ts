/** `hunch collect` in its own process, and uploaders that kill something under it mid-write: shared by the collector's CLI tests. */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { HunchEvent } from '@hunch/core';
import type { Cli } from '../../trainer/test/cli-helpers.js';
import { batchBody } from './helpers.js';

export interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `hunch collect` and waits for the URL it prints on stdout. */
export async function startCollect(cli: Cli, args: string[]): Promise<Running> {
  const child = cli.start(['collect', ...args]);
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
export interface Traffic {
  acknowledged: Set<string>;
  batches: number;
  inFlightAtKill: number;
}

/**
 * `clients` concurrent uploaders, each posting 25-event batches (one in five a retry of a
 * batch already acknowledged), until `killAfter` batches were acknowledged: then `kill()`
 * (by default SIGKILL of the collector) and they stop.
 */
export async function uploadUntilKilled(running: Running, events: HunchEvent[], clients: number, killAfter: number, kill: () => void = () => running.child.kill('SIGKILL')): Promise<Traffic> {
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
        kill();
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
  return { acknowledged, batches, inFlightAtKill };
}
