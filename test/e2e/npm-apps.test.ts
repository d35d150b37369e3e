/**
 * Hunch as an npm user meets it. The packages are packed (`npm pack`, as they would be
 * published), and two fresh apps are made outside the workspace, in a temporary directory: one
 * built with Vite, one with webpack, each with nothing but its bundler's defaults (no config file,
 * no plugin) and three lines of Hunch (`createHunch({ model })`). Each installs the tarballs and
 * its own dependencies from the npm registry, builds, and its build is served with the model
 * directory (models/demo) beside it; in Chromium (no WebGPU) the page's recommendations come from
 * the model on WASM, both through the worker's own GPT-2 (the int8 file) and through
 * onnxruntime-web (fp32: its module and .wasm, wherever the bundler emitted them), and the build
 * carries one copy of each onnxruntime file. The added bundle size (gzip) is printed, for
 * BENCHMARKS.md. Also: `npx hunch --help` works from an install of the trainer's tarball.
 *
 * Needs `npm run build` first, and the npm registry (or npm's cache) for the apps' dependencies.
 */
import { execFile, spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.js';
import { filesOf } from './files-of.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'packages/browser/dist');
/** The bundlers, pinned: what `npm install` resolves must not change under the test. */
const VITE = '8.3.8';
const WEBPACK = '5.113.0';
const WEBPACK_CLI = '6.0.1'; // 7.x needs Node 22
const TYPESCRIPT = '5.9.3';
/** Lean, repeatable installs (CI: 2 cores); the tests allow 5 minutes each for a cold npm cache. */
const INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=warn'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** A static server for a built app: files as they are, 404 for anything missing; `served` logs each answer (workers' requests too). */
async function serveStatic(dir: string, served: Array<{ status: number; path: string }>): Promise<{ url: string; server: Server }> {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    response.on('finish', () => served.push({ status: response.statusCode, path }));
    let file = resolve(dir, `.${path}`);
    if (file !== dir && !file.startsWith(dir + sep)) return void response.writeHead(404).end();
    if (path.endsWith('/')) file = join(file, 'index.html');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': info.size });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

const npm = (cwd: string, args: string[]) => run('npm', args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 64 * 1024 * 1024 });

/** The app's code: what a shop writes (the dtype query only lets the test ask for onnxruntime-web's path). */
const APP_SCRIPT = `import { createHunch } from '@hunch/browser';

const dtype = new URLSearchParams(location.search).get('dtype') ?? undefined;
window.hunch = createHunch({ model: '/models/demo/', dtype });
`;

/** The same in TypeScript, type-checked against the package's emitted types (strict, no skipLibCheck). */
const APP_SCRIPT_TS = `import { createHunch, type Hunch, type ModelDtype } from '@hunch/browser';

declare global {
  interface Window {
    hunch?: Hunch;
  }
}

const dtype = (new URLSearchParams(location.search).get('dtype') ?? undefined) as ModelDtype | undefined;
window.hunch = createHunch({ model: '/models/demo/', dtype });
`;

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'], strict: true, noEmit: true, skipLibCheck: false },
    include: ['src'],
  },
  null,
  2,
)}\n`;

const HTML = (script: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Shop</h1><script ${script}></script></body></html>
`;

interface App {
  name: string;
  dir: string;
  /** The built site, as the app would deploy it. */
  out: string;
}

let work: string;
let tarballs: Record<'core' | 'browser' | 'collector' | 'trainer', string>;
let browser: Browser;
const sites: Server[] = [];

/**
 * Makes an app in `work` with `files`, installs the tarballs and `devDependencies`, builds it with
 * `buildArgs` into `out`. The shop serves its model directory like any static file: from the
 * bundler's public folder (`publicDir`, copied into the build) or, without one, put in the build.
 */
async function makeApp(name: string, devDependencies: Record<string, string>, files: Record<string, string>, buildArgs: string[], out: string, publicDir?: string): Promise<App> {
  const dir = join(work, name);
  await mkdir(join(dir, 'src'), { recursive: true });
  if (publicDir) await cp(join(ROOT, 'models/demo'), join(dir, publicDir, 'models/demo'), { recursive: true });
  const manifest = {
    name,
    private: true,
    type: 'module',
    scripts: { build: buildArgs.join(' ') },
    dependencies: { '@hunch/browser': `file:${tarballs.browser}`, '@hunch/core': `file:${tarballs.core}` },
    devDependencies,
  };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [path, text] of Object.entries(files)) await writeFile(join(dir, path), text);
  const installed = await npm(dir, INSTALL);
  expect(`${installed.stderr}`, `npm install of the ${name} app warned`).not.toMatch(/npm warn/i);
  await npm(dir, ['run', 'build', '--silent']);
  const site = join(dir, out);
  if (!publicDir) await cp(join(ROOT, 'models/demo'), join(site, 'models/demo'), { recursive: true });
  return { name, dir, out: site };
}

