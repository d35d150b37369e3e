/**
 * The closed-loop shopper simulation (in the spirit of RecoGym and RecSim): simulated shoppers
 * with a latent mission (a category of the shop and an intent) visit the shop over several
 * days; on each visit they browse on their own (a search, product views) and, at two
 * placements, are shown what an arm shows them: `model` the SDK's own recommendations from the
 * exported model given their events so far, `popular` the catalog's popular items (the SDK's
 * path for a held-out shopper), `none` nothing. What is shown is decided by a `LoopShop` (in
 * practice sdk-shop.ts: the real SDK code and model file); what the shopper does about it is
 * decided here, from how well it matches their mission:
 *
 * - relevance of a shown item: 1 when it is of the mission's category, else 0;
 * - a placement is clicked with probability clickBase + clickGain · max_j rel_j · decay^j (the
 *   best shown item, discounted by its position j); which tile, by weights (offTarget + rel_j) ·
 *   decay^j. A click is recorded as the SDK records it (select_item, then view_item of the item),
 *   so it is in the history the model sees next: the loop is closed;
 * - each visit ends in a purchase with probability sigmoid(propensity + intent shift +
 *   relevantClickBoost · [a relevant recommendation was clicked in the visit]); an add to cart
 *   with cartRatio times that (the same uniform: a buyer has added to cart). What is bought is
 *   the relevant recommendation clicked, else the shopper's own last find of the mission's
 *   category; its catalog price is the revenue. Carts and purchases are recorded as events (the
 *   SDK then leaves them out of later recommendations).
 *
 * Every random number a shopper uses comes from their own stream, drawn in an order that does
 * not depend on the arm (a fixed number of draws per visit), so the same shopper is replayed
 * under every arm with the same luck: the true lift of one arm over another is exact for the
 * simulated shoppers, and it comes from the recommendations actually shown, not from a knob.
 * Deterministic for a seed.
 *
 * The device stores the events as the SDK does (page views, searches, product views, the tiles
 * shown as view_item_list, clicks, carts, purchases, and an `experience_impression` of the
 * experiment each time a placement is on a page), and `ClosedLoopExperiment.events()` gives them
 * as the SDK uploads them (with the shopper's id), for each enrolled shopper under their own arm:
 * what `hunch report` reads, so that the report can be checked end to end against the truth.
 */
import { EXPOSURE_EVENT, type CatalogItem, type EventItem, type EventParams, type HunchEvent } from '@hunch/core';
import { hashSeed, Rng } from '../lib/prng.js';
import { meanEstimate } from './estimate.js';
import { armMoments } from './arm-moments.js';
import { absoluteLift, relativeLift } from './lift.js';
import type { Interval } from './estimate.js';
import { ratioEstimate } from './ratio-metric.js';
import { emptyOutcomes, type ShopperOutcomes } from './responses.js';
import { simulateExperiment, trueMeans, trueRatios, type Arm, type SimulatedExperiment } from './simulate-experiment.js';
import { sigmoid } from './simulate-shoppers.js';

export type LoopArm = 'model' | 'popular' | 'none';
export type LoopIntent = 'browse' | 'research' | 'buy';
const INTENTS: readonly LoopIntent[] = ['browse', 'research', 'buy'];

/** One shopper's device: what a placement shows (ids, in order) given the events recorded so far. */
export interface LoopDevice {
  recommend(request: { k: number; exclude?: string[]; placement: string }): Promise<string[]>;
  newPage(): void;
}

/** The shop: its products, and a device per shopper and arm (sdk-shop.ts's SdkShop is one). */
export interface LoopShop {
  /** Most popular first (the catalog's popular list). */
  products: readonly CatalogItem[];
  device(events: readonly HunchEvent[], options: { heldOut: boolean }): LoopDevice;
}

