/**
 * publish.ts on real directories: a copy of the shipped demo model is the live one; new
 * versions are that model with another catalog.json (a real, complete model directory with
 * its hunch.json naming the new bytes).
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockPathOf, STALE_LOCK_MS } from '../src/retrain/lock.js';
import { retrain } from '../src/retrain/retrain.js';
import { CATALOG_FILE, CATALOG_SHARD_LISTING, catalogShardFile, compactListing, parseCatalog } from '@hunch/core';
import { catalogFiles } from '../src/catalog-files.js';
import { KEPT_VERSIONS, publishModel, rollbackModel, VERSIONS_DIR, withModelLock } from '../src/retrain/publish.js';

const demo = fileURLToPath(new URL('../../../models/demo', import.meta.url));
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** Every file under `dir` but the kept versions, path -> SHA-256: what the shop serves. */
async function servedHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    if (entry.isFile() && !relative(dir, path).startsWith(VERSIONS_DIR)) out[relative(dir, path)] = sha256(await readFile(path));
  }
  return out;
}

/** Writes the demo model into `out` as version `tag`: its catalog.json changed, hunch.json naming the new bytes. */
async function writeVersion(out: string, tag: string, damage = false): Promise<void> {
  await cp(demo, out, { recursive: true });
  const catalog = `${(await readFile(join(out, 'catalog.json'), 'utf8')).trimEnd()}\n\n${tag.replace(/./g, ' ')}\n`;
  await writeFile(join(out, 'catalog.json'), catalog);
  const manifest = JSON.parse(await readFile(join(out, 'hunch.json'), 'utf8')) as { version: string; files: Record<string, { sha256: string; bytes: number }> };
  manifest.version = tag;
  manifest.files['catalog.json'] = { sha256: sha256(catalog), bytes: Buffer.byteLength(catalog) };
  if (damage) await writeFile(join(out, 'onnx', 'model_quantized.onnx'), 'not the listed bytes');
  await writeFile(join(out, 'hunch.json'), JSON.stringify(manifest));
}

/**
 * Writes the demo model into `out` as version `tag` with its catalog as shards, hunch.json listing
 * them by their listing (core's shard-listing.ts) as `hunch export` does for a big shop.
 * `damage`: one shard's bytes differ from the listing's.
 */
async function writeShardedVersion(out: string, tag: string, damage = false): Promise<void> {
  await cp(demo, out, { recursive: true });
  const catalog = parseCatalog(JSON.parse(await readFile(join(out, CATALOG_FILE), 'utf8')));
  const files = catalogFiles(catalog.popular, catalog.products, { threshold: 0, shardBytes: 4096 });
  const listed = compactListing(files, sha256);
  await rm(join(out, CATALOG_FILE));
  await mkdir(join(out, 'catalog'));
  for (const [path, bytes] of new Map([...files, ...listed])) await writeFile(join(out, path), bytes);
  if (damage) await writeFile(join(out, catalogShardFile(2)), '{"products":[]}');
  const manifest = JSON.parse(await readFile(join(out, 'hunch.json'), 'utf8')) as { version: string; files: Record<string, { sha256: string; bytes: number }> };
  manifest.version = tag;
  delete manifest.files[CATALOG_FILE];
  for (const [path, bytes] of listed) manifest.files[path] = { sha256: sha256(bytes), bytes: bytes.length };
  await writeFile(join(out, 'hunch.json'), JSON.stringify(manifest));
}

let live: string;
let shipped: Record<string, string>;
beforeEach(async () => {
  live = join(await mkdtemp(join(tmpdir(), 'hunch-publish-')), 'model');
  await cp(demo, live, { recursive: true });
  shipped = await servedHashes(live);
});
afterEach(async () => {
  await rm(join(live, '..'), { recursive: true, force: true });
});

describe('publishModel', () => {
  it('installs the new version whole, hunch.json naming every file, and keeps the one it replaced', async () => {
    const published = await publishModel(live, (out) => writeVersion(out, 'v2'));
    expect(published).toMatchObject({ version: 'v2', previous: { version: 'e6ca28397d3a' } });
    const manifest = JSON.parse(await readFile(join(live, 'hunch.json'), 'utf8')) as { version: string; files: Record<string, { sha256: string }> };
    expect(manifest.version).toBe('v2');
    for (const [path, { sha256: listed }] of Object.entries(manifest.files)) expect(sha256(await readFile(join(live, path))), path).toBe(listed);
    // Nothing else: no copy left beside its target.
    expect(Object.keys(await servedHashes(live)).sort()).toEqual([...Object.keys(manifest.files), 'hunch.json'].sort());
    expect(await servedHashes(published.previous.path)).toEqual(shipped);
    expect(JSON.parse(await readFile(join(live, VERSIONS_DIR, 'history.json'), 'utf8'))).toEqual({ versions: ['e6ca28397d3a', 'v2'] });
  });

  it('leaves the served files as they were when the export fails or its files do not match its hunch.json', async () => {
    await expect(publishModel(live, async () => Promise.reject(new Error('export failed')))).rejects.toThrow('export failed');
    expect(await servedHashes(live)).toEqual(shipped);
    await expect(publishModel(live, (out) => writeVersion(out, 'v2', true))).rejects.toThrow(/model_quantized\.onnx does not match hunch\.json/);
    expect(await servedHashes(live)).toEqual(shipped);
    // No staging folder is left behind.
    expect((await readdir(join(live, VERSIONS_DIR))).sort()).toEqual(['e6ca28397d3a']);
  });

  it('installs, checks and removes the shards a version lists by its shard listing, and rolls them back', async () => {
    await expect(publishModel(live, (out) => writeShardedVersion(out, 'v2', true))).rejects.toThrow(`${catalogShardFile(2)} does not match ${CATALOG_SHARD_LISTING}`);
    expect(await servedHashes(live)).toEqual(shipped);
    await publishModel(live, (out) => writeShardedVersion(out, 'v2'));
    const sharded = await servedHashes(live);
    const shards = Object.keys(sharded).filter((path) => path.startsWith('catalog/shard-'));
    expect(shards.length).toBeGreaterThan(5);
    expect(sharded).not.toHaveProperty(CATALOG_FILE);
    // The next version has no shards: the served directory is that version's files, nothing left over.
    await publishModel(live, (out) => writeVersion(out, 'v3'));
    expect(Object.keys(await servedHashes(live)).filter((path) => path.startsWith('catalog/'))).toEqual([]);
    await rollbackModel(live);
    expect(await servedHashes(live)).toEqual(sharded);
  });

  it(`keeps the last ${KEPT_VERSIONS} versions`, async () => {
    for (const tag of ['v2', 'v3', 'v4']) await publishModel(live, (out) => writeVersion(out, tag));
    expect((await readdir(join(live, VERSIONS_DIR))).filter((name) => name !== 'history.json').sort()).toEqual(['v2', 'v3', 'v4']);
  });
});

