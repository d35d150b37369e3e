/**
 * The four packages as npm would publish them (`npm pack --dry-run`, of the current build): each
 * ships its built JavaScript, its emitted `.d.ts` types, a README and the Apache-2.0 LICENSE, and
 * nothing else (no TypeScript sources, no tests); what `exports`, `types` and `bin` name is in the
 * tarball; every module the shipped code and types import is a dependency (or Node's own); the
 * versions move together. `npm run build` first.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PACKAGES = ['core', 'collector', 'trainer', 'browser'];

interface Packed {
  name: string;
  version: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string; size: number }>;
}
interface Manifest {
  name: string;
  version: string;
  license?: string;
  private?: boolean;
  exports?: Record<string, string | Record<string, string>>;
  types?: string;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}

const manifest = (name: string): Manifest => JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8'));

/** What each tarball must hold beyond LICENSE, README.md and package.json (dist/types/ checked apart). */
const SHIPPED: Record<string, RegExp> = {
  core: /^dist\/index\.js(\.map)?$/,
  collector: /^dist\/index\.js(\.map)?$/,
  trainer: /^(bin\/hunch\.js|dist\/[\w-]+\.js(\.map)?)$/,
  browser: /^dist\/(hunch(\.esm|\.sdk)?\.js(\.map)?|hunch\.worker(\.wasm)?(\.ort)?\.js|ort\/ort-wasm-simd-threaded(\.asyncify)?\.wasm)$/,
};

/** The bare module names `code` imports (static, dynamic and type imports). */
function importedModules(code: string): Set<string> {
  const names = new Set<string>();
  for (const match of code.matchAll(/(?:^|[\s;}])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w.])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
    const specifier = match[1] ?? match[2] ?? match[3]!;
    if (specifier.startsWith('.') || specifier.startsWith('/')) continue;
    names.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
  }
  return names;
}

let packed: Map<string, Packed>;

beforeAll(() => {
  for (const name of PACKAGES) if (!existsSync(join(ROOT, 'packages', name, 'dist/types'))) throw new Error(`packages/${name}/dist/types is missing: run \`npm run build\` first`);
  const json = execFileSync('npm', ['pack', '--dry-run', '--json', ...PACKAGES.flatMap((name) => ['-w', `packages/${name}`])], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  packed = new Map((JSON.parse(json) as Packed[]).map((pack) => [pack.name.replace('@hunch/', ''), pack]));
});

describe('npm packages', () => {
  it.each(PACKAGES)('@hunch/%s ships its build, types, README and LICENSE, and nothing else', (name) => {
    const pack = packed.get(name)!;
    const files = pack.files.map((file) => file.path).sort();
    const types = files.filter((path) => path.startsWith('dist/types/'));
    const rest = files.filter((path) => !path.startsWith('dist/types/') && !['LICENSE', 'README.md', 'package.json'].includes(path));
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    expect(rest.filter((path) => !SHIPPED[name]!.test(path)), 'files not meant to ship').toEqual([]);
    expect(types.length).toBeGreaterThan(0);
    expect(types.filter((path) => !path.endsWith('.d.ts')), 'only .d.ts under dist/types').toEqual([]);
    expect(rest.filter((path) => /(^|\/)(src|test)\//.test(path) || path.endsWith('.ts')), 'sources or tests').toEqual([]);
    if (name === 'browser') {
      for (const file of ['hunch.esm.js', 'hunch.js', 'hunch.sdk.js', 'hunch.worker.js', 'hunch.worker.wasm.js', 'hunch.worker.ort.js', 'hunch.worker.wasm.ort.js', 'ort/ort-wasm-simd-threaded.wasm', 'ort/ort-wasm-simd-threaded.asyncify.wasm']) {
        expect(files).toContain(`dist/${file}`);
      }
    }
    // The licence: Apache-2.0 in the field, and the repository's LICENSE text in the tarball.
    const own = manifest(name);
    expect(own.license).toBe('Apache-2.0');
    expect(own.private).toBeUndefined();
    expect(readFileSync(join(ROOT, 'packages', name, 'LICENSE'), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });

  it.each(PACKAGES)('@hunch/%s: what exports, types and bin name is shipped, and every import is a dependency', (name) => {
    const own = manifest(name);
    const files = new Set(packed.get(name)!.files.map((file) => file.path));
    const main = own.exports?.['.'] as Record<string, string>;
    expect(Object.keys(main)).toEqual(['types', 'default']); // types first: TypeScript takes the first condition that matches
    expect(main.types).toMatch(/\.d\.ts$/);
    expect(own.types).toBe(main.types);
    const named = [main.types, main.default, ...Object.values(own.bin ?? {})].map((path) => path!.replace(/^\.\//, ''));
    for (const path of named) expect(files, `${path} is named but not shipped`).toContain(path);
    if (name === 'trainer') expect(own.bin).toEqual({ hunch: './bin/hunch.js' });
    // The shipped JavaScript and types import only dependencies and Node's modules (the browser bundles its own).
    const allowed = new Set([...Object.keys(own.dependencies ?? {}), ...builtinModules, '@tensorflow/tfjs-node' /* optional, imported when installed */]);
    for (const path of files) {
      if (!/\.(js|d\.ts)$/.test(path) || /\.ort\.js$/.test(path)) continue; // onnxruntime's minified glue has import-like strings
      const missing = [...importedModules(readFileSync(join(ROOT, 'packages', name, path), 'utf8'))].filter((module) => !allowed.has(module) && !module.startsWith('node:'));
      expect(missing, `${path} imports what @hunch/${name} does not depend on`).toEqual([]);
    }
  });

  it('@hunch/trainer ships no chunk of an earlier build: every dist/*.js is an entry or imported by one', () => {
    const shipped = packed.get('trainer')!.files.map((file) => file.path).filter((path) => /^dist\/[^/]+\.js$/.test(path));
    const reached = new Set(['dist/cli.js', 'dist/index.js', 'dist/train-worker.js']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const path of [...reached]) {
        for (const match of readFileSync(join(ROOT, 'packages/trainer', path), 'utf8').matchAll(/(?:from\s*|import\(\s*)['"]\.\/([\w.-]+\.js)['"]/g)) {
          const chunk = `dist/${match[1]}`;
          if (!reached.has(chunk)) grew = reached.add(chunk).size > 0;
        }
      }
    }
    expect(shipped.filter((path) => !reached.has(path))).toEqual([]);
  });

  it('versions move together, and the packages depend on each other at that version', () => {
    const versions = new Set(PACKAGES.map((name) => manifest(name).version));
    expect(versions.size).toBe(1);
    const [version] = versions;
    for (const name of PACKAGES) {
      for (const [dependency, range] of Object.entries(manifest(name).dependencies ?? {})) {
        if (dependency.startsWith('@hunch/')) expect(range, `${name} -> ${dependency}`).toBe(version);
      }
    }
  });

  it('the browser package installs no runtime it bundles (onnxruntime-web, transformers.js)', () => {
    const dependencies = Object.keys(manifest('browser').dependencies ?? {});
    expect(dependencies).not.toContain('onnxruntime-web');
    expect(dependencies).not.toContain('@huggingface/transformers');
    expect(packed.get('browser')!.size).toBeLessThan(16_000_000); // the tarball, gzipped: the two .wasm files are most of it
  });
});
