/**
 * The closed loop's shop (experiments/closed-loop.ts's LoopShop) with the real SDK in Chromium
 * beside the Node harness (scripts/lib/sdk-shop.ts): each shopper gets a browser context of
 * their own (own IndexedDB and localStorage) whose page loads the script-tag SDK on WASM with
 * the demo model. The loop's events are replayed through `hunch.track()` as the loop produces
 * them (each placement request first tracks what is new since the last one), and each
 * placement is asked of the page with `hunch.recommend({ k, exclude, placement })`. The same
 * request is asked of the Node device on the same events; both answers are recorded and the
 * browser's is what the loop's shopper sees and responds to.
 *
 * Pages: the loop calls newPage() when the shopper arrives (after its page_view event) and
 * before each product view (no event). Here a newPage() after a placement was asked makes the
 * next request load the page again (a real navigation: a new SDK instance, whose placements
 * start afresh); the page_view event also starts a new page in the SDK, as it does on a shop.
 * A second page of the context (the "anchor", which asks nothing) keeps the shared model
 * worker alive across those navigations, as a shop's other open tab would.
 *
 * The global holdout: every page has data-holdout; a shopper's id (localStorage
 * `hunch.shopper`, set before the SDK loads) is chosen in or out of it by core's inHoldout,
 * by the arm: `popular` is a held-out shopper (the SDK's popular path), `model` one outside.
 */
import { isBehaviourEvent, type HunchEvent } from '@hunch/core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEFAULT_HOLDOUT, inHoldout } from '../../packages/core/src/experiments/assignment.js';
import type { LoopDevice, LoopShop } from '../../packages/trainer/src/experiments/index.js';
import type { PlacementRequest, SdkShop } from '../../scripts/lib/sdk-shop.js';

/** The holdout share on every page (the demo's). */
export const HOLDOUT = 0.1;
const HOLDOUT_CONFIG = { key: DEFAULT_HOLDOUT.key, share: HOLDOUT };

/** One placement request as both sides answered it. */
export interface RequestRecord {
  /** The shopper's index in the population (device() calls come in shopper order), and the request's index for that shopper. */
  shopper: number;
  request: number;
  heldOut: boolean;
  placement: string;
  k: number;
  exclude: string[];
  /** How many of the loop's events the shopper had when asking, and how many of them are behaviour (what the model may read: the SDK sends it the last 50). */
  events: number;
  behaviour: number;
  node: string[];
  browser: string[];
  /** recommend()'s `source` per browser recommendation ('model' | 'popular'). */
  sources: string[];
  /** Whether the page was loaded afresh for this request (a new page after a placement was shown). */
  reloaded: boolean;
}

/** After each shopper: the events the browser stored (name and params), oldest first, against the loop's. */
export interface HistoryRecord {
  shopper: number;
  heldOut: boolean;
  loop: Array<Pick<HunchEvent, 'name' | 'params'>>;
  browser: Array<Pick<HunchEvent, 'name' | 'params'>>;
  shopperId: string | null;
}

export interface BrowserLoopShop extends LoopShop {
  requests: RequestRecord[];
  histories: HistoryRecord[];
  /** Closes the last shopper's context (after recording its history). */
  finish(): Promise<void>;
}

/** A shopper id for the `index`-th shopper that core puts in (heldOut) or out of the holdout: the first such of a numbered family. */
export function shopperIdFor(index: number, heldOut: boolean): string {
  for (let n = 0; ; n++) {
    const id = `loop-shopper-${index}-${n}`;
    if (inHoldout(id, HOLDOUT_CONFIG) === heldOut) return id;
  }
}

const TAG = `<script src="/hunch/hunch.js" data-model="/models/demo/" data-backend="wasm" data-auto-capture="false" data-holdout="${HOLDOUT}"></script>`;

interface Opened {
  context: BrowserContext;
  page: Page;
  shopperId: string;
}

