/**
 * `catalog.json`: the products a model can show, beside hunch.json and listed in its `files`
 * (so it is checked and cached like the model's other files). It is a file of its own because it
 * is what grows with a shop: every product's title, URL, image and price. Inside hunch.json it
 * was three quarters of the Diginetica manifest, read and parsed before the model could load;
 * apart, the worker reads it while the model loads.
 *
 * Its shape is the trainer's `--catalog` input (`products`), so an exported catalog.json can be
 * given to `hunch export` again. Its layout (catalogJson) lets a reader index it without parsing
 * every product (indexCatalog).
 */

export const CATALOG_FILE = 'catalog.json';
export const CATALOG_FORMAT = 'hunch-catalog';
export const CATALOG_FORMAT_VERSION = 1;

/** A product the SDK can display without asking the shop. */
export interface CatalogItem {
  id: string;
  title: string;
  url: string;
  image?: string;
  price?: number;
  category?: string;
  /** The product's brand: an attribute (item-attributes.ts). */
  brand?: string;
  /** Attribute ids of the shop's own (colour, material, collection...): attributes too. */
  attributes?: string[];
}

export interface ShopCatalog {
  format: typeof CATALOG_FORMAT;
  formatVersion: typeof CATALOG_FORMAT_VERSION;
  /** Item ids, most popular first: what to show when there is no model. */
  popular: string[];
  /** The products the model can recommend (items of its vocabulary). */
  products: CatalogItem[];
}

/** Checks the fields the SDK relies on, so a broken catalog fails with a clear message. */
export function parseCatalog(input: unknown): ShopCatalog {
  if (typeof input !== 'object' || input === null) throw new Error(`${CATALOG_FILE}: not a JSON object`);
  const catalog = input as Partial<ShopCatalog>;
  if (catalog.format !== CATALOG_FORMAT) throw new Error(`${CATALOG_FILE}: format must be "${CATALOG_FORMAT}"`);
  if (catalog.formatVersion !== CATALOG_FORMAT_VERSION) {
    throw new Error(`${CATALOG_FILE}: formatVersion ${String(catalog.formatVersion)} is not supported (expected ${CATALOG_FORMAT_VERSION})`);
  }
  if (!Array.isArray(catalog.popular) || !catalog.popular.every((id) => typeof id === 'string')) throw new Error(`${CATALOG_FILE}: popular must be an array of item ids`);
  if (!Array.isArray(catalog.products)) throw new Error(`${CATALOG_FILE}: products must be an array`);
  const bad = catalog.products.findIndex((product: Partial<CatalogItem> | null) => typeof product?.id !== 'string');
  if (bad >= 0) throw new Error(`${CATALOG_FILE}: products[${bad}] has no string id`);
  return catalog as ShopCatalog;
}

const PRODUCTS_START = '\n"products": [\n';
const PRODUCTS_END = '\n]\n}\n';

/**
 * catalog.json's text: one product per line, each compact, its id first and its category (if
 * any) second. A diff of two exports shows the products that changed, and a reader finds every
 * product's id and category without parsing the rest of its line (indexCatalog).
 */
export function catalogJson({ popular, products }: Pick<ShopCatalog, 'popular' | 'products'>): string {
  const lines = products.map(({ id, category, ...rest }) => JSON.stringify({ id, ...(category === undefined ? {} : { category }), ...rest })).join(',\n');
  return `{\n"format": ${JSON.stringify(CATALOG_FORMAT)},\n"formatVersion": ${CATALOG_FORMAT_VERSION},\n"popular": ${JSON.stringify(popular)},${PRODUCTS_START}${lines}${PRODUCTS_END}`;
}

/** A catalog as the SDK reads it: the popular list, and each product by id. */
export interface CatalogIndex {
  readonly popular: readonly string[];
  /** Every product's id, in the catalog's order. */
  ids(): string[];
  /** The product, or undefined when the catalog has none with this id. */
  entry(id: string): CatalogItem | undefined;
  /** The product's category, or undefined (no such product, or none given). */
  category(id: string): string | undefined;
}