export interface ClosedLoopModel {
  /** Mean visits per shopper in the window (at least 1), and the log-scale sd of shoppers' visit rates. */
  visits: number;
  visitSpread: number;
  /** Days between two visits, at most. */
  visitGap: number;
  /** How often each intent is a shopper's mission. */
  intents: Record<LoopIntent, number>;
  /** Median probability that a visit ends in a purchase (research intent, nothing clicked). */
  purchaseRate: number;
  /** Logit-scale sd of shoppers' purchase propensity. */
  purchaseSpread: number;
  /** Added to the purchase logit by intent. */
  intentShift: Record<LoopIntent, number>;
  /** Own product views per visit, by intent: [fewest, most]. */
  views: Record<LoopIntent, [number, number]>;
  /** A visit starts with a search for the mission's category with this chance. */
  search: number;
  /** An own product view outside the mission's category. */
  strayView: number;
  /** Tiles at the home page's placement ("For you") and at the product page's ("Because you viewed"). */
  homeTiles: number;
  productTiles: number;
  /** P(click a placement) = clickBase + clickGain · best position-discounted relevance. */
  clickBase: number;
  clickGain: number;
  /** Attention falls by this factor per position. */
  positionDecay: number;
  /** Weight of an irrelevant tile against a relevant one (1 + this) when choosing which tile is clicked. */
  offTarget: number;
  /** Added to the purchase logit of a visit in which a relevant recommendation was clicked. */
  relevantClickBoost: number;
  /** An add to cart is this multiple as likely as a purchase (at most 1). */
  cartRatio: number;
}

/**
 * About 12% of shoppers buy in the window without recommendations, ~5 per shopper in revenue;
 * a relevant tile at the top of a placement is clicked about a fifth of the time.
 */
export const DEFAULT_CLOSED_LOOP_MODEL: ClosedLoopModel = {
  visits: 2,
  visitSpread: 0.8,
  visitGap: 3,
  intents: { browse: 0.4, research: 0.45, buy: 0.15 },
  purchaseRate: 0.04,
  purchaseSpread: 1,
  intentShift: { browse: -1, research: 0, buy: 1.2 },
  views: { browse: [1, 3], research: [2, 4], buy: [1, 2] },
  search: 0.35,
  strayView: 0.1,
  homeTiles: 6,
  productTiles: 4,
  clickBase: 0.01,
  clickGain: 0.2,
  positionDecay: 0.8,
  offTarget: 0.05,
  relevantClickBoost: 0.8,
  cartRatio: 3,
};

export interface ClosedLoopOptions {
  shoppers: number;
  seed: number;
  /** Days over which shoppers first arrive. */
  days: number;
  model?: Partial<ClosedLoopModel>;
}

/** One entry per shopper in every column; `ids` and `size` are what assignment needs. */
export interface ClosedLoopPopulation {
  size: number;
  days: number;
  seed: number;
  model: ClosedLoopModel;
  ids: string[];
  /** The mission's category (index into `categories`) and intent (index into INTENTS). */
  mission: Int16Array;
  intent: Uint8Array;
  categories: string[];
  /** First visit's day, in [0, days). */
  day: Uint8Array;
  visits: Int32Array;
  /** Logit of the per-visit purchase probability, intent shift included. */
  purchaseLogit: Float64Array;
}

const logit = (p: number) => Math.log(p / (1 - p));

/**
 * The shoppers' ids, from the seed: what assignment hashes and what their events carry as
 * `shopperId` (the SDK uploads the id it assigns by), so a token the event schema accepts
 * (8 to 64 of A-Z a-z 0-9 _ -).
 */
export function loopShopperIds(seed: number, count: number): string[] {
  const tag = (seed >>> 0).toString(36);
  return Array.from({ length: count }, (_, i) => `loop-${tag}-${i.toString(36)}`);
}

/** Categories of `products` in order of first appearance (the popular list: most popular first). */
const categoriesOf = (products: readonly CatalogItem[]) => [...new Set(products.flatMap((item) => (item.category === undefined ? [] : [item.category])))];

