/**
 * A single-page shop on Hunch's npm import. Routes are real paths (/, /category/:id,
 * /product/:id, /cart) changed with the History API: links are intercepted and pushState'd, so
 * the document never reloads. With `autoCapture: true` the SDK records a page_view for each route
 * change by itself (it wraps pushState and listens to popstate), and select_item / view_item_list
 * for product cards marked with data-hunch-*; product views and cart actions are tracked here
 * explicitly. Recommendations come from hunch.recommend() and are asked again on every route.
 */
import { createHunch, type Hunch, type Recommendation } from '@hunch/browser';
import { el, hueOf } from './dom.js';
import {
  cartItems,
  cartLines,
  categories,
  categoryName,
  categoryPath,
  CURRENCY,
  money,
  onCartChange,
  productById,
  productPath,
  products,
  setCart,
  type Product,
} from './shop.js';
import './styles.css';

declare global {
  interface Window {
    /** The SDK instance, for the console (and the end-to-end test). */
    hunch?: Hunch;
  }
}

// The model directory is served by the shop like any static file (vite.config.mjs: the public
// folder); the SDK finds its workers and onnxruntime's files wherever Vite emitted them.
const hunch = createHunch({ model: '/demo/', autoCapture: true });
window.hunch = hunch;

const SHOP = 'Hunch SPA shop';
/**
 * One placement for the recommendation slot on every route. The SDK keeps what each placement
 * shows for the document's life (so two placements on one page never repeat an item), and in an
 * SPA a route change is not a new document: a placement per route would keep excluding what the
 * previous routes showed.
 */
const PLACEMENT = 'for-you';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const view = $<HTMLElement>('view');
const announcer = $<HTMLElement>('announcer');

// ---------------------------------------------------------------- product cards and recommendations

/** A card: one link to the product, marked up so auto-capture records clicks (select_item) and impressions. */
function card(product: Pick<Product, 'id' | 'title' | 'price' | 'category'>, extra: Record<string, string> = {}, reason?: string): HTMLLIElement {
  const thumb = el('span', { class: 'thumb', 'aria-hidden': 'true' }, categoryName(product.category).charAt(0));
  thumb.style.setProperty('--hue', String(hueOf(product.category)));
  return el(
    'li',
    {},
    el(
      'a',
      {
        class: 'card',
        href: productPath(product.id),
        'data-hunch-item': product.id,
        'data-hunch-category': product.category,
        'data-hunch-price': product.price.toFixed(2),
        'data-hunch-currency': CURRENCY,
        'data-category': product.category,
        ...extra,
      },
      thumb,
      el('span', { class: 'title' }, product.title),
      el('span', { class: 'meta' }, `${categoryName(product.category)} · ${money.format(product.price)}`),
      reason ? el('span', { class: 'reason' }, reason) : undefined,
    ),
  );
}

/** A product list that auto-capture tracks as `listId`. */
const cards = (items: HTMLLIElement[], listId: string, label: string) =>
  el('ul', { class: 'cards', 'data-hunch-list': listId, 'aria-label': label }, items);

/** The "Recommended for you" section; filled by fillRecommendations() once the page is on screen. */
function recommendationsSection(title: string): HTMLElement {
  return el(
    'section',
    { class: 'recs', 'aria-labelledby': 'recs-title', 'aria-busy': 'true', 'data-placement': PLACEMENT },
    el('h2', { id: 'recs-title' }, title),
    el('ul', { class: 'cards', 'data-hunch-list': PLACEMENT, 'aria-labelledby': 'recs-title' }, el('li', { class: 'placeholder' }, 'Loading recommendations…')),
  );
}

/**
 * The popular items at once (no model needed), then the model's picks when it answers. `seq`
 * drops answers for a page the shopper has already left. When done, the section says where its
 * items came from (`data-source`: model or popular) and for which path (`data-path`).
 */
async function fillRecommendations(section: HTMLElement, seq: number, options: { k: number; exclude?: string[] }): Promise<void> {
  const list = section.querySelector('ul')!;
  const show = (recs: Recommendation[]) => {
    const known = recs.filter((rec) => productById.has(rec.item.id));
    list.replaceChildren(...known.map((rec) => card(productById.get(rec.item.id)!, { 'data-source': rec.source }, rec.reason)));
    if (known.length === 0) list.replaceChildren(el('li', { class: 'placeholder' }, 'Nothing to recommend yet.'));
    return known;
  };
  const popular = await hunch.recommend({ ...options, placement: PLACEMENT, popularOnly: true });
  if (seq !== renderSeq) return;
  show(popular);
  const answer = await hunch.recommend({ ...options, placement: PLACEMENT });
  if (seq !== renderSeq) return;
  const recs = show(answer);
  section.dataset.source = recs[0]?.source ?? 'none';
  section.dataset.path = location.pathname;
  section.setAttribute('aria-busy', 'false');
}

// ---------------------------------------------------------------- pages

interface Page {
  title: string;
  content: Node[];
  /** Runs once the page is on screen (recommendations, events); `refresh`: the same page drawn again. */
  after?: (seq: number, refresh: boolean) => void;
}