describe('rollbackModel', () => {
  it('restores the version before the live one exactly, and refuses once none is left', async () => {
    await publishModel(live, (out) => writeVersion(out, 'v2'));
    expect(await servedHashes(live)).not.toEqual(shipped);
    expect(await rollbackModel(live)).toMatchObject({ from: 'v2', to: 'e6ca28397d3a' });
    expect(await servedHashes(live)).toEqual(shipped);
    await expect(rollbackModel(live)).rejects.toThrow(/no earlier version is kept/);
    expect(await servedHashes(live)).toEqual(shipped);
  });

  it('refuses a directory retrain never published into, changing nothing', async () => {
    await expect(rollbackModel(live)).rejects.toThrow(/nothing to roll back to \(hunch retrain has not published into it\)/);
    expect(await servedHashes(live)).toEqual(shipped);
  });

  it('refuses when the live model is not the one retrain published (changed by hand)', async () => {
    await publishModel(live, (out) => writeVersion(out, 'v2'));
    await writeVersion(live, 'by-hand');
    const before = await servedHashes(live);
    await expect(rollbackModel(live)).rejects.toThrow(/serves version by-hand, which hunch retrain did not publish/);
    expect(await servedHashes(live)).toEqual(before);
  });
});

describe('the model lock', () => {
  const quiet = () => undefined;

  it('refuses a rollback while another run holds the lock, changing nothing, and allows it after', async () => {
    await publishModel(live, (out) => writeVersion(out, 'v2'));
    const published = await servedHashes(live);
    let finish!: () => void;
    const holding = withModelLock(live, quiet, () => new Promise<void>((resolve) => (finish = resolve)));
    await expect.poll(() => readdir(join(live, VERSIONS_DIR))).toContain('.lock');
    await expect(rollbackModel(live, quiet)).rejects.toThrow(/another hunch retrain or rollback holds .*\.lock/);
    await expect(withModelLock(live, quiet, async () => 'second')).rejects.toThrow(/another hunch retrain or rollback holds/);
    expect(await servedHashes(live)).toEqual(published);
    finish();
    await holding;
    expect(await readdir(join(live, VERSIONS_DIR))).not.toContain('.lock');
    expect(await rollbackModel(live, quiet)).toMatchObject({ from: 'v2', to: 'e6ca28397d3a' });
    expect(await servedHashes(live)).toEqual(shipped);
  });

  it('a retrain refuses at once while another run holds the lock, before reading any event', async () => {
    let read = false;
    const events = { name: 'events', scan: async () => ((read = true), { events: 0, skipped: 0, firstSkipped: [] }) };
    await withModelLock(live, quiet, async () => {
      const report = await retrain(events as never, { model: live, timeBudget: 1, log: quiet });
      expect(report).toMatchObject({ decision: 'refused', versions: { published: null } });
      expect(report.reason).toMatch(/another hunch retrain or rollback holds/);
    });
    expect(read).toBe(false);
    expect(await servedHashes(live)).toEqual(shipped);
  });

  it('takes over the lock a killed run left once it is stale, and never counts it as a version', async () => {
    await publishModel(live, (out) => writeVersion(out, 'v2'));
    const lock = lockPathOf(join(live, VERSIONS_DIR));
    await mkdir(lock);
    await expect(rollbackModel(live, quiet)).rejects.toThrow(/another hunch retrain or rollback holds/);
    const longAgo = new Date(Date.now() - 2 * STALE_LOCK_MS);
    await utimes(lock, longAgo, longAgo);
    expect(await rollbackModel(live, quiet)).toMatchObject({ from: 'v2', to: 'e6ca28397d3a' });
    expect(await servedHashes(live)).toEqual(shipped);
  });

  it('a publish removes the staging folder a killed run left, and keeps the lock folder', async () => {
    const left = join(live, VERSIONS_DIR, '.staging-999999');
    await mkdir(left, { recursive: true });
    await writeFile(join(left, 'hunch.json'), '{}');
    await withModelLock(live, quiet, async () => {
      await publishModel(live, (out) => writeVersion(out, 'v2'));
      const entries = await readdir(join(live, VERSIONS_DIR));
      expect(entries).toContain('.lock');
      expect(entries).not.toContain('.staging-999999');
    });
  });
});
