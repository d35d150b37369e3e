/**
 * A seeded shopper simulator (`hunch simulate`): sessions of GA4 retail events over any
 * catalog, with the structure a recommender should find and the funnel a shop sees, for
 * training a first model before there is traffic and for smoke tests of a pipeline.
 * Deterministic for a seed: same catalog, sessions and seed, same bytes.
 *
 * Each session is one shopper visit, recorded as a single-page shop records it (the demo
 * storefront's hash routes): one `page_view` on arrival, then one to three missions. A shopper
 * has a favourite category (categories differ in popularity, items within a category fall off
 * like 1/rank); a mission is a category and an intent:
 *   - browse   (just looking: a few views, rarely a cart),
 *   - research (search or a category page, compares several products, views some again),
 *   - buy      (searches for a product by name, views it and one or two others, adds it).
 * A mission is found by a `search` (then `view_item_list` of the results, or the product's page
 * when the shopper typed its name), a category page (`view_item_list`), the home page's
 * recommendations or a direct landing (an ad, a link);
 * products are opened from a list by `select_item` then `view_item` (or directly), and most of
 * them are in the mission's category (some views stray, as through a recommendation). Product
 * pages show recommendations (`view_item_list`, list "product"). A mission may end with an
 * `add_to_cart` of the product viewed most; a later mission's category is often a related one
 * (cross-selling: every category has two, drawn with the seed). At the end of a visit with a
 * cart the shopper may open it (`view_cart`, sometimes adding a "Complete your cart" pick or
 * removing something: `remove_from_cart`), `begin_checkout` and `purchase`; each step can be
 * abandoned, so most carts are never bought, as in real shops.
 */
import type { CatalogItem, EventItem, EventParams, HunchEvent } from '@hunch/core';
import { Rng } from './lib/prng.js';

export interface SimulateOptions {
  sessions: number;
  seed: number;
  /** Overrides of DEFAULT_SHOPPER_BEHAVIOUR. */
  behaviour?: Partial<ShopperBehaviour>;
}

export type MissionIntent = 'browse' | 'research' | 'buy';

/** The probabilities the simulator draws from; every one in [0, 1]. */
export interface ShopperBehaviour {
  /** How often each intent starts a mission. */
  intents: Record<MissionIntent, number>;
  /** The first mission is in the shopper's favourite category with this chance (else any, by popularity). */
  favourite: number;
  /** After a mission, another one follows with this chance (at most `maxMissions`). */
  anotherMission: number;
  maxMissions: number;
  /** A later mission is in a category related to the last one with this chance. */
  relatedMission: number;
  /** A browse or research mission starts with a search with this chance (a buy mission always does). */
  search: number;
  /** A buy mission's search (the product's name) leads straight to the product's page, without a result list. */
  searchRedirect: number;
  /** Else from a category page with this chance (else from the home page's recommendations, or a direct landing). */
  categoryPage: number;
  /** A product view outside the mission's category. */
  strayView: number;
  /** A product viewed earlier in the mission is viewed again (comparing). */
  viewAgain: number;
  /** A product opened from a list is clicked there first (`select_item`). */
  selectFromList: number;
  /** A product page's recommendations are seen (`view_item_list`). */
  productRecommendations: number;
  /** A mission ends with an add to cart, by intent. */
  cart: Record<MissionIntent, number>;
  /** With a cart, the shopper opens it at the end of the visit. */
  viewCart: number;
  /** In the cart, adds a "Complete your cart" recommendation. */
  completeCart: number;
  /** Removes an item from the cart: in the cart, or right after adding it (then adding another viewed product instead). */
  removeFromCart: number;
  /** From the cart, begins the checkout. */
  checkout: number;
  /** From the checkout, buys. */
  purchase: number;
}

export const DEFAULT_SHOPPER_BEHAVIOUR: ShopperBehaviour = {
  intents: { browse: 0.4, research: 0.45, buy: 0.15 },
  favourite: 0.7,
  anotherMission: 0.35,
  maxMissions: 3,
  relatedMission: 0.4,
  search: 0.35,
  searchRedirect: 0.5,
  categoryPage: 0.55,
  strayView: 0.08,
  viewAgain: 0.12,
  selectFromList: 0.75,
  productRecommendations: 0.35,
  cart: { browse: 0.05, research: 0.28, buy: 0.8 },
  viewCart: 0.75,
  completeCart: 0.2,
  removeFromCart: 0.15,
  checkout: 0.65,
  purchase: 0.7,
};

