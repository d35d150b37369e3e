/**
 * `hunch benchmark --cold-items --attributes FILE`: the new-items protocol end to end on
 * the hand-made fixture, printed as one JSON line; misuse is a usage error.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, lastJson, type Cli } from './cli-helpers.js';

let cli: Cli;
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const data = ['--format', 'sequences', '--data', fixture('cold-items.txt'), '--attributes', fixture('cold-items-attributes.json')];

beforeAll(async () => {
  cli = await buildCli('cold-items');
});

afterAll(async () => {
  await cli?.dispose();
});

describe('hunch benchmark --cold-items', () => {
  it('prints the model with and without attributes and the baselines, apart for new and known targets', async () => {
    const run = await cli.run(['benchmark', '--cold-items', ...data, '--json', '--workers', '1', '--epochs', '2', '--time-budget', '1', '--embedding-drop', '0.3']);
    expect(run.code, run.stderr).toBe(0);
    const result = lastJson(run.stdout) as Record<string, any>;
    expect(result.protocol).toBe('cold-items');
    expect(result.embedding_drop).toBe(0.3);
    expect(result.new_items).toBe(2);
    expect(result.examples).toEqual({ new: 1, known: 2 });
    expect(result.attributes).toEqual({ ids: 5, items_covered: 8 });
    expect(result.validation_examples).toBe(2);
    expect(Object.keys(result.baselines).sort()).toEqual(['attributes', 'markov', 'popularity']);
    // The hand-made case of eval-cold-items.test.ts: the attribute baseline ranks the new target first.
    expect(result.baselines.attributes.new['NDCG@10']).toBe(1);
    // Baselines without attributes cannot score a new item above the known ones: only the tie-break ranks it.
    expect(result.baselines.popularity.new['HR@10']).toBe(1); // 8 items, 2 masked: every item is in the top 10
    for (const model of ['model_with_attributes', 'model_without_attributes']) {
      for (const part of ['new', 'known', 'all']) expect(Object.keys(result[model][part]).sort()).toEqual(['HR@10', 'HR@20', 'NDCG@10', 'NDCG@20']);
    }
    expect(result.training.with_attributes.params).toBeGreaterThan(result.training.without_attributes.params);
    expect(Object.keys(result.targets).sort()).toEqual(['known_hr10_change', 'known_ndcg10_change', 'new_hr10_over_known_hr10', 'new_hr10_vs_attribute_baseline']);
    expect(run.stderr).toMatch(/8 items, 2 new/);
  }, 120_000);

  it('refuses what does not fit the protocol', async () => {
    const noAttributes = await cli.run(['benchmark', '--cold-items', '--format', 'sequences', '--data', fixture('cold-items.txt')]);
    expect(noAttributes.code).not.toBe(0);
    expect(noAttributes.stderr).toMatch(/--attributes is required/);
    const sessions = await cli.run(['benchmark', '--cold-items', '--format', 'sessions', '--train', fixture('cold-items.txt'), '--test', fixture('cold-items.txt'), '--attributes', 'x.json']);
    expect(sessions.stderr).toMatch(/needs --format sequences/);
    const stray = await cli.run(['benchmark', ...data, '--new-every', '5']);
    expect(stray.stderr).toMatch(/go with --cold-items/);
    const badDrop = await cli.run(['benchmark', '--cold-items', ...data, '--embedding-drop', '1']);
    expect(badDrop.stderr).toMatch(/--embedding-drop must be a share/);
  }, 60_000);
});
