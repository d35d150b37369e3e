/**
 * What the onnxruntime module gives the worker: loading a model through transformers.js on
 * onnxruntime-web (runner.ts). Built twice, once per onnxruntime-web build (module-*.ts
 * configure it first); the worker imports the one of its build (build.ts importOrt).
 */
export { loadOrtRunner } from './runner.js';
