/**
 * Hunch in a fresh Next.js app, as an npm user meets it (the Vite and webpack apps are in
 * npm-apps.test.ts). The packages are packed (`npm pack`); an App Router app is made outside the
 * workspace, in a temporary directory, with no next.config and nothing Hunch-specific: a client
 * component calls `createHunch({ model: '/models/demo/' })` in an effect and renders
 * `recommend()`, and the model directory is in `public/`. It installs the tarballs and its pinned
 * dependencies from the npm registry, builds with `next build` (Turbopack, Next 16's default) and
 * again with `next build --webpack`, and each build runs with `next start`; in Chromium (no WebGPU)
 * the component renders recommendations from the model on WASM, both through the worker's own
 * GPT-2 (the int8 file) and through onnxruntime-web (fp32), and the client build carries one copy
 * of each onnxruntime file. The SDK's first-load JS (gzip) is printed, for BENCHMARKS.md.
 *
 * Next's bundlers give `new URL('…', import.meta.url)` as a root-relative URL-like object, and
 * Next runs a client component's imports on the server when it prerenders the page: the SDK works
 * its worker URLs out in the page, when a model first starts (create-hunch.ts).
 *
 * Needs `npm run build` first, and the npm registry (or npm's cache) for the app's dependencies.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
/** Pinned: what `npm install` resolves must not change under the test (create-next-app's set). */
const NEXT = '16.5.0';
const REACT = '19.3.1';
const DEV = { typescript: '5.9.3', '@types/node': '20.19.43', '@types/react': '19.3.3', '@types/react-dom': '19.3.0' };
const INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=warn'];
const ENV = { ...process.env, npm_config_update_notifier: 'false', NEXT_TELEMETRY_DISABLED: '1' };

const LAYOUT = `export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
`;

const PAGE = `import { Recommendations } from './recommendations';

export default function Home() {
  return (
    <main>
      <h1>Shop</h1>
      <Recommendations />
    </main>
  );
}
`;

/** What a shop writes; the query (a dtype, products viewed) only lets the test steer it, and window.hunch lets it ask status(). */
const COMPONENT = `'use client';

import { createHunch, type Hunch, type ModelDtype, type Recommendation } from '@hunch/browser';
import { useEffect, useState } from 'react';

declare global {
  interface Window {
    hunch?: Hunch;
  }
}

export function Recommendations() {
  const [recs, setRecs] = useState<Recommendation[]>([]);
  useEffect(() => {
    const query = new URLSearchParams(location.search);
    const hunch = createHunch({ model: '/models/demo/', dtype: (query.get('dtype') ?? undefined) as ModelDtype | undefined });
    window.hunch = hunch;
    for (const id of (query.get('viewed') ?? '').split(',').filter(Boolean)) hunch.track('view_item', { item_id: id });
    void hunch.flush().then(() => hunch.recommend({ k: 6 })).then(setRecs);
  }, []);
  return (
    <ul id="recommendations">
      {recs.map((rec) => (
        <li key={rec.item.id} data-source={rec.source} data-category={rec.item.category}>
          {rec.item.title}
        </li>
      ))}
    </ul>
  );
}
`;

let work: string;
let app: string;
let browser: Browser;

const npm = (cwd: string, args: string[]) => run('npm', args, { cwd, env: ENV, maxBuffer: 64 * 1024 * 1024 });

const gzip = (bytes: Buffer) => gzipSync(bytes, { level: 9 }).length;

