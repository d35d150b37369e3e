/**
 * Where a worker finds its onnxruntime module and .wasm (worker/ort/locate.ts): beside itself by
 * default (dist/, the script tag), or where the page named them in the worker URL's fragment
 * (a bundler's hashed assets); only same-origin http(s) URLs are taken from there.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runtimeFileUrl } from '../src/worker/ort/locate.js';

const inWorkerAt = (href: string) => vi.stubGlobal('self', { location: new URL(href) });

afterEach(() => vi.unstubAllGlobals());

describe('runtimeFileUrl', () => {
  it('finds the files beside the worker when the URL names none', () => {
    inWorkerAt('https://shop.test/hunch/hunch.worker.js');
    expect(runtimeFileUrl('ort', './hunch.worker.ort.js')).toBe('https://shop.test/hunch/hunch.worker.ort.js');
    expect(runtimeFileUrl('wasm', './ort/ort-wasm-simd-threaded.asyncify.wasm')).toBe('https://shop.test/hunch/ort/ort-wasm-simd-threaded.asyncify.wasm');
  });

  it('takes the files the fragment names, as a bundler emitted them', () => {
    const ort = 'https://shop.test/assets/hunch.worker.ort-Bea6m.js';
    const wasm = 'https://shop.test/assets/ort-wasm-simd-threaded.asyncify-CxOG5.wasm';
    inWorkerAt(`https://shop.test/assets/hunch.worker-o4Qv0.js#${new URLSearchParams({ ort, wasm })}`);
    expect(runtimeFileUrl('ort', './hunch.worker.ort.js')).toBe(ort);
    expect(runtimeFileUrl('wasm', './ort/ort-wasm-simd-threaded.asyncify.wasm')).toBe(wasm);
  });

  it('refuses another origin or a non-http URL in the fragment, and looks beside the worker instead', () => {
    for (const named of ['https://elsewhere.test/evil.js', 'data:text/javascript,export%20default%201', 'javascript:alert(1)', 'blob:https://shop.test/x']) {
      inWorkerAt(`https://shop.test/assets/hunch.worker-o4Qv0.js#${new URLSearchParams({ ort: named })}`);
      expect(runtimeFileUrl('ort', './hunch.worker.ort.js'), named).toBe('https://shop.test/assets/hunch.worker.ort.js');
    }
  });
});
