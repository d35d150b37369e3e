// The SDK's builds, used by the root rollup.config.mjs.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeResolve from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

/**
 * The two model workers. Each goes with one onnxruntime-web *bundle* build (its JS glue inlined,
 * so nothing is imported from a blob: or a CDN for a CSP to allow), which lives with
 * transformers.js in a module of its own beside the worker, imported only when a model needs it
 * (the int8 file on WASM runs on the worker's own GPT-2), and the .wasm that glue instantiates
 * (copied to dist/ort/). worker/ort/build.ts's WEBGPU_BUILD / WASM_BUILD name the same files:
 * - hunch.worker.js + hunch.worker.ort.js: onnxruntime-web/webgpu, what transformers.js imports (WebGPU and WASM; asyncify .wasm);
 * - hunch.worker.wasm.js + hunch.worker.wasm.ort.js: onnxruntime-web/wasm in its place (WASM only; the plain .wasm: half the size, ~2x faster forwards).
 */
const WORKERS = [
  { entry: 'src/worker/entry.ts', file: 'hunch.worker.js', ortEntry: 'src/worker/ort/module-webgpu.ts', ortFile: 'hunch.worker.ort.js', ortBundle: 'ort.webgpu.bundle.min.mjs', ortWasm: 'ort-wasm-simd-threaded.asyncify.wasm' },
  { entry: 'src/worker/entry-wasm.ts', file: 'hunch.worker.wasm.js', ortEntry: 'src/worker/ort/module-wasm.ts', ortFile: 'hunch.worker.wasm.ort.js', ortBundle: 'ort.wasm.bundle.min.mjs', ortWasm: 'ort-wasm-simd-threaded.wasm' },
];

/**
 * Marks the worker's dynamic import (of its onnxruntime module, by a URL known at run time) for
 * Vite again after minifying dropped the comment: a dev server that serves the worker through its
 * import analysis (a linked package) would otherwise warn that it cannot analyse it.
 */