const breadcrumb = (...links: Array<[string, string?]>) =>
  el(
    'nav',
    { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
    el('ol', {}, links.map(([text, href]) => el('li', {}, href ? el('a', { href }, text) : el('span', { 'aria-current': 'page' }, text)))),
  );

function homePage(): Page {
  const recs = recommendationsSection('Recommended for you');
  const tiles = categories.map((id) => {
    const tile = el('a', { class: 'tile', href: categoryPath(id) }, el('span', { class: 'thumb', 'aria-hidden': 'true' }, categoryName(id).charAt(0)), el('span', {}, categoryName(id)));
    tile.querySelector<HTMLElement>('.thumb')!.style.setProperty('--hue', String(hueOf(id)));
    return el('li', {}, tile);
  });
  return {
    title: 'Home',
    content: [
      el('section', { class: 'hero' }, el('h1', {}, SHOP), el('p', {}, `${products.length} products in ${categories.length} categories. A single-page app: every link is a client-side route, and a small GPT-2 in your browser picks what to show you next.`)),
      recs,
      el('section', { 'aria-labelledby': 'shop-by' }, el('h2', { id: 'shop-by' }, 'Shop by category'), el('ul', { class: 'tiles' }, tiles)),
    ],
    after: (seq) => void fillRecommendations(recs, seq, { k: 6 }),
  };
}

function categoryPage(id: string): Page {
  const items = products.filter((product) => product.category === id);
  if (items.length === 0) return notFoundPage();
  const name = categoryName(id);
  return {
    title: name,
    content: [
      breadcrumb(['Home', '/'], [name]),
      el('h1', {}, name),
      el('p', { class: 'muted' }, `${items.length} products`),
      cards(items.map((product) => card(product)), `category-${id}`, `${name} products`),
    ],
  };
}

function productPage(id: string): Page {
  const product = productById.get(id);
  if (!product) return notFoundPage();
  const recs = recommendationsSection('Recommended for you');
  const added = el('p', { class: 'added', role: 'status' });
  const quantity = el('input', { id: 'quantity', type: 'number', min: 1, max: 9, value: 1, inputmode: 'numeric' });
  const add = el('button', { type: 'button', class: 'primary', id: 'add-to-cart' }, 'Add to cart');
  add.addEventListener('click', () => {
    const count = Math.min(9, Math.max(1, Math.trunc(Number(quantity.value)) || 1));
    const lines = cartLines();
    const line = lines.find((entry) => entry.id === product.id);
    if (line) line.quantity += count;
    else lines.push({ id: product.id, quantity: count });
    setCart(lines);
    hunch.track('add_to_cart', {
      item_id: product.id,
      item_category: product.category,
      items: [{ item_id: product.id, item_category: product.category, price: product.price, quantity: count }],
      value: Math.round(product.price * count * 100) / 100,
      currency: CURRENCY,
    });
    added.textContent = `Added ${count} × ${product.title} to your cart.`;
  });
  const thumb = el('span', { class: 'thumb large', 'aria-hidden': 'true' }, categoryName(product.category).charAt(0));
  thumb.style.setProperty('--hue', String(hueOf(product.category)));
  return {
    title: product.title,
    content: [
      breadcrumb(['Home', '/'], [categoryName(product.category), categoryPath(product.category)], [product.title]),
      el(
        'article',
        { class: 'product', 'data-item-id': product.id },
        thumb,
        el(
          'div',
          {},
          el('h1', {}, product.title),
          el('p', { class: 'price' }, money.format(product.price)),
          product.description ? el('p', {}, product.description) : undefined,
          el('div', { class: 'buy' }, el('label', { for: 'quantity' }, 'Quantity'), quantity, add),
          added,
        ),
      ),
      recs,
    ],
    after: (seq) => {
      // An explicit product view (this shop has no schema.org JSON-LD for auto-capture to read).
      hunch.track('view_item', { item_id: product.id, item_category: product.category, value: product.price, currency: CURRENCY });
      void fillRecommendations(recs, seq, { k: 4, exclude: [product.id] });
    },
  };
}

function cartPage(): Page {
  const lines = cartLines();
  const { items, value } = cartItems(lines);
  if (lines.length === 0) {
    return { title: 'Cart', content: [el('h1', {}, 'Your cart'), el('p', {}, 'Your cart is empty. ', el('a', { href: '/' }, 'Keep shopping'))] };
  }
  const rows = lines.map(({ id, quantity }) => {
    const product = productById.get(id)!;
    const remove = el('button', { type: 'button', class: 'secondary', 'aria-label': `Remove ${product.title}` }, 'Remove');
    remove.addEventListener('click', () => {
      setCart(cartLines().filter((line) => line.id !== id));
      hunch.track('remove_from_cart', {
        item_id: id,
        item_category: product.category,
        items: [{ item_id: id, item_category: product.category, price: product.price, quantity }],
        value: Math.round(product.price * quantity * 100) / 100,
        currency: CURRENCY,
      });
      render(true);
      announcer.textContent = `Removed ${product.title} from your cart.`;
    });
    return el(
      'tr',
      { 'data-item-id': id },
      el('th', { scope: 'row' }, el('a', { href: productPath(id) }, product.title)),
      el('td', {}, String(quantity)),
      el('td', {}, money.format(product.price * quantity)),
      el('td', {}, remove),
    );
  });
  const order = el('button', { type: 'button', class: 'primary' }, 'Place order');
  order.addEventListener('click', () => {
    hunch.track('begin_checkout', { items, value, currency: CURRENCY });
    hunch.track('purchase', { items, value, currency: CURRENCY });
    setCart([]);
    view.replaceChildren(el('h1', { tabindex: -1 }, 'Thank you!'), el('p', {}, `Your order of ${money.format(value)} is on its way (not really: this is a demo). `, el('a', { href: '/' }, 'Back to the shop')));
    view.querySelector('h1')!.focus();
  });
  const recs = recommendationsSection('Complete your order');
  return {
    title: 'Cart',
    content: [
      el('h1', {}, 'Your cart'),
      el(
        'table',
        { class: 'cart' },
        el('caption', { class: 'visually-hidden' }, 'Products in your cart'),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Product'), el('th', { scope: 'col' }, 'Quantity'), el('th', { scope: 'col' }, 'Price'), el('td', {}))),
        el('tbody', {}, rows),
        el('tfoot', {}, el('tr', {}, el('th', { scope: 'row' }, 'Total'), el('td', {}), el('td', {}, money.format(value)), el('td', {}))),
      ),
      order,
      recs,
    ],
    after: (seq, refresh) => {
      if (!refresh) hunch.track('view_cart', { items, value, currency: CURRENCY });
      void fillRecommendations(recs, seq, { k: 4 });
    },
  };
}

function notFoundPage(): Page {
  return { title: 'Not found', content: [el('h1', {}, 'Not found'), el('p', {}, 'There is nothing here. ', el('a', { href: '/' }, 'Back to the shop'))] };
}

// ---------------------------------------------------------------- routing (History API)

/** The page for a path; ids in paths are URL-encoded. */
function pageFor(pathname: string): Page {
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return '';
    }
  };
  const [, kind = '', id = '', ...rest] = pathname.split('/');
  if (pathname === '/' || pathname === '/index.html') return homePage();
  if (rest.length === 0 && kind === 'category' && id) return categoryPage(decode(id));
  if (rest.length === 0 && kind === 'product' && id) return productPage(decode(id));
  if (kind === 'cart' && !id) return cartPage();
  return notFoundPage();
}

