import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Every file under `dir` (an app's build, its installed packages), its path relative to `dir`, with its bytes. */
export async function filesOf(dir: string, prefix = ''): Promise<Array<{ path: string; bytes: Buffer }>> {
  const found: Array<{ path: string; bytes: Buffer }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(prefix, entry.name);
    if (entry.isDirectory()) found.push(...(await filesOf(join(dir, entry.name), path)));
    else found.push({ path, bytes: await readFile(join(dir, entry.name)) });
  }
  return found;
}
