// One build for the whole monorepo: `npm run build`.
//   core     -> packages/core/dist/index.js            (isomorphic ESM)
//   collector -> packages/collector/dist/index.js       (Node ESM; better-sqlite3 and pg external)
//   trainer  -> packages/trainer/dist/{cli,index,train-worker}.js (Node ESM, deps external,
//               @hunch/collector too: `hunch collect` loads the collector's own build)
//   browser  -> packages/browser/dist/hunch.esm.js       (ESM for `import`)
//               packages/browser/dist/hunch.js           (IIFE for a <script> tag: the small loader)
//               packages/browser/dist/hunch.sdk.js       (ESM: the rest of the SDK, imported by hunch.js)
//               packages/browser/dist/hunch.worker.js    (the model worker, with transformers.js: WebGPU + WASM)
//               packages/browser/dist/hunch.worker.wasm.js (the same on onnxruntime-web's plain WASM build)
//               packages/browser/dist/ort/*.wasm         (onnxruntime-web's wasm for each, self-hosted)
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeResolve from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import esbuild from 'rollup-plugin-esbuild';
import { browserBuilds } from './packages/browser/rollup.parts.mjs';

const coreSource = fileURLToPath(new URL('./packages/core/src/index.ts', import.meta.url));

/** Workspace packages are bundled from source, so a build never depends on an earlier build. */
export const workspaceSources = () => ({
  name: 'hunch-workspace-sources',
  resolveId: (id) => (id === '@hunch/core' ? coreSource : null),
});

/**
 * Empties `dir` of JavaScript from an earlier build before this one writes: the trainer's shared
 * chunks carry a hash in their names, and npm packs every dist/*.js there is.
 */
const emptyOutput = (dir) => ({
  name: 'hunch-empty-output',
  buildStart() {
    for (const file of existsSync(dir) ? readdirSync(dir) : []) if (/\.js(\.map)?$/.test(file)) rmSync(join(dir, file));
  },
});

const nodeExternal = (id) =>
  builtinModules.includes(id) || id.startsWith('node:') || /^(@tensorflow|onnx-proto|onnxruntime-node|better-sqlite3|pg($|\/)|jstat|@hunch\/collector)/.test(id);

export default [
  {
    input: 'packages/core/src/index.ts',
    output: { file: 'packages/core/dist/index.js', format: 'es', sourcemap: true },
    plugins: [esbuild({ target: 'es2022' })],
  },
  {
    input: 'packages/collector/src/index.ts',
    output: { file: 'packages/collector/dist/index.js', format: 'es', sourcemap: true },
    external: nodeExternal,
    plugins: [workspaceSources(), esbuild({ target: 'node20' })],
  },
  {
    input: { cli: 'packages/trainer/src/cli.ts', index: 'packages/trainer/src/index.ts', 'train-worker': 'packages/trainer/src/train-worker.ts' },
    output: { dir: 'packages/trainer/dist', format: 'es', sourcemap: true },
    external: nodeExternal,
    plugins: [emptyOutput(fileURLToPath(new URL('./packages/trainer/dist', import.meta.url))), workspaceSources(), nodeResolve({ preferBuiltins: true }), commonjs(), esbuild({ target: 'node20' })],
  },
  ...browserBuilds({ workspaceSources }),
];
