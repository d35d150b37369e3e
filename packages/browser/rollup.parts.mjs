// The SDK's builds, used by the root rollup.config.mjs.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeResolve from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

/**
 * The onnxruntime-web file the worker loads at run time (the build transformers.js uses for WebGPU
 * and WASM). Its JS glue (the .mjs) is already inside hunch.worker.js (onnxruntime-web's bundle
 * build), so nothing is imported at run time: no blob: or extra script for a CSP to allow.
 */
const ORT_RUNTIME_FILES = ['ort-wasm-simd-threaded.asyncify.wasm'];

/** Copies onnxruntime-web's runtime next to the worker: self-hosted, never from a CDN. */
const copyOrtRuntime = () => ({
  name: 'hunch-copy-ort-runtime',
  writeBundle() {
    // Resolve from transformers.js, so the copied files match the runtime bundled into the worker.
    const require = createRequire(createRequire(join(here, 'package.json')).resolve('@huggingface/transformers'));
    const ortDist = dirname(require.resolve('onnxruntime-web')); // its main entry sits in dist/
    // A fresh folder: a file an earlier build shipped (the .mjs) must not linger beside the new ones.
    rmSync(join(dist, 'ort'), { recursive: true, force: true });
    mkdirSync(join(dist, 'ort'), { recursive: true });
    for (const file of ORT_RUNTIME_FILES) copyFileSync(join(ortDist, file), join(dist, 'ort', file));
  },
});

/**
 * The script-tag loader (hunch.js) must stay small: fail the build if anything but the loader,
 * consent, auto-capture and the id/log/clock helpers gets bundled into it (e.g. a value import of index.ts).
 */
const LOADER_MODULES = ['src/script-tag.ts', 'src/loader/', 'src/consent.ts', 'src/capture/', 'src/lib/ids.ts', 'src/lib/log.ts', 'src/lib/clock.ts', 'src/lib/names.ts'].map((path) => join(here, path));
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
  {
    input: join(here, 'src/worker/worker.ts'),
    output: { file: join(dist, 'hunch.worker.js'), format: 'es', sourcemap: false, inlineDynamicImports: true },
    plugins: [...browserPlugins(workspaceSources, { minify: true }), copyOrtRuntime()],
    onwarn(warning, warn) {
      // transformers.js and onnxruntime-web use `this` at module level and eval-free dynamic imports on purpose.
      if (warning.code === 'THIS_IS_UNDEFINED' || warning.code === 'CIRCULAR_DEPENDENCY') return;
      warn(warning);
    },
  },
];