beforeAll(async () => {
  if (!existsSync(join(DIST, 'hunch.esm.js')) || !existsSync(join(DIST, 'types'))) throw new Error('packages/browser/dist is missing: run `npm run build` first');
  work = await mkdtemp(join(tmpdir(), 'hunch-npm-apps-'));
  const packs = join(work, 'tarballs');
  await mkdir(packs);
  const { stdout } = await npm(ROOT, ['pack', '--json', '--pack-destination', packs, '-w', 'packages/core', '-w', 'packages/browser', '-w', 'packages/collector', '-w', 'packages/trainer']);
  const packed = JSON.parse(stdout) as Array<{ name: string; filename: string }>;
  tarballs = Object.fromEntries(packed.map((pack) => [pack.name.replace('@hunch/', ''), join(packs, pack.filename)])) as typeof tarballs;
  browser = await launchChromium({ webgpu: false });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  for (const server of sites) await new Promise((done) => server.close(done));
  if (work) await rm(work, { recursive: true, force: true });
});

/** Opens the app, shows three products of one category, and returns the status and recommendations. */
async function shop(app: App, query: string, devServer?: string) {
  const requests: Array<{ status: number; path: string }> = [];
  const site = devServer ? { url: devServer } : await serveStatic(app.out, requests);
  if ('server' in site) sites.push(site.server);
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  try {
    await page.goto(`${site.url}${query}`);
    await page.waitForFunction(() => Boolean(window.hunch));
    const catalog = JSON.parse(await readFile(join(ROOT, 'models/demo/catalog.json'), 'utf8')) as { products: Array<{ id: string; category: string }> };
    const category = catalog.products[0]!.category;
    const viewed = catalog.products.filter((item) => item.category === category).slice(0, 3);
    const result = await page.evaluate(async (ids) => {
      const hunch = window.hunch!;
      for (const id of ids) hunch.track('view_item', { item_id: id });
      await hunch.flush();
      const recs = await hunch.recommend({ k: 6 });
      return { status: await hunch.status(), recs: recs.map((rec) => ({ id: rec.item.id, category: rec.item.category, source: rec.source })) };
    }, viewed.map((item) => item.id));
    return { ...result, category, errors, requests };
  } finally {
    await context.close();
  }
}

