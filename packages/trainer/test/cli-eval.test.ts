/**
 * `hunch benchmark --out` saves the trained model as a checkpoint, and `hunch eval` scores
 * it again by full ranking with the baselines: the same figures, the same predictions.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNextItemCheckpoint } from '../src/next-item/checkpoint.js';
import { buildCli, lastJson, writeSequencesDataset, writeSessionsDataset, type Cli } from './cli-helpers.js';

let cli: Cli;
let work: string;

beforeAll(async () => {
  cli = await buildCli('eval');
  work = await mkdtemp(join(tmpdir(), 'hunch-cli-eval-'));
});

afterAll(async () => {
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

const METRICS = ['P', 'HR', 'MRR', 'NDCG'].flatMap((m) => [5, 10, 20].map((k) => `${m}@${k}`)).sort();

describe('hunch eval', () => {
  it('scores a benchmark checkpoint exactly as the benchmark did, baselines and predictions included', async () => {
    const { train, test } = await writeSessionsDataset(join(work, 'sessions'), 5, 120);
    const ckpt = join(work, 'sessions-model');
    const data = ['--format', 'sessions', '--train', train, '--test', test];
    const bench = await cli.run(['benchmark', ...data, '--json', '--workers', '1', '--epochs', '2', '--out', ckpt, '--predictions', join(work, 'bench.txt')]);
    expect(bench.code, bench.stderr).toBe(0);
    expect(bench.stderr).toContain(`checkpoint -> ${ckpt}`);

    // The checkpoint carries the heads next to the GPT-2 tensors, and says which they are.
    const model = await readNextItemCheckpoint(ckpt);
    expect([...model.weights.keys()]).toEqual(expect.arrayContaining(['lm_head.bias', 'hunch.repeat.weight', 'hunch.repeat.bias']));
    expect(model.heads).toMatchObject({ itemBias: true, repeat: true });
    expect(model.vocabulary.slice(3).every((token) => token.startsWith('item:'))).toBe(true);

    const evaluated = await cli.run(['eval', '--model', ckpt, ...data, '--json', '--predictions', join(work, 'eval.txt')]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stderr).toMatch(/^tfjs backend: /m);
    const b = lastJson(bench.stdout) as { model: Record<string, number>; baselines: Record<string, Record<string, number>>; examples: number; params: number };
    const e = lastJson(evaluated.stdout) as typeof b;
    expect(Object.keys(e.model).sort()).toEqual(METRICS);
    expect(Object.keys(e.baselines).sort()).toEqual(['markov', 'popularity', 'sknn', 'stan']);
    expect(e.model).toEqual(b.model);
    expect(e.baselines).toEqual(b.baselines);
    expect(e.examples).toBe(b.examples);
    expect(e.params).toBe(b.params);
    // A learnable chain: the model is far above popularity, so this is a real model scored.
    expect(e.model['P@5']!).toBeGreaterThan(e.baselines.popularity!['P@5']! + 0.2);
    const predictions = await readFile(join(work, 'eval.txt'), 'utf8');
    expect(predictions).toBe(await readFile(join(work, 'bench.txt'), 'utf8'));
    expect(predictions.trim().split('\n')).toHaveLength(e.examples);

    // The backend override reaches the CLI: the same model on tfjs's cpu backend scores the
    // same up to float rounding (at most a near-tie flipping one example's rank).
    const onCpu = await cli.run(['eval', '--model', ckpt, ...data, '--json'], { HUNCH_TFJS_BACKEND: 'cpu' });
    expect(onCpu.code, onCpu.stderr).toBe(0);
    expect(onCpu.stderr).toMatch(/^tfjs backend: cpu \(HUNCH_TFJS_BACKEND=cpu\)$/m);
    const c = lastJson(onCpu.stdout) as typeof b;
    for (const name of METRICS) expect(Math.abs(c.model[name]! - e.model[name]!), name).toBeLessThanOrEqual(1 / e.examples + 1e-12);
  });

  it('evaluates user sequences leave-one-out, and refuses a dataset with other items in one line', async () => {
    const data = await writeSequencesDataset(join(work, 'sequences'), 8);
    const ckpt = join(work, 'sequences-model');
    const bench = await cli.run(['benchmark', '--format', 'sequences', '--data', data, '--json', '--workers', '1', '--epochs', '1', '--out', ckpt]);
    expect(bench.code, bench.stderr).toBe(0);
    const evaluated = await cli.run(['eval', '--model', ckpt, '--format', 'sequences', '--data', data]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toMatch(/^model +[\d.]+/m); // the table without --json
    const b = lastJson(bench.stdout);
    const e = lastJson(evaluated.stdout);
    expect(e.model).toEqual(b.model);
    expect(e.baselines).toEqual(b.baselines);

    // The sessions data has 30 items, this model 25: scoring would rank the wrong items.
    const other = await writeSessionsDataset(join(work, 'other'), 6);
    const wrong = await cli.run(['eval', '--model', ckpt, '--format', 'sessions', '--train', other.train, '--test', other.test]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.trim().split('\n')).toEqual([`hunch: ${ckpt} was trained on other items: 25 items in the checkpoint, 30 in the data`]);
  });

  it('stops with one line when the checkpoint, an option or the backend is wrong', async () => {
    const data = await writeSequencesDataset(join(work, 'sequences-2'), 9);
    const missing = await cli.run(['eval', '--model', join(work, 'nope'), '--format', 'sequences', '--data', data]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toEqual([`hunch: cannot read ${join(work, 'nope', 'config.json')}: ENOENT`]);
    const noModel = await cli.run(['eval', '--format', 'sequences', '--data', data]);
    expect(noModel.code).not.toBe(0);
    expect(noModel.stderr.trim()).toBe('hunch: --model is required (run "hunch help" for usage)');
    const bogus = await cli.run(['benchmark', '--format', 'sequences', '--data', data, '--workers', '1'], { HUNCH_TFJS_BACKEND: 'bogus' });
    expect(bogus.code).not.toBe(0);
    expect(bogus.stderr.trim().split('\n')).toEqual(['hunch: HUNCH_TFJS_BACKEND must be one of wasm, cpu, tensorflow; got "bogus"']);
  });
});