/** The population: missions drawn with each category's share of the catalog's popularity (1/rank), uniform arrival days. */
export function closedLoopPopulation(products: readonly CatalogItem[], options: ClosedLoopOptions): ClosedLoopPopulation {
  const model = { ...DEFAULT_CLOSED_LOOP_MODEL, ...options.model };
  const { shoppers: n, days, seed } = options;
  if (days < 1 || days > 255) throw new Error('days must be in [1, 255]');
  const categories = categoriesOf(products);
  if (categories.length < 2) throw new Error('the closed loop needs a catalog of at least two categories');
  const categoryWeights = categories.map(() => 0);
  products.forEach((item, rank) => {
    if (item.category !== undefined) categoryWeights[categories.indexOf(item.category)]! += 1 / Math.sqrt(rank + 1);
  });
  const intentWeights = INTENTS.map((intent) => model.intents[intent]);
  const rng = new Rng(hashSeed(seed, 0x100b));
  const pop: ClosedLoopPopulation = {
    size: n,
    days,
    seed,
    model,
    ids: loopShopperIds(seed, n),
    mission: new Int16Array(n),
    intent: new Uint8Array(n),
    categories,
    day: new Uint8Array(n),
    visits: new Int32Array(n),
    purchaseLogit: new Float64Array(n),
  };
  const base = logit(model.purchaseRate);
  const shift = (model.visitSpread * model.visitSpread) / 2;
  for (let i = 0; i < n; i++) {
    pop.mission[i] = rng.weighted(categoryWeights);
    const intent = rng.weighted(intentWeights);
    pop.intent[i] = intent;
    pop.day[i] = rng.int(days);
    // 1 + Poisson(mean (visits - 1) · a mean-one lognormal rate), by counting exponential gaps.
    const rate = (model.visits - 1) * Math.exp(model.visitSpread * rng.normal() - shift);
    let extra = 0;
    for (let t = -Math.log(1 - rng.next()) / rate; t < 1 && extra < 30; t += -Math.log(1 - rng.next()) / rate) extra++;
    pop.visits[i] = 1 + extra;
    pop.purchaseLogit[i] = base + model.purchaseSpread * rng.normal() + model.intentShift[INTENTS[intent]!];
  }
  return pop;
}

/** What one arm showed, over every shopper's visits (for checks: do the model's tiles match missions more often?). */
export interface ShownStats {
  /** Placements asked, tiles shown, tiles of the shopper's mission category. */
  placements: number;
  tiles: number;
  relevantTiles: number;
  /** Placements whose tiles include at least one of the mission's category. */
  placementsWithRelevant: number;
}

const emptyShown = (): ShownStats => ({ placements: 0, tiles: 0, relevantTiles: 0, placementsWithRelevant: 0 });

/** Fixed start of simulated time (as simulate.ts): events never depend on the clock. */
const EPOCH = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;
const CURRENCY = 'EUR';

interface Catalogued {
  byId: Map<string, CatalogItem>;
  /** Per category: items most popular first, and their weights 1/rank. */
  byCategory: Map<string, { items: CatalogItem[]; weights: number[] }>;
}

function catalogued(products: readonly CatalogItem[]): Catalogued {
  const byId = new Map(products.map((item) => [item.id, item]));
  const byCategory = new Map<string, { items: CatalogItem[]; weights: number[] }>();
  for (const item of products) {
    if (item.category === undefined) continue;
    let entry = byCategory.get(item.category);
    if (!entry) byCategory.set(item.category, (entry = { items: [], weights: [] }));
    entry.items.push(item);
    entry.weights.push(1 / entry.items.length);
  }
  return { byId, byCategory };
}

/** A product as an event's `items` entry (view_item_list, purchase). */
const listItem = (item: CatalogItem): EventItem => ({
  item_id: item.id,
  ...(item.category !== undefined ? { item_category: item.category } : {}),
  ...(item.price !== undefined ? { price: item.price } : {}),
});

