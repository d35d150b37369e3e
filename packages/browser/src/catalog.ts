/**
 * The shop's catalog as the page sees it: entries by id and the popular list, asked of the model
 * worker, which holds the model's catalog.json. A big shop's catalog (tens of thousands of
 * products, megabytes of JSON) would cost the page's main thread tens to hundreds of milliseconds
 * to read and index; the worker does that anyway and sends over only the entries the page shows.
 * Only when no worker runs (no consent yet, a skipped device, a failed model) does the page read
 * hunch.json and catalog.json itself, once.
 */
import type { CatalogItem } from '@hunch/core';
import type { ModelCatalog } from './worker/catalog-shards.js';
import { logOnce } from './lib/log.js';
import type { ModelClient } from './model-client.js';
import { readCatalog, readManifest } from './worker/manifest.js';

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
  let onPage: Promise<{ version: string; catalog: ModelCatalog } | undefined> | undefined;
  /** The catalog read on the page: only when there is no worker to ask. */
  const pageCatalog = () =>
    (onPage ??= readManifest(modelUrl)
      // Not kept in the model's cache: the worker keeps its files, once it runs (with consent).
      // Over http:// (no SubtleCrypto) the size is checked, not the hash: these are only what
      // the page shows, and no model runs there (model-client.ts deviceSkipReason).
      .then(async ({ manifest }) => ({ version: manifest.version, catalog: await readCatalog(modelUrl, manifest, { keep: false, hashRequired: false }) }))
      .catch((error: unknown) => {
        logOnce('model catalog unavailable', error);
        return undefined;
      }));

  return {
    async entries(ids) {
      const wanted = [...new Set(ids)];
      const fromWorker = wanted.length === 0 ? { items: [] } : await model()?.catalog({ ids: wanted });
      if (fromWorker) return new Map(fromWorker.items.map((item) => [item.id, item]));
      const catalog = (await pageCatalog())?.catalog;
      await catalog?.ensure(wanted);
      return new Map(wanted.flatMap((id) => {
        const item = catalog?.entry(id);
        return item ? [[id, item] as const] : [];
      }));
    },

    async *popular() {
      let offset = 0;
      for (; ; offset += POPULAR_PAGE) {
        const page = await model()?.catalog({ ids: [], popular: { offset, count: POPULAR_PAGE } });
        if (!page) break;
        yield* page.popular;
        if (!page.morePopular) return;
      }
      // No worker (any more): the rest of the list from catalog.json on the page.
      const loaded = await pageCatalog();
      if (!loaded) return;
      for (let from = offset; from < loaded.catalog.popular.length; from += POPULAR_PAGE) {
        const ids = loaded.catalog.popular.slice(from, from + POPULAR_PAGE);
        await loaded.catalog.ensure(ids);
        for (const id of ids) {
          const item = loaded.catalog.entry(id);
          if (item) yield item;
        }
      }
    },

    async version() {
      const fromWorker = await model()?.catalog({ ids: [] });
      return fromWorker?.modelVersion ?? (await pageCatalog())?.version ?? null;
    },
  };
}

/**
 * Catalog entries the page already received from the worker, for the model version they came
 * with: a prediction asks only for the entries it lacks. The history's products are the same
 * from one event to the next, and re-sending them with every answer would cost each call
 * their serialisation across a shared worker's process boundary.
 */
export class KnownEntries {
  private version: string | undefined;
  /** null: asked for and not in that version's catalog (an unknown product is not asked for again). */
  private readonly byId = new Map<string, CatalogItem | null>();

  /** At most this many ids are kept (a long session browsing a huge catalog starts over). */
  constructor(private readonly limit = 5_000) {}

  /** Ids among `ids` the page has not asked about yet, each once. */
  missing(ids: Iterable<string>): string[] {
    return [...new Set(ids)].filter((id) => !this.byId.has(id));
  }

  /**
   * Keeps `items`, from an answer of model `version` to a request for `asked` (those without
   * an entry are absent from that catalog). Entries of another version are forgotten.
   */
  add(version: string, items: readonly CatalogItem[], asked: readonly string[]): void {
    if (version !== this.version || this.byId.size + asked.length + items.length > this.limit) this.byId.clear();
    this.version = version;
    for (const id of asked) if (!this.byId.has(id)) this.byId.set(id, null);
    for (const item of items) this.byId.set(item.id, item);
  }

  /** The known entries of `ids`. */
  of(ids: Iterable<string>): Map<string, CatalogItem> {
    const found = new Map<string, CatalogItem>();
    for (const id of ids) {
      const item = this.byId.get(id);
      if (item) found.set(id, item);
    }
    return found;
  }
}
