import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BASELINE_NAMES, createBaseline } from '../src/eval/baselines/index.js';
import { loadLeaveOneOutBenchmark, loadSessionsBenchmark } from '../src/eval/benchmark-data.js';
import { evaluateRecommender } from '../src/eval/metrics.js';

const dir = mkdtempSync(join(tmpdir(), 'hunch-benchmark-'));
const plain = (arrays: Iterable<Int32Array>) => [...arrays].map((a) => [...a]);

describe('loadSessionsBenchmark', () => {
  it('indexes training items and builds every SR-GNN example, those with unknown test items included', async () => {
    const trainPath = join(dir, 'train.txt.gz');
    const testPath = join(dir, 'test.txt');
    writeFileSync(trainPath, gzipSync('5 7 5\n9 7\nbad line\n'));
    writeFileSync(testPath, '7 8 9 5\n8 9\n');
    const data = await loadSessionsBenchmark(trainPath, testPath);
    expect(data.items.rawIds).toEqual(['5', '7', '9']);
    expect(plain(data.train)).toEqual([[0, 1, 0], [2, 1]]);
    expect([...data.popularity]).toEqual([2, 2, 1]);
    expect(data.unknownTestItems).toBe(2);
    // 4 examples, as the protocol gives (3 + 1): 8 is unknown, so one target is a miss
    // (-1) and one prefix ([8]) has no known item. Dropping them left 2.
    expect(plain(data.test.prefixes)).toEqual([[1, 2], [1], [1], []]);
    expect([...data.test.targets]).toEqual([0, 2, -1, 2]);
    expect(data.unknown).toEqual({ targets: 1, prefixes: 1 });
    expect(data.mask).toBe('none');
    expect(data.skipped[trainPath]).toEqual({ skipped: 1, firstSkippedLines: [3] });
    for (const name of BASELINE_NAMES) {
      const result = await evaluateRecommender(createBaseline(name, data.train, data.items.size, data.popularity), data.test, {
        popularity: data.popularity,
        rawIds: data.items.rawIds,
      });
      expect(result.examples).toBe(4);
      expect(result.unknown).toEqual({ targets: 1, prefixes: 1 });
      expect(result.metrics['P@5']).toBe(0.75); // only 3 items: every known target is in the top 5, the unknown one never
    }
  });

  it('scores every example: an unknown target is a miss, an unknown prefix gets the popularity ranking', async () => {
    const trainPath = join(dir, 'train2.txt');
    const testPath = join(dir, 'test2.txt');
    writeFileSync(trainPath, '5 7 5\n9 7\n');
    writeFileSync(testPath, '7 8 9 5\n8 9\n');
    const data = await loadSessionsBenchmark(trainPath, testPath);
    // Always 9 first; it must never be asked about a prefix with no known item.
    const asked: number[][] = [];
    const nineFirst = {
      name: 'nine-first',
      score: (prefixes: readonly Int32Array[]) =>
        prefixes.map((prefix) => {
          asked.push([...prefix]);
          if (prefix.length === 0) throw new Error('empty prefix');
          return Float32Array.from([0, 0, 5]);
        }),
    };
    const tops: string[][] = [];
    const result = await evaluateRecommender(nineFirst, data.test, {
      popularity: data.popularity,
      rawIds: data.items.rawIds,
      ks: [1, 5],
      onTopK: (top) => tops.push(top),
    });
    // Ranks: 5 after [7, 9] -> 2 (9 first, 5 wins the tie with 7); 9 after [7] -> 1;
    // 8 -> miss; 9 after [8] -> 3 (by popularity: 5, 7, 9).
    expect(result.examples).toBe(4);
    expect(result.metrics['P@1']).toBe(1 / 4);
    expect(result.metrics['P@5']).toBe(3 / 4);
    expect(result.metrics['MRR@5']).toBeCloseTo((1 / 2 + 1 + 0 + 1 / 3) / 4, 12);
    expect(result.metrics['NDCG@5']).toBeCloseTo((1 / Math.log2(3) + 1 + 0 + 1 / Math.log2(4)) / 4, 12);
    expect(asked).toEqual([[1, 2], [1], [1]]);
    expect(tops).toEqual([['9', '5', '7'], ['9', '5', '7'], ['9', '5', '7'], ['5', '7', '9']]);
  });
});

describe('loadLeaveOneOutBenchmark', () => {
  it('ranks every item of the file, fits on all but the last two, masks the history', async () => {
    const path = join(dir, 'sequences.txt');
    writeFileSync(path, '1 10 20 30 40\n2 20 30 50\n3 60\n');
    const data = await loadLeaveOneOutBenchmark(path);
    expect(data.items.rawIds).toEqual(['10', '20', '30', '40', '50', '60']);
    expect(data.tooShortUsers).toBe(1);
    expect(plain(data.train)).toEqual([[0, 1], [1]]);
    expect([...data.popularity]).toEqual([1, 2, 0, 0, 0, 0]);
    expect([...data.test.targets]).toEqual([3, 4]);
    expect([...data.validation!.targets]).toEqual([2, 2]);
    expect(Array.from(data.test.sources, (u) => data.users![u])).toEqual(['1', '2']);
    expect(data.mask).toBe('history');
    expect(data.unknown).toEqual({ targets: 0, prefixes: 0 });
  });
});