const itemParams = (item: CatalogItem): EventParams => ({
  item_id: item.id,
  ...(item.category !== undefined ? { item_category: item.category } : {}),
  ...(item.price !== undefined ? { value: item.price, currency: CURRENCY } : {}),
});

/** One shopper's outcomes in the window (a row of ShopperOutcomes). */
interface ShopperResult {
  purchases: number;
  revenue: number;
  carted: number;
  impressions: number;
  clicks: number;
}

/** The experiment a replay logs exposures to: its key and the variant's name. */
interface Exposure {
  key: string;
  variant: string;
}

/** Time between two steps of a visit (a page, a search, the checkout); the events of one step are a second apart. */
const STEP_MS = 20_000;

/**
 * Shopper i's window under `arm`; what was shown is added to `shown`. Every event is stored on
 * the device as the SDK stores it (the recommendations read them back), exposures included, and
 * handed to `upload`, if given, with the shopper's id, as the SDK's uploader sends it.
 *
 * Events: per visit (a session of its own) a page_view of the home page, then its "For you"
 * placement: an `experience_impression` of the experiment (item_list_id "home") whenever the
 * placement is on the page, also for `none`, whose slot stays empty (so that every arm is
 * exposed at the same moment), a view_item_list of the tiles shown, and a click as select_item
 * (item_list_id the placement) + view_item; a search; the product views (view_item); on the last
 * product page the "Because you viewed" placement (its exposure, tiles, click, item_list_id
 * "product"); then add_to_cart and purchase (value, currency, items). Times: the visit's day
 * (arrival day, then the gaps), an hour of the day from the shopper's own stream, 20 s per step
 * and 1 s between the events of a step: the steps' times, the exposures' among them, do not
 * depend on the arm.
 */
