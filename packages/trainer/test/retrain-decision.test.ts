/** The publish rule (decision.ts) and the held-out split (holdout.ts), on real NDJSON files. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjsonSource } from '../src/event-source.js';
import type { HeldOutScore } from '../src/retrain/compare.js';
import { decide } from '../src/retrain/decision.js';
import { Rng } from '../src/lib/prng.js';
import { CorruptedEvents, MIN_RETRAIN_SESSIONS, splitHoldout, TooLittleData } from '../src/retrain/holdout.js';

/** A held-out score from per-session Σ 1/rank (one example per session unless `examples` says more). */
function scored(bySession: number[], examples = bySession.length): HeldOutScore {
  const reciprocalBySession = Float64Array.from(bySession);
  const mrr = bySession.reduce((a, b) => a + b, 0) / examples;
  return { 'HR@20': 0.5, 'MRR@20': mrr, examples, unknownTargets: 0, reciprocalBySession };
}
/** `sessions` sessions alternating between mrr ± spread (from + or - as `phase` says): mean mrr, with session-to-session noise. */
const noisy = (mrr: number, sessions = 300, spread = 0.2, phase = 0) => scored(Array.from({ length: sessions }, (_, s) => mrr + ((s + phase) % 2 ? spread : -spread)));

/**
 * Held-out sessions of 1 to 4 examples; each example's 1/rank is 1, 1/2, ..., 1/20 or 0 (a
 * miss), the model's quality being the chance of a hit. Two models scored on the same sessions.
 */
function simulatePair(rng: Rng, sessions: number, liveHit: number, candidateHit: number): [HeldOutScore, HeldOutScore] {
  const draw = (hit: number) => (rng.next() < hit ? 1 / (1 + rng.int(20)) : 0);
  const live: number[] = [];
  const candidate: number[] = [];
  let examples = 0;
  for (let s = 0; s < sessions; s++) {
    const n = 1 + rng.int(4);
    examples += n;
    let [l, c] = [0, 0];
    for (let j = 0; j < n; j++) {
      // The same example is easy or hard for both models: their errors are correlated, as on real data.
      const easy = rng.next() < 0.5;
      l += draw(easy ? liveHit * 1.5 : liveHit * 0.5);
      c += draw(easy ? candidateHit * 1.5 : candidateHit * 0.5);
    }
    live.push(l);
    candidate.push(c);
  }
  return [scored(candidate, examples), scored(live, examples)];
}

describe('decide', () => {
  it('refuses a candidate worse than the live model by more than the tolerance, however noisy', () => {
    // The candidate's session-to-session noise is opposite to the live model's: no significant difference.
    expect(decide(noisy(0.3, 300, 0.2, 1), noisy(0.3), 0.005).publish).toBe(true);
    expect(decide(noisy(0.296, 300, 0.2, 1), noisy(0.3), 0.005).publish).toBe(true);
    const worse = decide(noisy(0.29, 300, 0.2, 1), noisy(0.3), 0.005);
    expect(worse.publish).toBe(false);
    expect(worse.reason).toBe('candidate is worse: MRR@20 0.2900 < live 0.3000 - tolerance 0.005 on the same 300 held-out examples (300 sessions)');
    expect(decide(noisy(0.299, 300, 0.2, 1), noisy(0.3), 0).publish).toBe(false);
  });

  it('refuses a candidate within the tolerance that is significantly worse on every session', () => {
    const live = noisy(0.3, 2000);
    const candidate = scored(Array.from(live.reciprocalBySession, (r) => r - 0.003));
    const decision = decide(candidate, live, 0.005);
    expect(decision.publish).toBe(false);
    expect(decision.reason).toMatch(/^candidate is significantly worse: MRR@20 0\.2970 against live 0\.3000, difference -0\.0030/);
    expect(decision.paired!.upper).toBeLessThan(0);
    // The same mean difference on independent noise is not significant: published.
    expect(decide(noisy(0.297, 2000, 0.2, 1), live, 0.005).publish).toBe(true);
  });

  it('on simulated shops, refuses equal models at about the test size and a small real regression nearly always', () => {
    const rng = new Rng(7);
    const run = (trials: number, sessions: number, liveHit: number, candidateHit: number) => {
      const reasons = Array.from({ length: trials }, () => decide(...simulatePair(rng, sessions, liveHit, candidateHit), 0.005));
      return {
        refused: reasons.filter((d) => !d.publish).length / trials,
        bySignificance: reasons.filter((d) => d.reason.startsWith('candidate is significantly worse')).length / trials,
      };
    };
    // Equal models on 5,000 sessions: the one-sided 97.5% bound refuses ~2.5% (binomial sd over 1,000 trials ~0.5%).
    const equal = run(1000, 5000, 0.4, 0.4);
    expect(equal.refused).toBeGreaterThan(0.01);
    expect(equal.refused).toBeLessThan(0.045);
    // A candidate hitting 0.38 where the live model hits 0.4 (MRR@20 ~0.0035 lower, inside the tolerance) on 20,000 sessions:
    // the tolerance alone would publish it nearly always; the paired interval refuses it.
    const regression = run(100, 20000, 0.4, 0.38);
    expect(regression.refused).toBeGreaterThan(0.85);
    expect(regression.bySignificance).toBeGreaterThan(0.7);
  });

  it('refuses with nothing to compare on, and a candidate that scored NaN', () => {
    expect(decide(scored([], 0), scored([], 0)).publish).toBe(false);
    expect(decide({ ...noisy(0.3), 'MRR@20': Number.NaN }, noisy(0.3))).toEqual({ publish: false, reason: "the candidate's MRR@20 is NaN" });
  });

  it('throws on scores of different examples and on a bad tolerance', () => {
    expect(() => decide(scored([0.3], 2), scored([0.3], 1))).toThrow(/different examples/);
    expect(() => decide(noisy(0.3), noisy(0.3, 302))).toThrow(/different examples/);
    expect(() => decide(noisy(0.3), noisy(0.3), -1)).toThrow(/tolerance/);
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
