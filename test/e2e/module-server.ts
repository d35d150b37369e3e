/**
 * Serves SDK modules to real Chromium for module-level tests: each entry (a TypeScript file
 * under packages/) is bundled by esbuild into a script that sets `window[name]` to the module's
 * exports, and every other path answers a blank page that loads all bundles. A real HTTP
 * origin, so IndexedDB, Web Locks and BroadcastChannel behave as on a shop's site, and any
 * number of tabs can open it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface ModuleServer {
  /** Base URL, ending in '/'. */
  url: string;
  close(): Promise<void>;
}

export interface ModuleServerOptions {
  /** Global name → TypeScript entry, relative to the repository root. */
  entries: Record<string, string>;
  /**
   * Bundle as ES modules loaded by `<script type="module">` (deferred) instead of classic
   * scripts: for code that reads `import.meta.url`, as the SDK does to find its worker.
   */
  module?: boolean;
  /** Extra routes tried first (return true when handled), e.g. a test collector. */
  handle?: (request: IncomingMessage, response: ServerResponse) => boolean | Promise<boolean>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function bundle(name: string, entry: string, module: boolean): Promise<string> {
  const path = new URL(entry, `file://${ROOT}`).pathname;
  const result = await build({
    ...(module
      ? { stdin: { contents: `import * as m from ${JSON.stringify(path)}; window[${JSON.stringify(name)}] = m;`, resolveDir: ROOT }, format: 'esm' as const }
      : { entryPoints: [path], format: 'iife' as const, globalName: name }),
    bundle: true,
    write: false,
    target: 'es2022',
    platform: 'browser',
    alias: { '@hunch/core': `${ROOT}packages/core/src/index.ts` },
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export async function startModuleServer({ entries, handle, module = false }: ModuleServerOptions): Promise<ModuleServer> {
  const scripts = new Map(await Promise.all(Object.entries(entries).map(async ([name, entry]) => [name, await bundle(name, entry, module)] as const)));
  const type = module ? ' type="module"' : '';
  const page = `<!doctype html><meta charset="utf-8"><title>hunch module test</title>${[...scripts.keys()].map((name) => `<script${type} src="/bundle/${name}.js"></script>`).join('')}`;
  const server = createServer(async (request, response) => {
    try {
      if (handle && (await handle(request, response))) return;
      const { pathname } = new URL(request.url ?? '/', 'http://localhost');
      const script = /^\/bundle\/([\w$]+)\.js$/.exec(pathname);
      if (script) {
        const text = scripts.get(script[1]!);
        response.writeHead(text ? 200 : 404, { 'content-type': 'text/javascript; charset=utf-8' }).end(text ?? '');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