async function replayShopper(pop: ClosedLoopPopulation, i: number, shop: LoopShop, arm: LoopArm, exposure: Exposure, cat: Catalogued, shown: ShownStats, upload?: (event: HunchEvent) => void): Promise<ShopperResult> {
  const m = pop.model;
  const mission = pop.categories[pop.mission[i]!]!;
  const intent = INTENTS[pop.intent[i]!]!;
  const own = cat.byCategory.get(mission)!;
  const rng = new Rng(hashSeed(pop.seed, i, 0xc105ed));
  // Hours of the day come from a stream of their own, so the response draws stay as they were.
  const clockRng = new Rng(hashSeed(pop.seed, i, 0x71e5));
  const events: HunchEvent[] = [];
  const device = arm === 'none' ? null : shop.device(events, { heldOut: arm === 'popular' });
  const shopperId = pop.ids[i]!;
  let eventCount = 0;
  let day = pop.day[i]!;
  let clock = 0;
  let within = 0;
  let sessionId = '';
  const step = () => {
    clock += STEP_MS;
    within = 0;
  };
  const emit = (name: HunchEvent['name'], params: EventParams) => {
    const event: HunchEvent = { id: `${shopperId}-${eventCount++}`, name, ts: clock + 1000 * within++, sessionId, params };
    events.push(event);
    upload?.({ ...event, shopperId });
  };
  let purchases = 0, revenue = 0, carted = 0, impressions = 0, clicks = 0;
  const [fewest, most] = m.views[intent];

  /** Shows a placement and draws the response (two uniforms, whatever the arm); the clicked item, if any. */
  const placement = async (name: string, k: number, exclude: string[]): Promise<CatalogItem | undefined> => {
    const uClick = rng.next();
    const uWhich = rng.next();
    emit(EXPOSURE_EVENT, { experiment_id: exposure.key, variant_id: exposure.variant, item_list_id: name });
    if (!device) return undefined;
    const ids = await device.recommend({ k, exclude, placement: name });
    const items = ids.flatMap((id) => cat.byId.get(id) ?? []);
    shown.placements++;
    shown.tiles += items.length;
    impressions += items.length;
    if (items.length > 0) emit('view_item_list', { item_list_id: name, items: items.map(listItem) });
    let best = 0;
    let total = 0;
    const weights = items.map((item, j) => {
      const rel = item.category === mission ? 1 : 0;
      shown.relevantTiles += rel;
      const attention = m.positionDecay ** j;
      best = Math.max(best, rel * attention);
      total += (m.offTarget + rel) * attention;
      return (m.offTarget + rel) * attention;
    });
    if (best > 0) shown.placementsWithRelevant++;
    if (items.length === 0 || uClick >= m.clickBase + m.clickGain * best) return undefined;
    let r = uWhich * total;
    let j = 0;
    while (j < items.length - 1 && (r -= weights[j]!) >= 0) j++;
    const item = items[j]!;
    clicks++;
    emit('select_item', { ...itemParams(item), item_list_id: name });
    emit('view_item', itemParams(item));
    return item;
  };

  for (let v = 0; v < pop.visits[i]!; v++) {
    if (v > 0) day += 1 + Math.floor(rng.next() * m.visitGap);
    else rng.next();
    // Between 8:00 and 22:00 (UTC): a visit never crosses midnight.
    clock = EPOCH + day * DAY + Math.floor((8 + 14 * clockRng.next()) * 3_600_000);
    within = 0;
    sessionId = `${shopperId}-s${v}`;
    // Arrival: the home page and its "For you" placement.
    emit('page_view', { page_path: '/' });
    device?.newPage();
    const home = await placement('home', m.homeTiles, []);
    // The shopper's own browsing: maybe a search, then product pages (a fixed number of draws per view).
    const searched = rng.next() < m.search;
    step();
    if (searched) emit('search', { search_term: mission });
    const views = fewest + Math.floor(rng.next() * (most - fewest + 1));
    let found: CatalogItem | undefined;
    let current: CatalogItem | undefined;
    for (let j = 0; j < views; j++) {
      const stray = rng.next() < m.strayView;
      const pick = rng.next();
      const other = rng.next();
      const from = stray ? cat.byCategory.get(pop.categories[Math.floor(other * pop.categories.length)]!)! : own;
      let r = pick * from.weights.reduce((s, w) => s + w, 0);
      let at = 0;
      while (at < from.items.length - 1 && (r -= from.weights[at]!) >= 0) at++;
      current = from.items[at]!;
      if (current.category === mission) found = current;
      if (device) device.newPage();
      step();
      emit('view_item', itemParams(current));
    }
    // The last product page's "Because you viewed" placement (without the product on screen).
    const product = await placement('product', m.productTiles, current ? [current.id] : []);
    // The visit's purchase: more likely after a relevant recommendation was clicked.
    const relevantClick = [home, product].find((item) => item?.category === mission);
    const p = sigmoid(pop.purchaseLogit[i]! + (relevantClick ? m.relevantClickBoost : 0));
    const u = rng.next();
    const bought = relevantClick ?? found ?? current;
    if (bought && u < Math.min(1, m.cartRatio * p)) {
      carted = 1;
      step();
      emit('add_to_cart', itemParams(bought));
      if (u < p) {
        purchases++;
        revenue += bought.price ?? 0;
        step();
        emit('purchase', { value: bought.price ?? 0, currency: CURRENCY, items: [{ ...listItem(bought), quantity: 1 }] });
      }
    }
  }
  return { purchases, revenue: Math.round(revenue * 100) / 100, carted, impressions, clicks };
}

function store(out: ShopperOutcomes, i: number, r: ShopperResult): void {
  out.purchases[i] = r.purchases;
  out.purchased[i] = r.purchases > 0 ? 1 : 0;
  out.revenue[i] = r.revenue;
  out.addedToCart[i] = r.carted;
  out.impressions[i] = r.impressions;
  out.clicks[i] = r.clicks;
}

/**
 * Every shopper's outcomes had they all been shown `arm`, and what was shown. `key`: the
 * experiment whose exposures the devices store (the variant is the arm's name: an exposure
 * never changes what the SDK recommends, only takes its place among the stored events).
 */
