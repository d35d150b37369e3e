/** Shared by the collector tests: temp directories, realistic events, and plain HTTP posts. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UPLOAD_VERSION, type HunchEvent } from '@hunch/core';
import { simulated } from '../../trainer/test/helpers.js';

export { simulated };

export async function tempDir(tag: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `hunch-collector-${tag}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** An upload body as the SDK sends it. */
export const batchBody = (events: readonly unknown[], sentAt = Date.now()): string => JSON.stringify({ v: UPLOAD_VERSION, sentAt, events });

export interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown> | undefined;
}

/** POSTs (or sends `method`) with fetch, as the SDK does; the answer's body parsed when it is JSON. */
export async function post(url: string, body: string | undefined, headers: Record<string, string> = {}, method = 'POST'): Promise<Answer> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json };
}

/** `count` simulated shopper events (GA4 names, UUID ids), from as many sessions as it takes. */
export function shopperEvents(count: number, seed: number): HunchEvent[] {
  const events = simulated(Math.ceil(count / 4) + 5, seed);
  if (events.length < count) throw new Error(`simulated only ${events.length} events`);
  return events.slice(0, count);
}