async function open(browser: Browser, url: string, shopperId: string): Promise<Opened> {
  const context = await browser.newContext();
  await context.route(url, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta charset="utf-8"><title>loop shop</title>${TAG}` }));
  await context.addInitScript((id) => {
    if (!localStorage.getItem('hunch.shopper')) localStorage.setItem('hunch.shopper', id);
  }, shopperId);
  const anchor = await context.newPage();
  await anchor.goto(url);
  // Starts the shared model worker and waits until the model is loaded.
  await anchor.evaluate(() => window.hunch!.status());
  const page = await context.newPage();
  await page.goto(url);
  return { context, page, shopperId };
}

const pick = (events: readonly HunchEvent[]) => events.map(({ name, params }) => ({ name, params }));

/**
 * `url`: a page of the storefront (it is answered by the SDK's tag only). `heldOut` selects the
 * arm's shopper ids; `shoppers` how many devices will be asked (contexts are opened one ahead).
 */
export function browserLoopShop(browser: Browser, url: string, node: SdkShop, { shoppers, heldOut }: { shoppers: number; heldOut: boolean }): BrowserLoopShop {
  const requests: RequestRecord[] = [];
  const histories: HistoryRecord[] = [];
  const opening: Array<Promise<Opened> | undefined> = [];
  const openAt = (i: number) => {
    if (i < shoppers && !opening[i]) {
      opening[i] = open(browser, url, shopperIdFor(i, heldOut));
      opening[i]!.catch(() => undefined); // awaited (and thrown) where used
    }
  };
  let index = -1;
  /** The current shopper's wrap-up: tracks the events after the last request, records the history, closes the context. */
  let close: (() => Promise<void>) | undefined;

  const shop: BrowserLoopShop = {
    products: node.products,
    requests,
    histories,
    async finish() {
      const done = close;
      close = undefined;
      await done?.();
    },
    device(events, options): LoopDevice {
      if (options.heldOut !== heldOut) throw new Error(`this shop's shoppers are ${heldOut ? '' : 'not '}held out`);
      const shopper = ++index;
      if (shopper >= shoppers) throw new Error(`more than ${shoppers} shoppers asked`);
      const previous = close;
      openAt(shopper);
      openAt(shopper + 1);
      const ready = (async () => {
        await previous?.();
        return opening[shopper]!;
      })();
      const twin = node.device(events, options);
      let sent = 0;
      let count = 0;
      let shownOnPage = false;
      let newPage = false;
      /** Tracks the loop's events not yet sent, in order, and waits until they are stored. */
      const sync = async (page: Page) => {
        const fresh = pick(events.slice(sent));
        sent = events.length;
        await page.evaluate(async (list) => {
          for (const { name, params } of list) window.hunch!.track(name, params);
          await window.hunch!.flush();
        }, fresh);
      };
      close = async () => {
        const { context, page, shopperId } = await ready;
        await sync(page);
        const stored = await page.evaluate(async () => ({ history: await window.hunch!.history(), id: localStorage.getItem('hunch.shopper') }));
        histories.push({ shopper, heldOut, loop: pick(events), browser: pick(stored.history), shopperId: stored.id === shopperId ? stored.id : `${stored.id} (expected ${shopperId})` });
        await context.close();
      };
      return {
        newPage() {
          twin.newPage();
          if (shownOnPage) newPage = true;
        },
        async recommend(request: PlacementRequest) {
          const { page } = await ready;
          const reloaded = newPage;
          if (newPage) {
            await page.goto(url);
            newPage = false;
          }
          await sync(page);
          const { k, exclude = [], placement } = request;
          const asked = { k, exclude: [...exclude], placement };
          const recs = await page.evaluate((options) => window.hunch!.recommend(options).then((list) => list.map((rec) => ({ id: rec.item.id, source: rec.source }))), asked);
          shownOnPage = true;
          const nodeIds = await twin.recommend(asked);
          const browserIds = recs.map((rec) => rec.id);
          requests.push({ shopper, request: count++, heldOut, placement, k, exclude: asked.exclude, events: events.length, behaviour: events.filter((event) => isBehaviourEvent(event.name)).length, node: nodeIds, browser: browserIds, sources: recs.map((rec) => rec.source), reloaded });
          return browserIds;
        },
      };
    },
  };
  return shop;
}