export async function potentialOutcomes(pop: ClosedLoopPopulation, shop: LoopShop, arm: LoopArm, key = 'closed-loop'): Promise<{ outcomes: ShopperOutcomes; shown: ShownStats }> {
  const cat = checkedCatalog(pop, shop);
  const outcomes = emptyOutcomes(pop.size);
  const shown = emptyShown();
  for (let i = 0; i < pop.size; i++) store(outcomes, i, await replayShopper(pop, i, shop, arm, { key, variant: arm }, cat, shown));
  return { outcomes, shown };
}

function checkedCatalog(pop: ClosedLoopPopulation, shop: LoopShop): Catalogued {
  const cat = catalogued(shop.products);
  for (const category of pop.categories) if (!cat.byCategory.has(category)) throw new Error(`no products of category ${category}`);
  return cat;
}

export interface ClosedLoopExperiment {
  population: ClosedLoopPopulation;
  arms: readonly Arm<LoopArm>[];
  experiment: SimulatedExperiment;
  /** What each arm showed, over every shopper (not only its own). */
  shown: ShownStats[];
  /** The experiment's key: the experiment_id of the exposures. */
  key: string;
  /**
   * What the SDK would upload: every enrolled shopper's events under their own (observed) arm,
   * shopper by shopper (one shopper's events in memory at a time), each with the shopper's id;
   * exposures name the arm (its `name`) as variant_id. Replayed through the same shop, so it
   * runs the recommendations again (the shop's cache of model answers makes that cheap); each
   * shopper's replayed outcomes are checked against the observed ones (it throws if they differ).
   */
  events(): AsyncGenerator<HunchEvent>;
}

/** Each enrolled shopper's events under their observed arm (see ClosedLoopExperiment.events). */
async function* observedEvents(shop: LoopShop, population: ClosedLoopPopulation, arms: readonly Arm<LoopArm>[], experiment: SimulatedExperiment, key: string): AsyncGenerator<HunchEvent> {
  const cat = checkedCatalog(population, shop);
  const shown = emptyShown();
  const replayed = emptyOutcomes(1);
  for (let i = 0; i < population.size; i++) {
    const a = experiment.arm[i]!;
    if (a < 0) continue;
    const events: HunchEvent[] = [];
    const result = await replayShopper(population, i, shop, arms[a]!.shown, { key, variant: arms[a]!.name }, cat, shown, (event) => events.push(event));
    store(replayed, 0, result);
    for (const column of Object.keys(replayed) as Array<keyof ShopperOutcomes>) {
      if (replayed[column][0] !== experiment.observed[column][i]) throw new Error(`closed loop: shopper ${population.ids[i]}'s replay under ${arms[a]!.name} gives ${column} ${replayed[column][0]}, observed ${experiment.observed[column][i]}`);
    }
    yield* events;
  }
}

/**
 * One experiment: a population, its potential outcomes under each distinct arm (each computed
 * once), then simulate-experiment.ts's assignment through @hunch/core and observation, with a
 * ResponseModel whose `Shown` is the arm. No global holdout unless given.
 */
export async function closedLoopExperiment(
  shop: LoopShop,
  options: ClosedLoopOptions & { key: string; arms?: readonly Arm<LoopArm>[]; assignWeights?: readonly number[] },
): Promise<ClosedLoopExperiment> {
  const arms = options.arms ?? (['model', 'popular', 'none'] as const).map((name) => ({ name, weight: 1, shown: name }));
  const population = closedLoopPopulation(shop.products, options);
  const potential = new Map<LoopArm, { outcomes: ShopperOutcomes; shown: ShownStats }>();
  for (const arm of arms) if (!potential.has(arm.shown)) potential.set(arm.shown, await potentialOutcomes(population, shop, arm.shown, options.key));
  const experiment = simulateExperiment({
    population,
    key: options.key,
    arms,
    holdout: null,
    ...(options.assignWeights ? { assignWeights: options.assignWeights } : {}),
    response: (_pop, arm, out) => {
      const from = potential.get(arm)!.outcomes;
      for (const column of Object.keys(out) as Array<keyof ShopperOutcomes>) out[column].set(from[column]);
    },
  });
  return {
    population,
    arms,
    experiment,
    shown: arms.map((arm) => potential.get(arm.shown)!.shown),
    key: options.key,
    events: () => observedEvents(shop, population, arms, experiment, options.key),
  };
}

