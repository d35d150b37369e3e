/**
 * Starting the model worker: a dedicated Worker for this page, or a SharedWorker that every
 * page of the shop connects to, kept alive across navigations (`extendedLifetime`), so the
 * page after a click finds the model already loaded instead of starting the runtime again.
 * Browsers without SharedWorker (Chrome on Android) get the dedicated one. Either takes its URL
 * through the SDK's Trusted Types policy (lib/trusted-types.ts), for pages that enforce them.
 */
import type { Endpoint } from 'comlink';
import { workerScriptUrl } from './lib/trusted-types.js';

export interface WorkerConnection {
  /** Where comlink talks to the worker: the Worker itself, or this page's port of the SharedWorker. */
  endpoint: Endpoint;
  /** Calls `listener` when the worker's script fails to load or run, or the worker crashes later. */
  onError(listener: (message: string) => void): void;
  /** Whether closing ends the worker (dedicated) or only this page's connection to it (shared). */
  shared: boolean;
  close(): void;
}

/** Whether this browser can share one worker between pages. */
export function sharedWorkersSupported(): boolean {
  return typeof SharedWorker === 'function';
}

/**
 * Starts (or, shared, connects to) the worker at `url`. Pages share a worker when they use the
 * same `url` and `name`: the caller names it after the model it will load (a worker holds one)
 * and a generation, so that after a failure a page moves on to a fresh worker instead of the
 * broken one, which the browser ends once no page uses it.
 */
export function connectWorker(url: string, { shared, name }: { shared: boolean; name: string }): WorkerConnection {
  if (shared && sharedWorkersSupported()) {
    // extendedLifetime (Chromium 14x+) keeps it across a navigation to the shop's next page; other browsers ignore it.
    const worker = new SharedWorker(workerScriptUrl(url), { type: 'module', name, extendedLifetime: true } as WorkerOptions);
    worker.port.start();
    return {
      endpoint: worker.port,
      onError: (listener) => worker.addEventListener('error', (event) => listener((event as ErrorEvent).message || 'could not start')),
      shared: true,
      close: () => worker.port.close(),
    };
  }
  const worker = new Worker(workerScriptUrl(url), { type: 'module', name });
  return {
    endpoint: worker,
    onError: (listener) => worker.addEventListener('error', (event) => listener(event.message || 'could not start')),
    shared: false,
    close: () => worker.terminate(),
  };
}
