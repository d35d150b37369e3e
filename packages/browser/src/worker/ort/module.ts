/**
 * What the onnxruntime module gives the worker: loading a model through transformers.js on
 * onnxruntime-web (ort-runner.ts). Built twice, once per onnxruntime-web build (ort-module-*.ts
 * configure it first); the worker imports the one of its build (ort-build.ts importOrt).
 */
export { loadOrtRunner } from './ort-runner.js';