beforeAll(async () => {
  if (!existsSync(join(DIST, 'hunch.esm.js')) || !existsSync(join(DIST, 'types'))) throw new Error('packages/browser/dist is missing: run `npm run build` first');
  work = await mkdtemp(join(tmpdir(), 'hunch-npm-next-'));
  const packs = join(work, 'tarballs');
  await mkdir(packs);
  const { stdout } = await npm(ROOT, ['pack', '--json', '--pack-destination', packs, '-w', 'packages/core', '-w', 'packages/browser']);
  const tarballs = Object.fromEntries((JSON.parse(stdout) as Array<{ name: string; filename: string }>).map((pack) => [pack.name, join(packs, pack.filename)]));

  app = join(work, 'shop-next');
  await mkdir(join(app, 'app'), { recursive: true });
  await cp(join(ROOT, 'models/demo'), join(app, 'public/models/demo'), { recursive: true });
  const manifest = {
    name: 'shop-next',
    private: true,
    scripts: { build: 'next build', start: 'next start' },
    dependencies: { '@hunch/browser': `file:${tarballs['@hunch/browser']}`, '@hunch/core': `file:${tarballs['@hunch/core']}`, next: NEXT, react: REACT, 'react-dom': REACT },
    devDependencies: DEV,
  };
  await writeFile(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(app, 'app/layout.tsx'), LAYOUT);
  await writeFile(join(app, 'app/page.tsx'), PAGE);
  await writeFile(join(app, 'app/recommendations.tsx'), COMPONENT);
  const installed = await npm(app, INSTALL);
  expect(`${installed.stderr}`, 'npm install of the Next.js app warned').not.toMatch(/npm warn/i);
  browser = await launchChromium({ webgpu: false });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** `next start` on a free port, behind a proxy that logs every answer (workers' requests too). */
async function start(served: Array<{ status: number; path: string }>): Promise<{ url: string; stop: () => Promise<void> }> {
  const free = createServer();
  await new Promise<void>((done) => free.listen(0, '127.0.0.1', done));
  const port = (free.address() as AddressInfo).port;
  await new Promise((done) => free.close(done));
  const next: ChildProcess = spawn(process.execPath, [join(app, 'node_modules/next/dist/bin/next'), 'start', '-H', '127.0.0.1', '-p', String(port)], { cwd: app, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((ready, failed) => {
    let output = '';
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready in/.test(output)) ready();
    };
    next.stdout!.on('data', read);
    next.stderr!.on('data', read);
    next.on('exit', (code) => failed(new Error(`next start exited (${code}): ${output}`)));
  });
  const proxy: Server = createServer((incoming, response) => {
    response.on('finish', () => served.push({ status: response.statusCode, path: new URL(incoming.url ?? '/', 'http://x').pathname }));
    const upstream = request({ host: '127.0.0.1', port, path: incoming.url, method: incoming.method, headers: incoming.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.writeHead(502).end());
    incoming.pipe(upstream);
  });
  await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`,
    stop: async () => {
      proxy.closeAllConnections();
      await new Promise((done) => proxy.close(done));
      next.kill();
    },
  };
}

/** Opens the shop's page having viewed three products of one category; what the component rendered, and status(). */
async function shop(url: string, dtype?: string) {
  const catalog = JSON.parse(await readFile(join(ROOT, 'models/demo/catalog.json'), 'utf8')) as { products: Array<{ id: string; category: string }> };
  const category = catalog.products[0]!.category;
  const viewed = catalog.products.filter((item) => item.category === category).slice(0, 3);
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  try {
    await page.goto(`${url}?${new URLSearchParams({ ...(dtype ? { dtype } : {}), viewed: viewed.map((item) => item.id).join(',') })}`);
    await page.waitForSelector('#recommendations li');
    const recs = await page.$$eval('#recommendations li', (items) => items.map((item) => ({ source: item.getAttribute('data-source'), category: item.getAttribute('data-category') })));
    const status = await page.evaluate(() => window.hunch!.status());
    return { recs, status, category, errors };
  } finally {
    await context.close();
  }
}

/** Builds with `args`, runs it with `next start`, and checks it in Chromium (`serverWasm`: the .wasm files in .next/server); the SDK's share of the page's first-load JS is printed. */
async function buildAndCheck(name: string, args: string[], serverWasm: number) {
  await rm(join(app, '.next'), { recursive: true, force: true });
  const started = Date.now();
  await run(process.execPath, [join(app, 'node_modules/next/dist/bin/next'), 'build', ...args], { cwd: app, env: ENV, maxBuffer: 64 * 1024 * 1024 });
  const buildMs = Date.now() - started;

  const served: Array<{ status: number; path: string }> = [];
  const server = await start(served);
  try {
    // The int8 file on the worker's own GPT-2 (the default on WASM) ...
    const own = await shop(server.url);
    expect(own.errors).toEqual([]);
    expect(own.status).toMatchObject({ backend: 'wasm', dtype: 'q8', engine: 'hunch-gpt2' });
    expect(own.recs).toHaveLength(6);
    expect(own.recs.every((rec) => rec.source === 'model'), JSON.stringify(own.recs)).toBe(true);
    // ... and fp32 through onnxruntime-web: its module and .wasm, where Next emitted them.
    served.length = 0;
    const ort = await shop(server.url, 'fp32');
    expect(ort.errors).toEqual([]);
    expect(ort.status).toMatchObject({ backend: 'wasm', dtype: 'fp32', engine: 'onnxruntime-web' });
    expect(ort.recs).toHaveLength(6);
    expect(ort.recs.every((rec) => rec.source === 'model'), JSON.stringify(ort.recs)).toBe(true);
    expect(ort.recs.filter((rec) => rec.category === ort.category).length, JSON.stringify(ort.recs)).toBeGreaterThan(0);
    expect(served.filter((answer) => answer.status >= 400 && answer.path !== '/favicon.ico'), JSON.stringify(served)).toEqual([]);
    const wasm = served.filter((answer) => answer.status === 200 && answer.path.endsWith('.wasm')).map((answer) => answer.path);
    expect(wasm, JSON.stringify(served)).toHaveLength(1);
    expect(wasm[0]).toMatch(/^\/_next\/static\//);
  } finally {
    await server.stop();
  }

  // What browsers get (.next/static): one copy of each onnxruntime .wasm, each build's JS glue in one file.
  const files = await filesOf(join(app, '.next/static'));
  const ortWasm = await Promise.all(['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.wasm'].map((file) => readFile(join(DIST, 'ort', file))));
  expect(ortWasm.map((bytes) => files.filter((file) => file.bytes.equals(bytes)).length), files.map((file) => file.path).join(', ')).toEqual([1, 1]);
  expect(files.filter((file) => file.path.endsWith('.wasm')).map((file) => file.path)).toHaveLength(2);
  const js = files.filter((file) => file.path.endsWith('.js'));
  expect(['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.wasm'].map((file) => js.filter((script) => script.bytes.toString('utf8').includes(`locateFile("${file}"`)).length)).toEqual([1, 1]);
  // webpack's server compilation emits the assets too (.next/server/chunks/static/media: never sent to a browser); Turbopack's does not.
  expect((await filesOf(join(app, '.next/server'))).filter((file) => file.path.endsWith('.wasm')).map((file) => file.path)).toHaveLength(serverWasm);

  // The page's first-load JS (its <script src>s) and the SDK's share: the chunk(s) holding it (with the component's few lines).
  const html = await readFile(join(app, '.next/server/app/index.html'), 'utf8');
  const scripts = [...html.matchAll(/<script src="\/_next\/static\/([^"]+)"/g)].map((match) => files.find((file) => file.path === match[1])!);
  expect(scripts.length).toBeGreaterThan(0);
  const sdk = scripts.filter((script) => script.bytes.toString('utf8').includes('waiting for personalization_storage consent'));
  expect(sdk.length).toBeGreaterThan(0);
  const kib = (bytes: number) => (bytes / 1024).toFixed(1);
  console.log(
    `[npm-next] ${name}: built in ${(buildMs / 1000).toFixed(0)} s; first-load JS ${kib(scripts.reduce((sum, file) => sum + gzip(file.bytes), 0))} KiB gzip in ${scripts.length} scripts, ` +
      `the SDK's chunk ${kib(sdk.reduce((sum, file) => sum + file.bytes.length, 0))} KiB, ${kib(sdk.reduce((sum, file) => sum + gzip(file.bytes), 0))} KiB gzip`,
  );
}

describe('Hunch in a fresh Next.js app (App Router, no config), from the packed tarballs', () => {
  it('next build (Turbopack) and next start: recommends from the model on WASM', async () => {
    await buildAndCheck(`Next.js ${NEXT} (Turbopack)`, [], 0);
  }, 300_000);

  it('next build --webpack and next start: recommends from the model on WASM', async () => {
    await buildAndCheck(`Next.js ${NEXT} (webpack)`, ['--webpack'], 2);
  }, 300_000);
});