let renderSeq = 0;
let renderedPath: string | undefined;

/** Renders the current location's page; `refresh`: it is already on screen (e.g. the cart changed). */
function render(refresh = false): void {
  const seq = ++renderSeq;
  const first = renderedPath === undefined;
  renderedPath = location.pathname;
  const page = pageFor(location.pathname);
  view.replaceChildren(...page.content);
  document.title = `${page.title} · ${SHOP}`;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('header a, .categories a')) {
    if (link.pathname === location.pathname) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.body.dataset.path = location.pathname;
  if (!first) {
    // A route change is silent for screen readers unless told: move focus to the new page's heading.
    const heading = view.querySelector('h1');
    heading?.setAttribute('tabindex', '-1');
    (heading ?? view).focus();
    announcer.textContent = page.title;
    if (!refresh) window.scrollTo(0, 0);
  }
  page.after?.(seq, refresh);
}

/** Goes to `path` without reloading: pushState (which auto-capture sees as a page view), then render. */
function navigate(path: string): void {
  if (path === location.pathname + location.search) return;
  history.pushState(null, '', path);
  render();
}

document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = (event.target as Element | null)?.closest?.('a[href]');
  if (!(link instanceof HTMLAnchorElement) || (link.target && link.target !== '_self') || link.hasAttribute('download')) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin) return;
  if (url.hash && url.pathname === location.pathname) return; // in-page anchors (the skip link)
  event.preventDefault();
  navigate(url.pathname + url.search);
});

// Back and forward. A fragment change fires popstate too, but is the same page.
window.addEventListener('popstate', () => {
  if (location.pathname !== renderedPath) render();
});

// ---------------------------------------------------------------- chrome

function showCartCount(lines = cartLines()): void {
  $('cart-count').textContent = String(lines.reduce((sum, line) => sum + line.quantity, 0));
}
onCartChange(showCartCount);
showCartCount();

$('categories').replaceChildren(...categories.map((id) => el('li', {}, el('a', { href: categoryPath(id) }, categoryName(id)))));

render();

// Which backend the model runs on (this also starts the model worker, if the first page did not).
void hunch.status().then((status) => {
  const text =
    status.backend === 'none'
      ? `not running (${status.reason}): popular items instead`
      : `${status.backend}${status.dtype ? ` (${status.dtype})` : ''}, version ${status.modelVersion ?? '?'}`;
  const target = $('model-status');
  target.textContent = text;
  target.dataset.backend = status.backend;
});