const viteIgnoreImport = () => ({
  name: 'hunch-vite-ignore-import',
  renderChunk: (code) => ({ code: code.replace(/\bimport\((?!\/\* @vite-ignore)/g, 'import(/* @vite-ignore */'), map: null }),
});

/** A worker entry must not bundle transformers.js or onnxruntime-web: they belong in its onnxruntime module, imported when needed. */
const withoutRuntime = ({ file }) => ({
  name: 'hunch-worker-without-runtime',
  generateBundle() {
    const runtime = [...this.getModuleIds()].filter((id) => /[\\/]node_modules[\\/](@huggingface[\\/]transformers|onnxruntime-(web|common))[\\/]/.test(id));
    if (runtime.length > 0) this.error(`${file} must not bundle ${runtime.slice(0, 3).join(', ')}: import it in worker/ort/ (the onnxruntime module) instead`);
  },
});

/** onnxruntime-web's dist/, resolved from transformers.js: the version it was built against. */
const ortDist = () => {
  const require = createRequire(createRequire(join(here, 'package.json')).resolve('@huggingface/transformers'));
  return dirname(require.resolve('onnxruntime-web')); // its main entry sits in dist/
};

/**
 * Resolves `onnxruntime-web/webgpu` (transformers.js's import, and worker/ort/'s) to the worker's
 * onnxruntime-web bundle build, and fails the build unless that file went in with its Emscripten
 * glue inlined for `wasm` (onnxruntime-web's other builds import ort-wasm-simd-threaded*.mjs at run time).
 */
const ortBundle = ({ ortBundle: file, ortWasm }) => ({
  name: 'hunch-ort-bundle',
  resolveId: (id) => (id === 'onnxruntime-web/webgpu' ? join(ortDist(), file) : null),
  generateBundle(_options, bundle) {
    if (![...this.getModuleIds()].some((id) => id === join(ortDist(), file))) this.error(`onnxruntime-web's ${file} was not bundled`);
    const code = Object.values(bundle).map((chunk) => (chunk.type === 'chunk' ? chunk.code : '')).join('\n');
    // The Emscripten glue locates its own .wasm: `locateFile("ort-wasm-simd-threaded….wasm", …)`.
    if (!code.includes('WebAssembly.instantiate') || !code.includes(`locateFile("${ortWasm}"`)) this.error(`the worker does not inline onnxruntime-web's glue for ${ortWasm}`);
  },
});

/** Copies the worker's onnxruntime-web .wasm beside it (self-hosted, never from a CDN). */
const copyOrtWasm = ({ ortWasm: file }) => ({
  name: 'hunch-copy-ort-wasm',
  writeBundle() {
    const ort = join(dist, 'ort');
    mkdirSync(ort, { recursive: true });
    // A file an earlier build shipped (an .mjs, an older .wasm) must not linger beside the current ones.
    const shipped = new Set(WORKERS.map((worker) => worker.ortWasm));
    for (const old of readdirSync(ort)) if (!shipped.has(old)) rmSync(join(ort, old), { recursive: true, force: true });
    copyFileSync(join(ortDist(), file), join(ort, file));
  },
});

/**
 * The script-tag loader (hunch.js) must stay small: fail the build if anything but the loader,
 * consent, auto-capture, experiments (with core's dependency-free assignment) and the id/log/clock
 * helpers gets bundled into it (e.g. a value import of index.ts).
 */
const LOADER_MODULES = ['src/script-tag.ts', 'src/loader/', 'src/consent.ts', 'src/experiments.ts', '../core/src/experiments/assignment.ts', 'src/capture/', 'src/lib/ids.ts', 'src/lib/log.ts', 'src/lib/clock.ts', 'src/lib/names.ts'].map((path) => join(here, path));
const loaderOnly = () => ({
  name: 'hunch-loader-only',
  generateBundle() {
    const extra = [...this.getModuleIds()].filter((id) => !LOADER_MODULES.some((allowed) => id.startsWith(allowed)));
    if (extra.length > 0) this.error(`hunch.js (the loader) must not bundle ${extra.join(', ')}: import it in the SDK (src/loader/sdk.ts) instead`);
  },
});

const browserPlugins = (workspaceSources, { minify }) => [
  workspaceSources(),
  nodeResolve({ browser: true, exportConditions: ['browser', 'module', 'import', 'default'] }),
  esbuild({ target: 'es2022', minify }),
];

export const browserBuilds = ({ workspaceSources }) => [
  {
    input: join(here, 'src/index.ts'),
    output: { file: join(dist, 'hunch.esm.js'), format: 'es', sourcemap: true },
    plugins: browserPlugins(workspaceSources, { minify: false }),
  },
  {
    // The loader a shop's page loads up front: the facade, consent and auto-capture (≤ 10 KB gzipped).
    input: join(here, 'src/script-tag.ts'),
    output: { file: join(dist, 'hunch.js'), format: 'iife', sourcemap: true },
    plugins: [...browserPlugins(workspaceSources, { minify: true }), loaderOnly()],
  },
  {
    // The rest of the script-tag SDK, imported lazily by hunch.js from beside it.
    input: join(here, 'src/loader/sdk.ts'),
    output: { file: join(dist, 'hunch.sdk.js'), format: 'es', sourcemap: true, inlineDynamicImports: true },
    plugins: browserPlugins(workspaceSources, { minify: true }),
  },
  ...WORKERS.map((worker) => ({
    input: join(here, worker.entry),
    output: { file: join(dist, worker.file), format: 'es', sourcemap: false, inlineDynamicImports: true },
    plugins: [...browserPlugins(workspaceSources, { minify: true }), withoutRuntime(worker), viteIgnoreImport()],
  })),
  ...WORKERS.map((worker) => ({
    input: join(here, worker.ortEntry),
    output: { file: join(dist, worker.ortFile), format: 'es', sourcemap: false, inlineDynamicImports: true },
    plugins: [ortBundle(worker), ...browserPlugins(workspaceSources, { minify: true }), copyOrtWasm(worker)],
    onwarn(warning, warn) {
      // transformers.js and onnxruntime-web use `this` at module level and eval-free dynamic imports on purpose.
      if (warning.code === 'THIS_IS_UNDEFINED' || warning.code === 'CIRCULAR_DEPENDENCY') return;
      warn(warning);
    },
  })),
];