/** Fixed start of simulated time (2024-01-01T00:00:00Z), so output never depends on the clock. */
export const SIMULATION_EPOCH = Date.UTC(2024, 0, 1);

const CURRENCY = 'EUR';
/** Products in a tracked list impression (the SDK batches up to 25 per event). */
const LIST_SIZE = 8;

/** Words worth searching for in a product title (lower-case, 3+ letters). */
const titleWords = (title: string) => title.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? [];

interface Category {
  name: string;
  items: CatalogItem[];
  /** Popularity of each item (same order), falling off like 1/rank. */
  weights: number[];
  /** The items, most popular first. */
  ranked: CatalogItem[];
  related: string[];
}

export function* simulateEvents(catalog: readonly CatalogItem[], options: SimulateOptions): Generator<HunchEvent> {
  const behaviour: ShopperBehaviour = { ...DEFAULT_SHOPPER_BEHAVIOUR, ...options.behaviour };
  const rng = new Rng(options.seed);
  const byName = new Map<string, CatalogItem[]>();
  for (const product of catalog) {
    const category = product.category ?? 'other';
    const items = byName.get(category);
    if (items) items.push(product);
    else byName.set(category, [product]);
  }
  const names = [...byName.keys()];
  if (names.length === 0) throw new Error('catalog has no products');

  // Popularity: items within a category fall off like 1/rank after a seeded shuffle, so some
  // items are clearly more popular than others, as in real shops; categories differ by up to 3x.
  const categories = new Map<string, Category>();
  for (const [name, items] of byName) {
    const order = rng.shuffle(items.map((_, i) => i));
    const weights = new Array<number>(items.length).fill(0);
    order.forEach((itemIndex, rank) => (weights[itemIndex] = 1 / (rank + 1)));
    const others = rng.shuffle(names.filter((other) => other !== name));
    categories.set(name, { name, items, weights, ranked: order.map((i) => items[i]!), related: others.length > 0 ? others.slice(0, 2) : [name] });
  }
  const categoryWeights = names.map(() => 0.5 + rng.next());
  const drawCategory = () => names[rng.weighted(categoryWeights)]!;
  const drawItem = (category: Category) => category.items[rng.weighted(category.weights)]!;
  const intents = Object.keys(behaviour.intents) as MissionIntent[];
  const intentWeights = intents.map((intent) => behaviour.intents[intent]);
  /** The most popular items of a category, best first: what its page and search results list first. */
  const topItems = (category: Category, n: number) => category.ranked.slice(0, n);

  let clock = SIMULATION_EPOCH;
  for (let s = 0; s < options.sessions; s++) {
    const sessionId = rng.uuid();
    clock += 60_000 + rng.int(600_000);
    let ts = clock;
    const emit = (name: HunchEvent['name'], params: EventParams, dwellMs = 15_000): HunchEvent => {
      ts += 1_000 + rng.int(dwellMs);
      return { id: rng.uuid(), name, ts, sessionId, params };
    };
    const listEvent = (listId: string, items: readonly CatalogItem[]) =>
      emit('view_item_list', { item_list_id: listId, items: items.slice(0, LIST_SIZE).map(listItem) }, 4_000);

    const cart: CatalogItem[] = [];
    /** The product list on screen, where a click (select_item) comes from. */
    let list: { id: string; items: CatalogItem[] } | undefined;

    /** Opens a product: clicked in the list on screen (select_item), or reached directly. */
    function* open(item: CatalogItem): Generator<HunchEvent> {
      if (list && list.items.includes(item) && rng.next() < behaviour.selectFromList) {
        yield emit('select_item', { ...itemParams(item), item_list_id: list.id }, 3_000);
      }
      yield emit('view_item', { ...itemParams(item), ...value([item]) }, 60_000);
      // The product page's "Because you viewed" recommendations: mostly its own category.
      if (rng.next() < behaviour.productRecommendations) {
        const own = categories.get(item.category ?? 'other')!;
        const recs = [...new Set(Array.from({ length: 5 }, () => drawItem(own)))].filter((other) => other !== item);
        list = { id: 'product', items: recs };
        yield listEvent('product', recs);
      }
    }

    function* addToCart(item: CatalogItem): Generator<HunchEvent> {
      if (cart.includes(item)) return;
      cart.push(item);
      yield emit('add_to_cart', { ...itemParams(item), ...value([item]) }, 5_000);
    }

    /**
     * Views in one category, then perhaps a cart. `opened`: the first product, already opened
     * by the caller; `from`: the list the mission starts from (search results first: a buy
     * mission opens the first, its target).
     */
    function* mission(category: Category, intent: MissionIntent, opened: CatalogItem | undefined, from: readonly CatalogItem[]): Generator<HunchEvent> {
      const viewed: CatalogItem[] = opened ? [opened] : [];
      const [fewest, most] = intent === 'browse' ? [1, 4] : intent === 'research' ? [3, 8] : [1, 3];
      const views = fewest + rng.int(most - fewest + 1);
      for (let v = viewed.length; v < views; v++) {
        let item: CatalogItem;
        if (v === 0 && from.length > 0) {
          // The first product comes from the list on screen, the higher the likelier.
          item = intent === 'buy' ? from[0]! : from[rng.weighted(from.map((_, rank) => 1 / (rank + 1)))]!;
        } else if (viewed.length > 1 && rng.next() < behaviour.viewAgain) {
          item = rng.pick(viewed.slice(0, -1));
        } else if (rng.next() < behaviour.strayView) {
          item = drawItem(categories.get(drawCategory())!);
        } else if (list?.id === 'product' && list.items.length > 0 && rng.next() < 0.5) {
          item = rng.pick(list.items);
        } else {
          // A fresh product of the mission (not the one just seen).
          item = drawItem(category);
          for (let retry = 0; retry < 3 && item === viewed[viewed.length - 1]; retry++) item = drawItem(category);
        }
        if (item.category === category.name || (item.category === undefined && category.name === 'other')) viewed.push(item);
        yield* open(item);
      }
      if (viewed.length > 0 && rng.next() < behaviour.cart[intent]) {
        // The product looked at most (the latest of those on a tie).
        const counts = new Map<CatalogItem, number>();
        for (const item of viewed) counts.set(item, (counts.get(item) ?? 0) + 1);
        let best = viewed[viewed.length - 1]!;
        for (const item of [...viewed].reverse()) if (counts.get(item)! > counts.get(best)!) best = item;
        yield* addToCart(best);
        // Second thoughts: another product of the mission replaces it in the cart.
        const other = viewed.find((item) => item !== best);
        if (other && rng.next() < behaviour.removeFromCart) {
          yield* open(other);
          yield emit('remove_from_cart', { ...itemParams(best), ...value([best]) }, 5_000);
          cart.splice(cart.indexOf(best), 1);
          yield* addToCart(other);
        }
      }
    }

    yield emit('page_view', { page_path: '/' }, 2_000);
    const favourite = drawCategory();
    // The home page's "For you" placement: popular products, seen by most visitors.
    if (rng.next() < 0.6) {
      const home = Array.from({ length: 6 }, () => drawItem(categories.get(drawCategory())!));
      list = { id: 'home', items: home };
      yield listEvent('home', home);
    }

    let previous: string | undefined;
    for (let m = 0; m === 0 || (m < behaviour.maxMissions && rng.next() < behaviour.anotherMission); m++) {
      let categoryName =
        m === 0
          ? rng.next() < behaviour.favourite
            ? favourite
            : drawCategory()
          : rng.next() < behaviour.relatedMission
            ? rng.pick(categories.get(previous!)!.related)
            : rng.next() < 0.5
              ? favourite
              : drawCategory();
      const intent = intents[rng.weighted(intentWeights)]!;
      let opened: CatalogItem | undefined;
      let from: CatalogItem[] = [];
      // How the mission starts: a search, a category page, the home recommendations or a landing.
      if (intent === 'buy' || rng.next() < behaviour.search) {
        const category = categories.get(categoryName)!;
        const target = drawItem(category);
        yield emit('search', { search_term: searchTerm(rng, category, intent === 'buy' ? target : undefined) }, 8_000);
        if (intent === 'buy' && rng.next() < behaviour.searchRedirect) {
          // The product's exact name: the shop goes straight to its page.
          list = undefined;
          opened = target;
          yield* open(target);
        } else {
          const results = topItems(category, 12);
          from = intent === 'buy' ? [target, ...results.filter((item) => item !== target)].slice(0, 12) : rng.next() < 0.5 ? results : rng.shuffle(results);
          list = { id: 'search', items: from };
          yield listEvent('search', from);
        }
      } else if (rng.next() < behaviour.categoryPage) {
        from = topItems(categories.get(categoryName)!, 12);
        list = { id: `category:${categoryName}`, items: from };
        yield listEvent(list.id, from);
      } else if (list?.id === 'home' && rng.next() < 0.5) {
        // A click on a "For you" card: the mission is in that product's category.
        opened = rng.pick(list.items);
        categoryName = opened.category ?? 'other';
        yield* open(opened);
      } else {
        list = undefined; // a direct landing on a product page (an ad, a shared link)
      }
      previous = categoryName;
      yield* mission(categories.get(categoryName)!, intent, opened, from);
    }

    // The end of the visit: the cart, the checkout, the purchase; each step may be abandoned.
    if (cart.length > 0 && rng.next() < behaviour.viewCart) {
      yield emit('view_cart', { items: cart.map(listItem), ...value(cart) }, 10_000);
      if (rng.next() < behaviour.completeCart) {
        const last = cart[cart.length - 1]!;
        const near = categories.get(rng.pick(categories.get(last.category ?? 'other')!.related))!;
        const picks = topItems(near, 4);
        list = { id: 'cart', items: picks };
        yield listEvent('cart', picks);
        const pick = rng.pick(picks);
        yield* open(pick);
        if (rng.next() < 0.5) yield* addToCart(pick);
      }
      if (rng.next() < behaviour.removeFromCart) {
        const [removed] = cart.splice(rng.int(cart.length), 1);
        yield emit('remove_from_cart', { ...itemParams(removed!), ...value([removed!]) }, 5_000);
      }
      if (cart.length > 0 && rng.next() < behaviour.checkout) {
        yield emit('begin_checkout', { items: cart.map(listItem), ...value(cart) }, 20_000);
        if (rng.next() < behaviour.purchase) {
          yield emit('purchase', { items: cart.map((item) => ({ ...listItem(item), quantity: 1 })), ...value(cart) }, 90_000);
        }
      }
    } else if (cart.length > 0 && rng.next() < behaviour.removeFromCart) {
      // Second thoughts on the product page: removed, and the visit ends.
      const removed = cart.pop()!;
      yield emit('remove_from_cart', { ...itemParams(removed), ...value([removed]) }, 5_000);
    }
  }
}

/** What a shopper types: the category, a kind of product from its titles, or (buying) the product's name. */
function searchTerm(rng: Rng, category: Category, target?: CatalogItem): string {
  if (target) return target.title.toLowerCase();
  const r = rng.next();
  if (r < 0.4) return category.name;
  const item = rng.pick(category.items);
  const words = titleWords(item.title);
  if (words.length === 0) return category.name;
  // The last word or two of a title are usually the kind of product ("travel mug", "tea").
  return r < 0.75 ? words[words.length - 1]! : words.slice(-2).join(' ');
}

function itemParams(item: CatalogItem): EventParams {
  const params: EventParams = { item_id: item.id };
  if (item.category !== undefined) params.item_category = item.category;
  return params;
}

function listItem(item: CatalogItem): EventItem {
  return { item_id: item.id, ...(item.category !== undefined ? { item_category: item.category } : {}), ...(item.price !== undefined ? { price: item.price } : {}) };
}

function value(items: readonly CatalogItem[]): Pick<EventParams, 'value' | 'currency'> {
  const priced = items.filter((item) => item.price !== undefined);
  if (priced.length === 0) return {};
  return { value: Math.round(priced.reduce((sum, item) => sum + item.price!, 0) * 100) / 100, currency: CURRENCY };
}
