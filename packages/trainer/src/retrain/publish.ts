/**
 * Publishing into the model directory a shop serves, and rolling back. Every published
 * version is a complete folder under VERSIONS_DIR (the live one copied there first), and
 * VERSIONS_DIR/history.json lists them, oldest first, the live one last. Installing a version
 * copies each of its files beside its target, then renames them into place (never a
 * half-written file), the model files first and hunch.json last, then removes the files only
 * the replaced version listed. The SDK loads fixed paths (onnx/model_quantized.onnx, catalog.json, ...) and checks
 * each against hunch.json's SHA-256: a page that read the old hunch.json just before the swap
 * and a new file just after rejects that file rather than running a mix, and its next load
 * finds the new version whole.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MANIFEST_FILE, parseManifest, type HunchManifest, type ModelFileEntry } from '@hunch/core';
import { writeDirAtomic, writeFileAtomic } from '../lib/fs-atomic.js';
import { modelFiles, shardsListed } from '../model-directory.js';
import { withDirectoryLock } from './lock.js';

/** Where the versions are kept, inside the model directory. */
export const VERSIONS_DIR = '.hunch-versions';
const HISTORY_FILE = 'history.json';
/** Versions kept: the live one and the two before it (one rollback, and one more). */
export const KEPT_VERSIONS = 3;

export interface Published {
  version: string;
  /** Its folder under VERSIONS_DIR. */
  path: string;
  /** The version it replaced, and where that is kept. */
  previous: { version: string; path: string };
}

export interface RolledBack {
  /** The version taken down (its folder removed) and the one restored. */
  from: string;
  to: string;
  path: string;
}

