/**
 * `hunch benchmark --attributes FILE` on the ordinary protocol (no new items): the model
 * composes its item vectors with their attributes', saves them in its checkpoint, and
 * `hunch eval` scores that checkpoint as the benchmark did. A bad file is one error line.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNextItemCheckpoint } from '../src/next-item/checkpoint.js';
import { ATTR_TABLE } from '../src/next-item/heads.js';
import { buildCli, lastJson, type Cli } from './cli-helpers.js';

let cli: Cli;
let work: string;
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const data = ['--format', 'sequences', '--data', fixture('cold-items.txt')];
const train = ['--json', '--workers', '1', '--epochs', '2'];

beforeAll(async () => {
  cli = await buildCli('benchmark-attributes');
  work = await mkdtemp(join(tmpdir(), 'hunch-cli-attributes-'));
});

afterAll(async () => {
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('hunch benchmark --attributes', () => {
  it('trains attribute-composed item vectors on the ordinary split, and hunch eval scores the checkpoint the same', async () => {
    const ckpt = join(work, 'with-attributes');
    const bench = await cli.run(['benchmark', ...data, '--attributes', fixture('cold-items-attributes.json'), ...train, '--out', ckpt]);
    expect(bench.code, bench.stderr).toBe(0);
    // The fixture's 8 items and 5 attribute ids (its item 999 is not in the data).
    expect(bench.stderr).toMatch(/item attributes: 5 attribute ids covering 8 of 8 items/);
    const withAttributes = lastJson(bench.stdout) as { attributes: unknown; params: number; model: Record<string, number>; examples: number };
    expect(withAttributes.attributes).toEqual({ ids: 5, items_covered: 8 });
    expect(withAttributes.examples).toBe(3);

    const plain = await cli.run(['benchmark', ...data, ...train]);
    expect(plain.code, plain.stderr).toBe(0);
    const without = lastJson(plain.stdout) as typeof withAttributes;
    expect(without.attributes).toBeNull();
    expect(withAttributes.params).toBeGreaterThan(without.params);

    // The checkpoint holds the attribute table and says so in its heads.
    const model = await readNextItemCheckpoint(ckpt);
    expect(model.heads.attributes).toEqual({ count: 5, perItem: 2 });
    expect(model.weights.get(ATTR_TABLE)?.shape).toEqual([5, model.config.nEmbd]);

    const evaluated = await cli.run(['eval', '--model', ckpt, ...data, '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const e = lastJson(evaluated.stdout) as typeof withAttributes;
    expect(e.model).toEqual(withAttributes.model);
    expect(e.params).toBe(withAttributes.params);
  }, 120_000);

  it('refuses an attribute file that is not an object of item ids in one line', async () => {
    const bad = join(work, 'bad-attributes.json');
    await writeFile(bad, '[1, 2, 3]');
    const run = await cli.run(['benchmark', ...data, '--attributes', bad, ...train]);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/item attributes: expected a JSON object of item id -> attribute ids/)]);
    const stray = await cli.run(['benchmark', ...data, '--new-every', '5']);
    expect(stray.stderr).toMatch(/--new-every and --embedding-drop go with --cold-items/);
  }, 60_000);
});
