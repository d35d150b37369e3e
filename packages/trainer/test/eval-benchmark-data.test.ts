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
  it('indexes training items, drops unknown test items and builds SR-GNN examples', async () => {
    const trainPath = join(dir, 'train.txt.gz');
    const testPath = join(dir, 'test.txt');
    writeFileSync(trainPath, gzipSync('5 7 5\n9 7\nbad line\n'));
    writeFileSync(testPath, '7 8 9 5\n8 9\n');
    const data = await loadSessionsBenchmark(trainPath, testPath);
    expect(data.items.rawIds).toEqual(['5', '7', '9']);
    expect(plain(data.train)).toEqual([[0, 1, 0], [2, 1]]);
    expect([...data.popularity]).toEqual([2, 2, 1]);
    expect(data.unknownTestItems).toBe(2);
    // Test sessions become [7, 9, 5] and [9] (8 unknown).
    expect(plain(data.test.prefixes)).toEqual([[1, 2], [1]]);
    expect([...data.test.targets]).toEqual([0, 2]);
    expect(data.mask).toBe('none');
    expect(data.skipped[trainPath]).toEqual({ skipped: 1, firstSkippedLines: [3] });
    for (const name of BASELINE_NAMES) {
      const result = await evaluateRecommender(createBaseline(name, data.train, data.items.size, data.popularity), data.test, {
        popularity: data.popularity,
        rawIds: data.items.rawIds,
      });
      expect(result.examples).toBe(2);
      expect(result.metrics['P@5']).toBe(1); // only 3 items
    }
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
  });
});