/** An estimated lift (from the observed arms only) beside the exact true lift. */
export interface LiftCheck {
  estimate: Interval;
  truth: number;
  covered: boolean;
}

export interface ArmComparison {
  treatment: string;
  control: string;
  conversion: LiftCheck;
  conversionRelative: LiftCheck;
  revenue: LiftCheck;
  revenueRelative: LiftCheck;
}

export interface ArmSummary {
  name: string;
  shoppers: number;
  /** Observed (the arm's own shoppers) and true (every enrolled shopper under this arm). */
  conversion: { observed: number; true: number };
  revenuePerShopper: { observed: number; true: number };
  addToCart: { observed: number; true: number };
  /** Clicks per tile shown (none for an arm that shows nothing). */
  clickThrough: { observed: number; true: number } | null;
  /** Share of the tiles it showed that were of the shopper's mission category. */
  relevantTiles: number | null;
}

const check = (estimate: Interval, truth: number): LiftCheck => ({ estimate, truth, covered: estimate.low <= truth && truth <= estimate.high });

/** What a merchant's report would say (estimates from each shopper's own arm) beside the simulator's truth. */
export function closedLoopReport(run: ClosedLoopExperiment, pairs: ReadonlyArray<[number, number]>, alpha = 0.05): { arms: ArmSummary[]; comparisons: ArmComparison[] } {
  const { experiment: e, arms } = run;
  const k = arms.length;
  const moments = (metric: keyof ShopperOutcomes) => armMoments({ arm: e.arm, y: e.observed[metric] }, k).map(meanEstimate);
  const conversion = moments('purchased');
  const revenue = moments('revenue');
  const carts = moments('addedToCart');
  const trueConversion = trueMeans(e, 'purchased');
  const trueRevenue = trueMeans(e, 'revenue');
  const trueCarts = trueMeans(e, 'addedToCart');
  const ctr = armMoments({ arm: e.arm, y: e.observed.clicks, x: e.observed.impressions }, k);
  const trueCtr = trueRatios(e, 'clicks', 'impressions');
  const summaries = arms.map((arm, a): ArmSummary => ({
    name: arm.name,
    shoppers: e.counts[a]!,
    conversion: { observed: conversion[a]!.value, true: trueConversion[a]! },
    revenuePerShopper: { observed: revenue[a]!.value, true: trueRevenue[a]! },
    addToCart: { observed: carts[a]!.value, true: trueCarts[a]! },
    clickThrough: ctr[a]!.sumX > 0 ? { observed: ratioEstimate(ctr[a]!).value, true: trueCtr[a]! } : null,
    relevantTiles: run.shown[a]!.tiles > 0 ? run.shown[a]!.relevantTiles / run.shown[a]!.tiles : null,
  }));
  const comparisons = pairs.map(([t, c]): ArmComparison => ({
    treatment: arms[t]!.name,
    control: arms[c]!.name,
    conversion: check(absoluteLift(conversion[t]!, conversion[c]!, alpha), trueConversion[t]! - trueConversion[c]!),
    conversionRelative: check(relativeLift(conversion[t]!, conversion[c]!, alpha), trueConversion[t]! / trueConversion[c]! - 1),
    revenue: check(absoluteLift(revenue[t]!, revenue[c]!, alpha), trueRevenue[t]! - trueRevenue[c]!),
    revenueRelative: check(relativeLift(revenue[t]!, revenue[c]!, alpha), trueRevenue[t]! / trueRevenue[c]! - 1),
  }));
  return { arms: summaries, comparisons };
}
