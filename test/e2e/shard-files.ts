/**
 * Writes a big shop's shard files into a model directory the way `hunch export` does
 * (hunch.json listing each shard family by its listing, core's shard-listing.ts), or the way
 * exports from before listings did (each shard in hunch.json's files): what the shard tests serve.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compactListing, type HunchManifest } from '@hunch/core';

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Writes `files` (path -> bytes, directories made) into `dir` and lists them in `manifest.files`: by their listings when `listing`, else each itself. */
export async function writeShardFiles(dir: string, files: ReadonlyMap<string, Uint8Array>, manifest: HunchManifest, listing: boolean): Promise<void> {
  const listed = listing ? compactListing(files, sha256) : files;
  for (const [path, bytes] of new Map([...files, ...listed])) await writeFile(join(dir, path), bytes);
  for (const [path, bytes] of listed) manifest.files[path] = { sha256: sha256(bytes), bytes: bytes.length };
}