/** The app's built files, and what onnxruntime-web and the SDK add to it. */
async function inspect(app: App) {
  const files = (await filesOf(app.out)).filter((file) => !file.path.startsWith('models'));
  const ortWasm = await Promise.all(['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.wasm'].map((name) => readFile(join(DIST, 'ort', name))));
  // onnxruntime-web's JS is known by its wasm loader's name for each build's .wasm.
  const ortCode = /locateFile\("ort-wasm-simd-threaded(\.asyncify)?\.wasm"/;
  const js = files.filter((file) => file.path.endsWith('.js'));
  return {
    files,
    /** How many of the build's files are each onnxruntime .wasm (by size and bytes). */
    wasmCopies: ortWasm.map((bytes) => files.filter((file) => file.bytes.length === bytes.length && file.bytes.equals(bytes)).length),
    allWasm: files.filter((file) => file.path.endsWith('.wasm')).length,
    /** How many JS files carry onnxruntime-web's glue, for each build. */
    ortGlue: ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.wasm'].map((wasm) => js.filter((file) => file.bytes.toString('utf8').includes(`locateFile("${wasm}"`)).length),
    ortGlueIn: js.filter((file) => ortCode.test(file.bytes.toString('utf8'))).map((file) => file.path),
  };
}

const gzip = (bytes: Buffer) => gzipSync(bytes, { level: 9 }).length;

async function checkApp(app: App, entry: (files: Array<{ path: string; bytes: Buffer }>) => Buffer) {
  // Recommendations from the model on WASM: the int8 file on the worker's own GPT-2 (the default on WASM) ...
  const own = await shop(app, '');
  expect(own.errors).toEqual([]);
  expect(own.requests.filter((request) => request.status >= 400 && request.path !== '/favicon.ico')).toEqual([]);
  expect(own.status).toMatchObject({ backend: 'wasm', dtype: 'q8', engine: 'hunch-gpt2' });
  expect(own.recs).toHaveLength(6);
  expect(own.recs.every((rec) => rec.source === 'model'), JSON.stringify(own.recs)).toBe(true);
  // ... and fp32 through onnxruntime-web: its module and .wasm, found wherever the bundler put them.
  const ort = await shop(app, '?dtype=fp32');
  expect(ort.errors).toEqual([]);
  expect(ort.requests.filter((request) => request.status >= 400 && request.path !== '/favicon.ico')).toEqual([]);
  expect(ort.status).toMatchObject({ backend: 'wasm', dtype: 'fp32', engine: 'onnxruntime-web' });
  expect(ort.recs.every((rec) => rec.source === 'model'), JSON.stringify(ort.recs)).toBe(true);
  expect(ort.recs.filter((rec) => rec.category === ort.category).length, JSON.stringify(ort.recs)).toBeGreaterThan(0);
  const fetched = (pattern: RegExp) => ort.requests.filter((request) => request.status === 200 && pattern.test(request.path)).map((request) => request.path);
  // The worker's onnxruntime module and its .wasm, as the bundler named them (never the SDK's own paths).
  expect(fetched(/\.wasm$/), JSON.stringify(ort.requests)).toHaveLength(1);
  expect(fetched(/\.wasm$/)[0]).not.toMatch(/^\/ort\/ort-wasm-simd-threaded/);
  expect(ort.requests.filter((request) => request.path.endsWith('.js')).length).toBeGreaterThanOrEqual(3); // entry, worker, onnxruntime module

  // One copy of each onnxruntime file: each .wasm once, each build's JS glue in one file (its module).
  const built = await inspect(app);
  expect(built.wasmCopies, built.files.map((file) => file.path).join(', ')).toEqual([1, 1]);
  expect(built.allWasm).toBe(2);
  expect(built.ortGlue, built.ortGlueIn.join(', ')).toEqual([1, 1]);

  // What the app's bundle gains: its entry script (the SDK is all of it), gzipped; the workers and
  // onnxruntime load only when a model runs (the .wasm files are fetched once, then cached).
  const main = entry(built.files);
  const sizeOf = (pattern: RegExp) => built.files.filter((file) => pattern.test(file.path)).reduce((sum, file) => sum + gzip(file.bytes), 0);
  console.log(
    `[npm-apps] ${app.name}: entry ${(main.length / 1024).toFixed(1)} KiB, ${(gzip(main) / 1024).toFixed(1)} KiB gzip; ` +
      `all JS (entry, workers, onnxruntime modules) ${(sizeOf(/\.js$/) / 1024).toFixed(1)} KiB gzip; .wasm ${(sizeOf(/\.wasm$/) / 1024 / 1024).toFixed(1)} MiB gzip`,
  );
}

describe('Hunch in a fresh app, from the packed tarballs', () => {
  it('Vite (no config, TypeScript): type-checks, builds, and recommends from the model on WASM', async () => {
    const app = await makeApp(
      'shop-vite',
      { vite: VITE, typescript: TYPESCRIPT },
      { 'index.html': HTML('type="module" src="/src/main.ts"'), 'src/main.ts': APP_SCRIPT_TS, 'tsconfig.json': TSCONFIG },
      ['tsc', '&&', 'vite', 'build'], // as Vite's TypeScript template does
      'dist',
      'public',
    );
    await checkApp(app, (files) => files.find((file) => /^assets\/index-[\w-]+\.js$/.test(file.path))!.bytes);

    // `vite` (dev, dependencies pre-bundled): the same app, no config either.
    const dev = spawn(process.execPath, [join(app.dir, 'node_modules/vite/bin/vite.js'), '--host', '127.0.0.1', '--port', '0'], { cwd: app.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((found, failed) => {
        let output = '';
        dev.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output.replace(/\x1b\[[\d;]*m/g, ''));
          if (match) found(match[1]!);
        });
        dev.on('exit', (code) => failed(new Error(`vite exited (${code}): ${output}`)));
      });
      const ort = await shop(app, '?dtype=fp32', url);
      expect(ort.errors).toEqual([]);
      expect(ort.status).toMatchObject({ backend: 'wasm', dtype: 'fp32', engine: 'onnxruntime-web' });
      expect(ort.recs.every((rec) => rec.source === 'model'), JSON.stringify(ort.recs)).toBe(true);
    } finally {
      dev.kill();
    }
  }, 300_000);

  it('webpack (no config): builds, and recommends from the model on WASM', async () => {
    const app = await makeApp(
      'shop-webpack',
      { webpack: WEBPACK, 'webpack-cli': WEBPACK_CLI },
      { 'src/index.js': APP_SCRIPT },
      ['webpack', '--mode', 'production'],
      'dist',
    );
    await writeFile(join(app.out, 'index.html'), HTML('src="/main.js"')); // the page the shop serves
    await checkApp(app, (files) => files.find((file) => file.path === 'main.js')!.bytes);
  }, 300_000);

  it('the trainer: `npx hunch --help` after installing its tarball', async () => {
    const dir = join(work, 'shop-trainer');
    await mkdir(dir);
    const dependencies = { '@hunch/core': `file:${tarballs.core}`, '@hunch/collector': `file:${tarballs.collector}`, '@hunch/trainer': `file:${tarballs.trainer}` };
    await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'shop-trainer', private: true, dependencies }, null, 2)}\n`);
    // --ignore-scripts: better-sqlite3 (the collector's store, which --help does not load) would compile for minutes where no prebuilt binary downloads.
    await npm(dir, [...INSTALL, '--ignore-scripts']);
    const { stdout } = await run('npx', ['--no-install', 'hunch', '--help'], { cwd: dir });
    expect(stdout).toMatch(/hunch train/);
    expect(stdout).toMatch(/hunch export/);
  }, 300_000);
});
