/**
 * Session-kNN's soft targets for train.py --distil (src/soft-targets.ts, `hunch soft-targets`):
 * one row per training input position, session-kNN's best items first with weights summing to
 * 1, the position's own session never among its neighbours, and a file train.py reads back.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequenceSet } from '../src/data/sequence-set.js';
import { SknnRecommender } from '../src/eval/baselines/sknn.js';
import { StanRecommender } from '../src/eval/baselines/stan.js';
import { neighbourhoodSoftTargets } from '../src/soft-targets.js';
import { buildCli, type Cli } from './cli-helpers.js';
import { simulatedShards } from './torch-helpers.js';

// Tokens: 0 [PAD], 1 [BOS], 2 a non-item token, 3.. items.
const isItem = (token: number) => token >= 3;
const V = 9;
const train = [
  [1, 3, 4, 5],
  [1, 4, 5],
  [1, 5, 2, 3],
  [1, 6, 7],
  [1, 8],
  [1],
];

describe('neighbourhoodSoftTargets', () => {
  const targets = neighbourhoodSoftTargets(train, isItem, V, { k: 2 });
  const row = (r: number) => ({ ids: [...targets.ids.subarray(r * 2, r * 2 + 2)], weights: [...targets.weights.subarray(r * 2, r * 2 + 2)] });

  it('has one row per input position, in sequence order', () => {
    expect(targets.positions).toBe(3 + 2 + 3 + 2 + 1 + 0);
    expect(targets.ids.length).toBe(targets.positions * 2);
  });

  it('leaves [BOS]-only prefixes and sessions with no other session sharing an item empty', () => {
    expect(row(0)).toEqual({ ids: [0, 0], weights: [0, 0] }); // [BOS]
    expect(row(9)).toEqual({ ids: [0, 0], weights: [0, 0] }); // [BOS, 6]: only its own session has item 6
    expect(row(10)).toEqual({ ids: [0, 0], weights: [0, 0] }); // [BOS] of [1, 8]
    expect(targets.covered).toBe(5); // [3], [3, 4], [4], [5], [5, 2]
  });

  it('keeps the k best of session-kNN without the own session, best first, weights summing to 1', () => {
    // Prefix [BOS, 3, 4] of session 0: the others as SknnRecommender scores them with session 0 left out.
    const sessions = SequenceSet.from(train.map((s) => s.filter(isItem)));
    const { items, scores } = new SknnRecommender(sessions, V).sparseScores(Int32Array.from([3, 4]), 0);
    const expected = [...items.keys()].sort((a, b) => scores[b]! - scores[a]! || items[a]! - items[b]!).slice(0, 2);
    const total = expected.reduce((sum, i) => sum + scores[i]!, 0);
    const { ids, weights } = row(2);
    expect(ids).toEqual(expected.map((i) => items[i]!));
    weights.forEach((w, slot) => expect(w).toBeCloseTo(scores[expected[slot]!]! / total, 6));
    expect(weights[0]! + weights[1]!).toBeCloseTo(1, 6);
    expect(weights[0]!).toBeGreaterThanOrEqual(weights[1]!);
    // Sessions 1 {4, 5} and 2 {5, 3} are 1/sqrt(2·2) each: 5 scores 1.0, 4 and 3 0.5 each (the lower id first).
    expect(ids).toEqual([5, 3]);
  });

  it('teaches STAN instead when told: its k best without the own session', () => {
    const stan = neighbourhoodSoftTargets(train, isItem, V, { k: 2, teacher: 'stan' });
    expect(stan).toMatchObject({ teacher: 'stan', neighbours: 200, positions: targets.positions });
    const sessions = SequenceSet.from(train.map((s) => s.filter(isItem)));
    // Prefix [BOS, 5, 2] of session 2 (row 7): 5 is its only item.
    const { items, scores } = new StanRecommender(sessions, V).sparseScores(Int32Array.from([5]), 2);
    const expected = [...items.keys()].sort((a, b) => scores[b]! - scores[a]! || items[a]! - items[b]!).slice(0, 2);
    expect([...stan.ids.subarray(14, 16)]).toEqual(expected.map((i) => items[i]!));
    const total = expected.reduce((sum, i) => sum + scores[i]!, 0);
    [...stan.weights.subarray(14, 16)].forEach((w, slot) => expect(w).toBeCloseTo(scores[expected[slot]!]! / total, 6));
    // Sessions 0 {3, 4, 5} and 1 {4, 5} hold 5: session-kNN ties 4 and 5 (the lower id first), STAN ranks
    // 5 itself first (no distance from the shared item), then 4 (one away in both).
    expect([...targets.ids.subarray(14, 16)]).toEqual([4, 5]);
    expect([...stan.ids.subarray(14, 16)]).toEqual([5, 4]);
  });

  it('scores items only: [BOS] and other non-item tokens neither score nor count in a session\'s size', () => {
    // Prefix [BOS, 3] of session 0: sessions 1 {3, 4} and 2 {3, 5} alike (2 items each; 2 also has token 2 twice).
    const only = neighbourhoodSoftTargets([[1, 3, 8], [1, 3, 4], [1, 2, 3, 2, 5]], isItem, V, { k: 3 });
    expect([...only.ids.subarray(3, 6)]).toEqual([3, 4, 5]);
    [0.5, 0.25, 0.25].forEach((w, slot) => expect(only.weights[3 + slot]).toBeCloseTo(w, 6));
  });

  it('gives targets to about `share` of the positions, the same ones for the same seed', () => {
    const many = Array.from({ length: 400 }, (_, s) => [1, 3 + (s % 6), 3 + ((s + 1) % 6), 3 + ((s * 7) % 6)]);
    const all = neighbourhoodSoftTargets(many, isItem, V, { k: 3 });
    const half = neighbourhoodSoftTargets(many, isItem, V, { k: 3, share: 0.5, seed: 3 });
    expect(all.covered).toBe(800); // every position after [BOS]
    expect(half.covered).toBeGreaterThan(320);
    expect(half.covered).toBeLessThan(480);
    expect(neighbourhoodSoftTargets(many, isItem, V, { k: 3, share: 0.5, seed: 3 }).ids).toEqual(half.ids);
  });

  it('with windows of sessions (hunch train), indexes whole sessions and leaves a prefix\'s whole session out', () => {
    // Session 0 is two windows, the second its future; session 1 shares item 5.
    const windows = [[1, 5, 3], [1, 5, 6], [1, 5, 7]];
    const row = (t: { ids: Int32Array }, r: number) => [...t.ids.subarray(r * 3, r * 3 + 3)];
    // Prefix [BOS, 5] of session 0's first window (row 1) and of its second (row 3): only session 1 {5, 7} is a neighbour.
    const whole = neighbourhoodSoftTargets(windows, isItem, V, { k: 3, sessionOf: [0, 0, 1] });
    expect(row(whole, 1)).toEqual([5, 7, 0]);
    expect(row(whole, 3)).toEqual([5, 7, 0]);
    // Windows taken as sessions, its own second window would teach it its future item 6.
    expect(row(neighbourhoodSoftTargets(windows, isItem, V, { k: 3 }), 1)).toEqual([5, 6, 7]);
    expect(() => neighbourhoodSoftTargets(windows, isItem, V, { k: 3, sessionOf: [0, 1] })).toThrow(/2 sessions given for 3 sequences/);
  });

  it('refuses a k or share it cannot use', () => {
    expect(() => neighbourhoodSoftTargets(train, isItem, V, { k: 0 })).toThrow(/k must be a positive integer/);
    expect(() => neighbourhoodSoftTargets(train, isItem, V, { k: 2, share: 1.5 })).toThrow(/share must be in/);
  });
});

describe('hunch soft-targets', () => {
  let work: string;
  let cli: Cli;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'hunch-soft-targets-'));
    cli = await buildCli('soft-targets');
  }, 120_000);
  afterAll(async () => {
    await cli?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes a manifest and k ids then k weights per position beside the shards, or into --out', { timeout: 120_000 }, async () => {
    const { shards } = await simulatedShards(cli, work, 120, 3);
    const made = await cli.run(['soft-targets', '--shards', shards, '--k', '4']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toMatch(/soft targets -> .*: \d+ of \d+ positions, 4 items each/);
    const manifest = JSON.parse(await readFile(join(shards, 'soft-targets.json'), 'utf8')) as Record<string, number | string>;
    expect(manifest).toMatchObject({ format: 'hunch-soft-targets', version: 1, k: 4, sampleSize: 500, neighbours: 100, share: 1 });
    const bytes = await readFile(join(shards, String(manifest.file)));
    const positions = Number(manifest.positions);
    expect(bytes.length).toBe(positions * 4 * 8);
    const weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset + positions * 16, bytes.byteOffset + bytes.length));
    const sums = Array.from({ length: positions }, (_, p) => weights.subarray(p * 4, p * 4 + 4).reduce((a, b) => a + b, 0));
    expect(sums.filter((s) => Math.abs(s - 1) < 1e-5).length).toBe(Number(manifest.covered));
    expect(sums.filter((s) => s === 0).length).toBe(positions - Number(manifest.covered));
    const elsewhere = join(work, 'elsewhere');
    expect((await cli.run(['soft-targets', '--shards', shards, '--k', '2', '--out', elsewhere])).code).toBe(0);
    expect(JSON.parse(await readFile(join(elsewhere, 'soft-targets.json'), 'utf8')).k).toBe(2);
  });

  it('says in one line what is wrong with its input', { timeout: 60_000 }, async () => {
    const missing = await cli.run(['soft-targets', '--shards', join(work, 'none')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const bad = await cli.run(['soft-targets', '--shards', work, '--share', '2']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--share must be at most 1/);
  });
});
