import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readLines } from '../src/data/lines.js';

const dir = mkdtempSync(join(tmpdir(), 'hunch-lines-'));

async function collect(path: string): Promise<Array<[number, string]>> {
  const lines: Array<[number, string]> = [];
  for await (const { line, number } of readLines(path)) lines.push([number, line]);
  return lines;
}

describe('readLines', () => {
  it('numbers lines, strips \\n and \\r\\n, keeps a last line without terminator', async () => {
    const path = join(dir, 'plain.txt');
    writeFileSync(path, 'a b\r\n\nc\nlast');
    expect(await collect(path)).toEqual([
      [1, 'a b'],
      [2, ''],
      [3, 'c'],
      [4, 'last'],
    ]);
  });

  it('adds no empty line after a final newline', async () => {
    const path = join(dir, 'final-newline.txt');
    writeFileSync(path, 'x\ny\n');
    expect(await collect(path)).toEqual([
      [1, 'x'],
      [2, 'y'],
    ]);
  });

  it('gunzips .gz files, across chunk boundaries', async () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `${i} ${i + 1}`).join('\n');
    const path = join(dir, 'big.txt.gz');
    writeFileSync(path, gzipSync(text));
    const lines = await collect(path);
    expect(lines.length).toBe(20_000);
    expect(lines[0]).toEqual([1, '0 1']);
    expect(lines[12_345]).toEqual([12_346, '12345 12346']);
  });

  it('names the file when it is missing', async () => {
    const path = join(dir, 'missing.txt');
    await expect(collect(path)).rejects.toThrow(`Cannot read ${path}: no such file`);
  });

  it('names the file when it is not valid gzip', async () => {
    const path = join(dir, 'broken.gz');
    writeFileSync(path, 'this is not gzip');
    await expect(collect(path)).rejects.toThrow(`Cannot read ${path}: not a valid gzip file`);
  });

  it('names the file when it is a directory', async () => {
    await expect(collect(dir)).rejects.toThrow(`Cannot read ${dir}: is a directory`);
  });
});
