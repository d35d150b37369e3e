/** The publish rule (decision.ts) and the held-out split (holdout.ts), on real NDJSON files. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjsonSource } from '../src/event-source.js';
import type { HeldOutScore } from '../src/retrain/compare.js';
import { decide } from '../src/retrain/decision.js';
import { CorruptedEvents, MIN_RETRAIN_SESSIONS, splitHoldout, TooLittleData } from '../src/retrain/holdout.js';

const score = (mrr: number, examples = 300): HeldOutScore => ({ 'HR@20': 0.5, 'MRR@20': mrr, examples, unknownTargets: 0 });

describe('decide', () => {
  it('publishes a candidate at least as good as the live model less the tolerance, and only then', () => {
    expect(decide(score(0.3), score(0.3), 0.005).publish).toBe(true);
    expect(decide(score(0.296), score(0.3), 0.005).publish).toBe(true);
    const worse = decide(score(0.29), score(0.3), 0.005);
    expect(worse).toEqual({ publish: false, reason: 'candidate is worse: MRR@20 0.2900 < live 0.3000 - tolerance 0.005 on the same 300 held-out examples' });
    expect(decide(score(0.299), score(0.3), 0).publish).toBe(false);
  });

  it('refuses with nothing to compare on, and a candidate that scored NaN', () => {
    expect(decide(score(0, 0), score(0, 0)).publish).toBe(false);
    expect(decide(score(Number.NaN), score(0.3))).toEqual({ publish: false, reason: "the candidate's MRR@20 is NaN" });
  });

  it('throws on scores of different examples and on a bad tolerance', () => {
    expect(() => decide(score(0.3, 299), score(0.3, 300))).toThrow(/different examples/);
    expect(() => decide(score(0.3), score(0.3), -1)).toThrow(/tolerance/);
  });
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hunch-holdout-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `sessions` sessions of 3 product views each, session i starting at minute i (written newest first). */
function sessionLines(sessions: number): string[] {
  const lines: string[] = [];
  for (let i = sessions - 1; i >= 0; i--) {
    for (let j = 0; j < 3; j++) {
      lines.push(JSON.stringify({ id: `e${i}-${j}`, ts: 1_700_000_000_000 + i * 60_000 + j, sessionId: `s${i}`, name: 'view_item', params: { item_id: `p${(i + j) % 7}` } }));
    }
  }
  return lines;
}
async function file(name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}
async function sessionsIn(source: ReturnType<typeof ndjsonSource>): Promise<Set<string>> {
  const ids = new Set<string>();
  await source.scan((event) => ids.add(event.sessionId));
  return ids;
}

describe('splitHoldout', () => {
  it('holds out the latest sessions by start time, at least the minimum, apart from training', async () => {
    const holdout = await splitHoldout(ndjsonSource(await file('ok.ndjson', sessionLines(300))), 0.1);
    const held = await sessionsIn(holdout.evaluation);
    expect([...held].sort()).toEqual(Array.from({ length: 30 }, (_, i) => `s${270 + i}`).sort());
    const trained = await sessionsIn(holdout.training);
    expect(trained.size).toBe(270);
    expect([...trained].some((id) => held.has(id))).toBe(false);
    const small = await splitHoldout(ndjsonSource(await file('small.ndjson', sessionLines(60))), 0.1);
    expect(small.heldOut.size).toBe(20);
  });

  it(`refuses fewer than ${MIN_RETRAIN_SESSIONS} sessions with something to predict`, async () => {
    const path = await file('little.ndjson', sessionLines(MIN_RETRAIN_SESSIONS - 1));
    await expect(splitHoldout(ndjsonSource(path))).rejects.toThrow(TooLittleData);
    await expect(splitHoldout(ndjsonSource(path))).rejects.toThrow(/39 sessions of 2 or more events .* needs at least 40/);
  });

  it('names a source it cannot read', async () => {
    await expect(splitHoldout(ndjsonSource(join(dir, 'missing.ndjson')))).rejects.toThrow(`cannot read ${join(dir, 'missing.ndjson')}: ENOENT`);
  });

  it('skips a few invalid lines, counted, and refuses more than 1%, naming the first', async () => {
    const lines = sessionLines(100); // 300 events
    const few = await splitHoldout(ndjsonSource(await file('few.ndjson', [...lines, '{"broken'])));
    expect(few.scan.skipped).toBe(1);
    const many = await file('many.ndjson', [...lines, '{"broken', '{"broken', '{"broken', '{"broken']);
    await expect(splitHoldout(ndjsonSource(many))).rejects.toThrow(CorruptedEvents);
    await expect(splitHoldout(ndjsonSource(many))).rejects.toThrow('looks corrupted: 4 of its 304 rows are not valid events (more than 1% are refused, fewer are skipped); first: row 301: not valid JSON');
  });
});
