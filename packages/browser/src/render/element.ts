/**
 * Personalised product cards where the shop marks a place for them:
 *
 *   <hunch-recommendations placement="home" limit="6"></hunch-recommendations>
 *   <div data-hunch-recs="cart" data-limit="4"></div>
 *
 * Attributes (on the div with a `data-` prefix): placement (also the tracked list id), limit
 * (default 6), label (the list's accessible name), currency (ISO 4217, for prices), exclude
 * (space-separated ids, e.g. the product on screen), experiment and arms (a built-in experiment,
 * below). Cards render in a shadow root: themable
 * with CSS custom properties and ::part (see styles.ts), styled by a constructable stylesheet
 * (adoptCardStyles), which `style-src 'self'` allows. Never blank: placeholders at once,
 * the catalog's popular items as soon as they are known, the model's picks when it answers.
 * Clicks become `select_item` and viewable cards `view_item_list`, with the placement as list id.
 *
 * A built-in experiment: `experiment="recs-home" arms="model popular shop none"` (default arms
 * "model popular") assigns the shopper an arm through hunch.experiment() (so the page's tally
 * counts it) and renders it: `model` as without an experiment, `popular` the popular items only,
 * `shop` the element's own light-DOM children (the shop's list, through a <slot>), `none`
 * nothing, in the box the placeholders take (invisible), so that the page's layout and the moment
 * of exposure are the same in every arm. The arm is exposed (experience_impression, the
 * placement as item_list_id) once what it renders is viewable. A shopper not enrolled (no
 * consent, held out, outside the traffic) gets what the element shows without an experiment,
 * and no exposure. With the global holdout on, the first placement viewable on a page also
 * exposes the shopper's holdout variant (HOLDOUT_KEY).
 */
import type { CatalogItem } from '@hunch/core';
import { CATEGORY_ATTR, ITEM_ATTR, ITEM_SELECTOR, LIST_SELECTOR } from '../capture/attributes.js';
import { captureImpressions } from '../capture/impressions.js';
import type { Hunch } from '../api.js';
import { HOLDOUT_KEY } from '../experiments.js';
import { logOnce } from '../lib/log.js';
import { renderCards, type Card } from './cards.js';
import { adoptCardStyles } from './styles.js';

export const ELEMENT_NAME = 'hunch-recommendations';
const CONTAINER_SELECTOR = '[data-hunch-recs]';

export interface RenderOptions {
  /** The shop's own product data (live price, stock, images) for these ids; the model's catalog.json otherwise. */
  getProducts?: (ids: string[]) => Promise<CatalogItem[]>;
}

/** What a built-in experiment's arm renders. */
export const ARMS = ['model', 'popular', 'shop', 'none'] as const;
export type Arm = (typeof ARMS)[number];

interface Placement {
  placement: string;
  limit: number;
  label: string;
  currency?: string;
  exclude: string[];
  /** The built-in experiment's key, and its arms (variants) in order. */
  experiment?: string;
  arms: string[];
}

function readPlacement(host: HTMLElement, prefix: '' | 'data-'): Placement {
  const get = (name: string) => host.getAttribute(`${prefix}${name}`) ?? undefined;
  const placement = (prefix ? host.dataset.hunchRecs : get('placement')) || 'recommendations';
  const limit = Number.parseInt(get('limit') ?? '', 10);
  const currency = get('currency');
  const experiment = get('experiment');
  return {
    ...(experiment ? { experiment } : {}),
    arms: (get('arms') ?? 'model popular').split(/\s+/).filter(Boolean),
    placement,
    limit: Number.isFinite(limit) && limit > 0 ? Math.min(limit, 48) : 6,
    label: get('label') ?? 'Recommended for you',
    ...(currency && /^[A-Z]{3}$/.test(currency) ? { currency } : {}),
    exclude: (get('exclude') ?? '').split(/\s+/).filter(Boolean),
  };
}

/** The shopper's arm of the placement's experiment; null without one, not enrolled, or misconfigured (logged). */
function armOf(hunch: Hunch, { experiment, arms }: Placement): Arm | null {
  if (!experiment) return null;
  if (arms.length === 0 || !arms.every((arm) => (ARMS as readonly string[]).includes(arm))) {
    logOnce(`<${ELEMENT_NAME}> experiment ${experiment}`, new Error(`arms must be some of ${ARMS.join(', ')}, not "${arms.join(' ')}"`));
    return null;
  }
  return hunch.experiment(experiment, arms) as Arm | null;
}