export async function readManifestAt(dir: string): Promise<HunchManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`${dir} is not a model directory: cannot read ${MANIFEST_FILE} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    return parseManifest(JSON.parse(text));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

/** Throws naming the first of `files` whose bytes in `dir` are missing or differ (`where`: the file that lists them). */
async function verifyFiles(dir: string, files: Iterable<[string, ModelFileEntry]>, where: string): Promise<void> {
  for (const [path, entry] of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, path));
    } catch {
      throw new Error(`${join(dir, path)} is missing (listed in ${where})`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== entry.bytes || sha256 !== entry.sha256) throw new Error(`${join(dir, path)} does not match ${where} (${bytes.length} bytes, SHA-256 ${sha256})`);
  }
}

/** Throws naming the first file of `manifest` (its listed shards included) whose bytes in `dir` are missing or differ. */
export async function verifyModelFiles(dir: string, manifest: HunchManifest): Promise<void> {
  await verifyFiles(dir, Object.entries(manifest.files), MANIFEST_FILE);
  for (const { listing, shards } of await shardsListed(dir, manifest)) await verifyFiles(dir, shards, listing);
}

const versionsOf = (live: string) => join(live, VERSIONS_DIR);

/** Runs `run` as the only retrain or rollback of `live` (lock.ts); throws one line when another holds it. */
export const withModelLock = <T>(live: string, log: (line: string) => void, run: () => Promise<T>): Promise<T> => withDirectoryLock(versionsOf(live), log, run);

async function readHistory(live: string): Promise<string[]> {
  const path = join(versionsOf(live), HISTORY_FILE);
  if (!existsSync(path)) return [];
  const parsed = JSON.parse(await readFile(path, 'utf8')) as { versions?: unknown };
  if (!Array.isArray(parsed.versions) || !parsed.versions.every((v) => typeof v === 'string')) throw new Error(`${path}: versions must be a list of version names`);
  return parsed.versions as string[];
}

/** Writes the history (at most KEPT_VERSIONS, the latest) and removes every version folder it no longer names. */
async function keepHistory(live: string, versions: string[]): Promise<void> {
  const kept = versions.slice(-KEPT_VERSIONS);
  await writeFileAtomic(join(versionsOf(live), HISTORY_FILE), `${JSON.stringify({ versions: kept }, null, 2)}\n`);
  // Dot-folders are not versions: the lock (lock.ts) and staging folders.
  for (const entry of await readdir(versionsOf(live), { withFileTypes: true })) {
    if (entry.isDirectory() && !entry.name.startsWith('.') && !kept.includes(entry.name)) await rm(join(versionsOf(live), entry.name), { recursive: true, force: true });
  }
}

/** Every file of a model version in `dir`: the shards its listings name, its listed files, hunch.json last. */
const filesOf = async (dir: string, manifest: HunchManifest) => [...(await modelFiles(dir, manifest)).map(([path]) => path), MANIFEST_FILE];

/** The live model, copied into its version folder (checked first) unless it is there already. */
async function archive(live: string, manifest: HunchManifest): Promise<string> {
  const target = join(versionsOf(live), manifest.version);
  if (existsSync(join(target, MANIFEST_FILE))) return target;
  await verifyModelFiles(live, manifest);
  await writeDirAtomic(target, async (dir) => {
    for (const path of await filesOf(live, manifest)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await copyFile(join(live, path), join(dir, path));
    }
  });
  return target;
}

/**
 * Puts version folder `from` (manifest `next`) in place in `live`, which holds `current`: every
 * file copied beside its target first, then the renames alone (the moments a page could catch
 * old and new side by side), hunch.json last.
 */
async function install(live: string, from: string, next: HunchManifest, current: HunchManifest): Promise<void> {
  // Read before the swap: the live listings are replaced with the rest.
  const currentFiles = await filesOf(live, current);
  const nextFiles = await filesOf(from, next);
  const moves = nextFiles.map((path) => {
    const target = join(live, path);
    return { path, target, temp: join(dirname(target), `.${path.split('/').pop()}.publish-${process.pid}`) };
  });
  try {
    for (const { path, target, temp } of moves) {
      await mkdir(dirname(target), { recursive: true });
      await copyFile(join(from, path), temp);
    }
    for (const { target, temp } of moves) await rename(temp, target);
  } finally {
    await Promise.all(moves.map(({ temp }) => rm(temp, { force: true })));
  }
  const listed = new Set(nextFiles);
  for (const path of currentFiles) if (!listed.has(path)) await rm(join(live, path), { force: true });
}

const STAGING_PREFIX = '.staging-';

/** Staging folders of runs that were killed; the caller holds the lock (lock.ts), so none is in use. */
async function removeLeftStaging(live: string): Promise<void> {
  for (const entry of await readdir(versionsOf(live), { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name.startsWith(STAGING_PREFIX)) await rm(join(versionsOf(live), entry.name), { recursive: true, force: true });
  }
}

/**
 * Publishes a new version into `live`: keeps the live version, lets `write` fill a staging
 * folder (as `hunch export` does its --out), checks it, and installs it. The caller holds
 * `live`'s lock (lock.ts).
 */
export async function publishModel(live: string, write: (dir: string) => Promise<unknown>): Promise<Published> {
  const current = await readManifestAt(live);
  const previousPath = await archive(live, current);
  const staging = join(versionsOf(live), `${STAGING_PREFIX}${process.pid}`);
  await removeLeftStaging(live);
  try {
    await write(staging);
    const next = await readManifestAt(staging);
    await verifyModelFiles(staging, next);
    if (next.version === current.version) throw new Error(`the candidate is the live model's version ${current.version}: nothing to publish`);
    const path = join(versionsOf(live), next.version);
    await rm(path, { recursive: true, force: true });
    await rename(staging, path);
    await install(live, path, next, current);
    const history = await readHistory(live);
    if (history.at(-1) !== current.version) history.push(current.version);
    await keepHistory(live, [...history, next.version]);
    return { version: next.version, path, previous: { version: current.version, path: previousPath } };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Restores the version published before the live one, exactly (its files checked first), and
 * forgets the live one; holding `live`'s lock, so never during a retrain.
 */
export function rollbackModel(live: string, log: (line: string) => void = console.error): Promise<RolledBack> {
  return withModelLock(live, log, () => rollbackLocked(live));
}

async function rollbackLocked(live: string): Promise<RolledBack> {
  const current = await readManifestAt(live);
  const history = await readHistory(live);
  if (history.length === 0) throw new Error(`${live}: nothing to roll back to (hunch retrain has not published into it)`);
  if (history.at(-1) !== current.version) {
    throw new Error(`${live} serves version ${current.version}, which hunch retrain did not publish (its last was ${history.at(-1)}): nothing to roll back to`);
  }
  const previous = history.at(-2);
  if (previous === undefined) throw new Error(`${live}: no earlier version is kept (${join(VERSIONS_DIR, HISTORY_FILE)} lists only ${current.version})`);
  const path = join(versionsOf(live), previous);
  const restored = await readManifestAt(path);
  await verifyModelFiles(path, restored);
  await install(live, path, restored, current);
  await keepHistory(live, history.slice(0, -1));
  return { from: current.version, to: previous, path };
}
