/**
 * Writes a whole directory or file so that readers see either the old version or the
 * complete new one, never a half-written mix: build beside the target, then rename.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const sibling = (target: string, tag: string) =>
  join(dirname(target), `.${basename(target)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);

/**
 * Calls `fill` with an empty temporary directory next to `target`, then swaps it in.
 * If `fill` throws, the temporary directory is removed and `target` is left as it was.
 */
export async function writeDirAtomic(target: string, fill: (dir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = sibling(target, 'tmp');
  await mkdir(temp);
  try {
    await fill(temp);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  // rename() cannot replace a non-empty directory: move the old one aside first.
  const old = sibling(target, 'old');
  let movedOld = false;
  try {
    await rename(target, old);
    movedOld = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
  }
  try {
    await rename(temp, target);
  } catch (error) {
    if (movedOld) await rename(old, target);
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  if (movedOld) await rm(old, { recursive: true, force: true });
}

/** Writes one file via a temporary sibling and a rename. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = sibling(target, 'tmp');
  try {
    await writeFile(temp, data);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