/**
 * `text` (a catalog.json) indexed by product id. The layout catalogJson writes is scanned, not
 * parsed: each line's id and category are read where that layout puts them, and a product is
 * parsed only when asked for. For the Diginetica catalog (43k products) JSON.parse and a Map of
 * the objects took twice the scan's time in Chromium's worker, and a shop's real catalog (images,
 * prices, longer titles) has more to parse per product. Any other valid layout is parsed whole.
 * Throws, as parseCatalog does, on a catalog that is not one.
 */
export function indexCatalog(text: string): CatalogIndex {
  const start = text.indexOf(PRODUCTS_START);
  const scanned = start >= 0 && text.endsWith(PRODUCTS_END) ? scanProducts(text, start + PRODUCTS_START.length, text.length - PRODUCTS_END.length) : undefined;
  if (!scanned) return parsedIndex(parseCatalog(parseJson(text)));
  const { popular } = parseCatalog(parseJson(`${text.slice(0, start + PRODUCTS_START.length)}]}`));
  return scanned.index(popular);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${CATALOG_FILE}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

function parsedIndex({ popular, products }: ShopCatalog): CatalogIndex {
  const byId = new Map(products.map((product) => [product.id, product]));
  return { popular, ids: () => [...byId.keys()], entry: (id) => byId.get(id), category: (id) => byId.get(id)?.category };
}

/** Where each product's line is, with its id and category: undefined when a line is not in catalogJson's layout. */
function scanProducts(text: string, from: number, to: number): { index(popular: readonly string[]): CatalogIndex } | undefined {
  const lineOf = new Map<string, number>();
  const starts: number[] = [];
  const ends: number[] = [];
  const categories: Array<string | undefined> = [];
  for (let position = from; position < to; ) {
    const newline = text.indexOf('\n', position);
    const end = newline < 0 || newline > to ? to : newline;
    const lineEnd = text.charCodeAt(end - 1) === 44 /* , */ ? end - 1 : end;
    const id = stringAt(text, position, '{"id":');
    if (id === undefined || text.charCodeAt(lineEnd - 1) !== 125 /* } */) return undefined;
    const category = text.startsWith(',"category":', id.end) ? stringAt(text, id.end, ',"category":') : undefined;
    lineOf.set(id.value, starts.length);
    starts.push(position);
    ends.push(lineEnd);
    categories.push(category?.value);
    position = end + 1;
  }
  return {
    index(popular) {
      const parsed = new Map<number, CatalogItem | undefined>();
      const entryAt = (line: number): CatalogItem | undefined => {
        if (!parsed.has(line)) {
          let item: CatalogItem | undefined;
          try {
            item = JSON.parse(text.slice(starts[line], ends[line])) as CatalogItem;
          } catch {
            item = undefined; // a line that only looked like a product: as if absent
          }
          parsed.set(line, item);
        }
        return parsed.get(line);
      };
      return {
        popular,
        ids: () => [...lineOf.keys()],
        entry: (id) => {
          const line = lineOf.get(id);
          return line === undefined ? undefined : entryAt(line);
        },
        category: (id) => {
          const line = lineOf.get(id);
          return line === undefined ? undefined : categories[line];
        },
      };
    },
  };
}

/** The JSON string right after `key` at `position` (its value, unescaped, and where it ends), or undefined. */
function stringAt(text: string, position: number, key: string): { value: string; end: number } | undefined {
  if (!text.startsWith(key, position)) return undefined;
  const open = position + key.length;
  if (text.charCodeAt(open) !== 34 /* " */) return undefined;
  let close = open + 1;
  let escaped = false;
  for (; ; close++) {
    const code = text.charCodeAt(close);
    if (Number.isNaN(code) || code === 10) return undefined;
    if (code === 92 /* \ */) {
      escaped = true;
      close++;
    } else if (code === 34) break;
  }
  const raw = text.slice(open, close + 1);
  if (!escaped) return { value: raw.slice(1, -1), end: close + 1 };
  try {
    return { value: JSON.parse(raw) as string, end: close + 1 };
  } catch {
    return undefined; // not a JSON string after all: the caller parses the whole file
  }
}
