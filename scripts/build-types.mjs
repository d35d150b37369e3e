// `npm run build` (after rollup): each package's `.d.ts` into its dist/types/, the types its
// package.json `exports` name. In dependency order: a package's emit reads the types of the
// workspace packages it imports from their dist/types/ (through node_modules, as a user's tsc would).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

for (const name of ['core', 'collector', 'trainer', 'browser']) {
  rmSync(`${root}packages/${name}/dist/types`, { recursive: true, force: true }); // no stale files from an earlier build
  const run = spawnSync(process.execPath, [tsc, '-p', `${root}packages/${name}/tsconfig.build.json`], { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
