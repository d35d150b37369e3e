/**
 * The shop's catalog as the page sees it: entries by id and the popular list, asked of the model
 * worker, which holds hunch.json. A big shop's manifest (tens of thousands of products, megabytes
 * of JSON) would block the page's main thread for hundreds of milliseconds to parse; the worker
 * parses it anyway and sends over only the entries the page shows. Only when no worker runs (no
 * consent yet, a skipped device, a failed model) does the page read hunch.json itself, once.
 */
import type { CatalogItem, HunchManifest } from '@hunch/core';
import { logOnce } from './lib/log.js';
import type { ModelClient } from './model-client.js';
import { readManifest } from './worker/manifest.js';

/** Popular entries asked of the worker at a time: one answer usually fills a placement even after exclusions. */
const POPULAR_PAGE = 32;

export interface Catalog {
  /** The entries of these ids that the catalog has. */
  entries(ids: Iterable<string>): Promise<Map<string, CatalogItem>>;
  /** The popular list, most popular first, fetched page by page as it is walked. */
  popular(): AsyncGenerator<CatalogItem>;
  /** The manifest's version, or null when it cannot be read. */
  version(): Promise<string | null>;
}

/** `model()` is the running model client, if any: the catalog asks its worker first. */
export function createCatalog(modelUrl: string, model: () => ModelClient | undefined): Catalog {
  let onPage: Promise<{ manifest: HunchManifest; byId: Map<string, CatalogItem> } | undefined> | undefined;
  /** hunch.json parsed on the page: only when there is no worker to ask. */
  const pageManifest = () =>
    (onPage ??= readManifest(modelUrl).then(
      ({ manifest }) => ({ manifest, byId: new Map(manifest.catalog.map((item) => [item.id, item])) }),
      (error: unknown) => {
        logOnce('model manifest unavailable', error);
        return undefined;
      },
    ));

  return {
    async entries(ids) {
      const wanted = [...new Set(ids)];
      const fromWorker = wanted.length === 0 ? { items: [] } : await model()?.catalog({ ids: wanted });
      if (fromWorker) return new Map(fromWorker.items.map((item) => [item.id, item]));
      const byId = (await pageManifest())?.byId;
      return new Map(wanted.flatMap((id) => (byId?.has(id) ? [[id, byId.get(id)!] as const] : [])));
    },

    async *popular() {
      let offset = 0;
      for (; ; offset += POPULAR_PAGE) {
        const page = await model()?.catalog({ ids: [], popular: { offset, count: POPULAR_PAGE } });
        if (!page) break;
        yield* page.popular;
        if (!page.morePopular) return;
      }
      // No worker (any more): the rest of the list from hunch.json on the page.
      const loaded = await pageManifest();
      if (!loaded) return;
      for (const id of loaded.manifest.popular.slice(offset)) {
        const item = loaded.byId.get(id);
        if (item) yield item;
      }
    },

    async version() {
      const fromWorker = await model()?.catalog({ ids: [] });
      return fromWorker?.modelVersion ?? (await pageManifest())?.manifest.version ?? null;
    },
  };
}