/** Renders into `host`'s shadow root and keeps it tracked; returns the function that stops tracking. */
function mount(host: HTMLElement, hunch: Hunch, options: RenderOptions, config: Placement): () => void {
  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  adoptCardStyles(root);
  const arm = armOf(hunch, config);
  /** Once the arm's content is on screen: exposed when the element is viewable (capture/exposures.ts). */
  let exposing = false;
  const expose = () => {
    if (exposing) return;
    exposing = true;
    if (arm) hunch.expose(config.experiment!, host, config.placement);
    // Nothing unless the global holdout is on and the shopper has an id; once per page view for all placements.
    hunch.expose(HOLDOUT_KEY, host, config.placement);
  };
  const render = (cards: Card[] | undefined, blank?: boolean) => renderCards(root, { ...config, cards, blank });
  root.querySelector('slot')?.remove();
  if (arm === 'shop') {
    root.querySelector('[part~="list"]')?.remove();
    root.append(document.createElement('slot'));
  } else render(undefined, arm === 'none');
  if (arm === 'shop' || arm === 'none') expose();

  let shown: Card['source'] | undefined;
  const show = async (source: Card['source']) => {
    const recs = await hunch.recommend({ k: config.limit, exclude: config.exclude, placement: config.placement, popularOnly: source === 'popular' });
    let cards: Card[] = recs.map(({ item, reason, source }) => ({ item, reason, source }));
    if (options.getProducts && cards.length > 0) {
      try {
        const products = new Map((await options.getProducts(cards.map((card) => card.item.id))).map((product) => [product.id, product]));
        cards = cards.map((card) => ({ ...card, item: products.get(card.item.id) ?? card.item }));
      } catch (error) {
        logOnce('getProducts failed, showing the entries from catalog.json', error);
      }
    }
    // The model's answer wins over the popular list whatever order they arrive in.
    if (shown === 'model' || (cards.length === 0 && shown)) return;
    shown = source;
    render(cards);
    if (cards.length > 0) expose();
  };
  // The first recommend() of a page runs (and compiles) much of the SDK: in a task of its own, not
  // in the shop's code that added the element (together they made a 55-64 ms long task here).
  // Not enrolled: the model, as without an experiment (popular items when held out: predictor.ts).
  const sources: Card['source'][] = arm === 'shop' || arm === 'none' ? [] : arm === 'popular' ? ['popular'] : ['popular', 'model'];
  setTimeout(() => {
    for (const source of sources) void show(source).catch((error) => logOnce('rendering recommendations failed', error));
  }, 0);

  const impressions = captureImpressions(root, hunch.track);
  // Clicks inside a shadow root reach the page's listeners retargeted to the host: read them here.
  // The shop arm's own products (slotted, data-hunch-item) count as the placement's too, unless they
  // are in a data-hunch-list of the shop's: auto-capture tracks those as that list's.
  const onClick = (event: Event) => {
    const card = (event.target as Element | null)?.closest?.(ITEM_SELECTOR);
    const itemId = card?.getAttribute(ITEM_ATTR);
    if (!card || !itemId || (card.getRootNode() !== root && card.closest(LIST_SELECTOR))) return;
    const category = card.getAttribute(CATEGORY_ATTR);
    hunch.track('select_item', { item_id: itemId, item_list_id: config.placement, ...(category ? { item_category: category } : {}) });
  };
  root.addEventListener('click', onClick);
  return () => {
    impressions.stop();
    root.removeEventListener('click', onClick);
  };
}

/**
 * Defines <hunch-recommendations> for this instance and renders every `[data-hunch-recs]`
 * container, now and when added later. The script tag calls it; npm users call it once.
 */
export function defineRecommendationsElement(hunch: Hunch, options: RenderOptions = {}): void {
  if (typeof customElements === 'undefined' || customElements.get(ELEMENT_NAME)) return;
  class HunchRecommendations extends HTMLElement {
    private unmount: (() => void) | undefined;
    connectedCallback(): void {
      this.unmount?.();
      this.unmount = mount(this, hunch, options, readPlacement(this, ''));
    }
    disconnectedCallback(): void {
      this.unmount?.();
      this.unmount = undefined;
    }
  }
  customElements.define(ELEMENT_NAME, HunchRecommendations);

  const mounted = new WeakSet<Element>();
  const upgrade = (container: Element) => {
    if (mounted.has(container) || !(container instanceof HTMLElement)) return;
    mounted.add(container);
    mount(container, hunch, options, readPlacement(container, 'data-'));
  };
  const scan = () => document.querySelectorAll(CONTAINER_SELECTOR).forEach(upgrade);
  scan();
  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
}
