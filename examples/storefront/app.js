// The demo shop: hash routes over catalog.json (home, category, product, search, cart, checkout),
// built on the Hunch script-tag SDK (window.hunch). Behaviour is captured partly by markup the
// SDK reads itself (the search form, data-hunch-list product lists, data-hunch-action buttons)
// and partly by hunch.track(); recommendations come from hunch.recommend() and the
// <hunch-recommendations> element; the intent panel shows hunch.intent() and hunch.status().
// Every text from data goes in as textContent and every URL is built from ids: never innerHTML.
// A strategy, `cart-nudge`, decides on every page what the banner under the categories shows
// (<hunch-slot>): a reminder for a cart at risk, a free-shipping bar near the threshold, or nothing.
const hunch = window.hunch;
const catalog = await (await fetch('/catalog.json')).json();
const { products } = catalog;
const categoryInfo = catalog.categories;
const byId = new Map(products.map((product) => [product.id, product]));
const categoryIds = Object.keys(categoryInfo);
const CURRENCY = 'EUR';
const money = new Intl.NumberFormat('en-IE', { style: 'currency', currency: CURRENCY });
/** Shipping is free from this cart value on. */
const FREE_SHIPPING = 50;

// ---------------------------------------------------------------- strategies

/**
 * `cart-nudge`: the banner's decision point. Hunch draws among the eligible actions (uniformly
 * until a policy.json learned from the logged decisions ships beside the model) and logs each
 * decision with its probability; "none" (nothing) is always a candidate.
 */
hunch.strategies({
  'cart-nudge': {
    currency: CURRENCY,
    freeShippingThreshold: FREE_SHIPPING,
    cap: { perSession: 6, perDay: 12 },
    actions: [
      { id: 'remind', kind: 'message', copy: 'Still thinking about {title}? It is waiting in your cart.', href: '#/cart', when: { stages: ['at_risk_of_leaving'], minCartItems: 1 } },
      { id: 'free-shipping', kind: 'message', copy: 'Add {left_to_free_shipping} more for free shipping', href: '#/cart', when: { withinFreeShipping: 25 }, meter: 'free_shipping' },
    ],
  },
});

const $ = (selector, root = document) => root.querySelector(selector);
const view = $('#view');
const categoryName = (id) => categoryInfo[id]?.name ?? id;
const productHref = (id) => `#/product/${encodeURIComponent(id)}`;
const categoryHref = (id) => `#/category/${encodeURIComponent(id)}`;
const imageOf = (id) => byId.get(id)?.image ?? `/img/${encodeURIComponent(id)}.svg`;

/** Builds an element; text goes in as textContent, never as HTML. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null && child !== '') node.append(child);
  return node;
}

/** Markup the SDK reads: this element shows this product (select_item, impressions, actions). */
const itemMarkup = (product) => ({
  'data-hunch-item': product.id,
  'data-hunch-category': product.category,
  'data-hunch-price': product.price.toFixed(2),
  'data-hunch-currency': CURRENCY,
});

/** A product card: one link (image, title, category and price), optionally the model's reason. */
function card(product, extra = {}, reason) {
  return el('a', { class: 'card', href: productHref(product.id), 'data-item-id': product.id, 'data-category': product.category, ...itemMarkup(product), ...extra },
    el('img', { src: product.image, alt: '', width: 240, height: 180, loading: 'lazy' }),
    el('span', { class: 'title' }, product.title),
    el('span', { class: 'meta' }, `${categoryName(product.category)} · ${money.format(product.price)}`),
    reason ? el('span', { class: 'reason' }, reason) : undefined);
}

/** A product grid the SDK tracks as list `listId` (clicks: select_item; seen cards: view_item_list). */
const grid = (items, listId) => el('div', { class: 'cards', 'data-hunch-list': listId }, items.map((product) => card(product)));

// ---------------------------------------------------------------- cart (this tab's sessionStorage)

/** The cart: [{ id, quantity }]. */
function cartLines() {
  try {
    const lines = JSON.parse(sessionStorage.getItem('demo.cart') ?? '[]');
    return Array.isArray(lines) ? lines.filter((line) => byId.has(line?.id) && Number.isInteger(line.quantity) && line.quantity > 0) : [];
  } catch {
    return [];
  }
}

function setCart(lines) {
  sessionStorage.setItem('demo.cart', JSON.stringify(lines));
  $('#cart-count').textContent = String(lines.reduce((sum, line) => sum + line.quantity, 0));
}

const cartItems = (lines = cartLines()) => lines.map(({ id, quantity }) => ({ item_id: id, item_category: byId.get(id).category, price: byId.get(id).price, quantity }));
const cartValue = (lines = cartLines()) => Math.round(lines.reduce((sum, { id, quantity }) => sum + byId.get(id).price * quantity, 0) * 100) / 100;

// ---------------------------------------------------------------- recommendations

/**
 * `npm start` runs the shop inside experiments (the server adds data-demo-experiments to the
 * script tag, and data-holdout): "For you" is the model's picks or, for the control arm, the
 * popular items; "Complete your cart" is the SDK element's own built-in experiment.
 */
const EXPERIMENTS = document.querySelector('script[src="/hunch/hunch.js"]')?.hasAttribute('data-demo-experiments') ?? false;
const RECS_EXPERIMENT = 'recs-main';
/** This shopper's arm of the "For you" experiment, or null (not running, no consent, held out). */
const recsArm = () => (EXPERIMENTS ? hunch.experiment(RECS_EXPERIMENT, ['model', 'popular']) : null);

let renderSeq = 0;

/**
 * Fills the page's recommendation section with hunch.recommend(): the popular items at once,
 * the model's picks when it answers. `data-route` (set with the final answer) tells tests which
 * page they are for. One placement name for this section on every route: the SDK keeps each
 * placement's items for the document's life, and a route change here is not a new document.
 */
async function renderRecommendations(section, { exclude = [], k = 6 }) {
  const seq = ++renderSeq;
  const forRoute = location.hash || '#/';
  const cards = $('.cards', section);
  const show = (recs) => {
    const known = recs.filter(({ item }) => byId.has(item.id));
    cards.replaceChildren(...known.map(({ item, score, source, reason }) => card(byId.get(item.id), { 'data-score': score.toFixed(4), 'data-source': source }, reason)));
    section.dataset.source = known[0]?.source ?? 'none';
  };
  const arm = recsArm();
  section.dataset.arm = arm ?? 'none';
  // Exposures: logged when the section has been seen (the viewability rule), once per page view;
  // the global holdout's too ('hunch-holdout': held out or personalised; nothing when it is off).
  if (arm) hunch.expose(RECS_EXPERIMENT, section);
  hunch.expose('hunch-holdout', section);
  const popular = await hunch.recommend({ k, exclude, placement: 'main', popularOnly: true });
  if (seq !== renderSeq) return;
  if (!cards.querySelector('.card') || arm === 'popular') show(popular);
  if (arm !== 'popular') {
    const recs = await hunch.recommend({ k, exclude, placement: 'main' });
    if (seq !== renderSeq) return; // a newer page asked meanwhile
    show(recs);
  }
  section.dataset.route = forRoute;
}

/** The recommendations section of a page: a heading and a product list tracked as `listId`. */
function recsSection(title, listId) {
  return el('section', { class: 'recs', id: 'recs', 'aria-labelledby': 'recs-title' },
    el('h2', { id: 'recs-title' }, title),
    el('div', { class: 'cards', id: 'recs-cards', 'data-hunch-list': listId }, el('p', { class: 'placeholder' }, 'Loading recommendations…')));
}

/** Reorders a product grid for this shopper (hunch.rerank) once the model answers, if still on screen. */
async function personalise(gridElement, ids, note) {
  const order = await hunch.rerank(ids);
  if (!gridElement.isConnected) return;
  const cards = new Map([...gridElement.children].map((node) => [node.dataset.itemId, node]));
  gridElement.append(...order.map((id) => cards.get(id)).filter(Boolean));
  if (note) note.textContent = 'Sorted for you by Hunch (your order fused with the shop’s).';
}

// ---------------------------------------------------------------- pages

const breadcrumb = (...links) =>
  el('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, el('ol', {}, links.map(([text, href]) => el('li', {}, href ? el('a', { href }, text) : el('span', { 'aria-current': 'page' }, text)))));

const routes = {
  home() {
    const tiles = el('ul', { class: 'tiles' }, categoryIds.map((id) => {
      const first = products.find((product) => product.category === id);
      return el('li', {}, el('a', { class: 'tile', href: categoryHref(id) }, el('img', { src: first?.image ?? '', alt: '', width: 120, height: 90 }), el('span', {}, categoryName(id))));
    }));
    const recs = recsSection('For you', 'home');
    view.replaceChildren(
      el('section', { class: 'hero' },
        el('h1', {}, 'Hunch & Co.'),
        el('p', {}, `${products.length} things for the home, the desk and the kitchen. This shop personalises itself in your browser: a small GPT-2 on this device predicts what you want next from what you do here (which npm start also sends to this shop’s own collector, on this machine, to train its next model). Open “Shopper intent” (bottom right) to watch it think.`)),
      recs,
      el('section', { 'aria-labelledby': 'shop-by' }, el('h2', { id: 'shop-by' }, 'Shop by category'), tiles));
    return () => renderRecommendations(recs, {});
  },

  category(id) {
    if (!categoryInfo[id]) return routes.notFound();
    const items = products.filter((product) => product.category === id);
    const list = grid(items, `category:${id}`);
    const note = el('p', { class: 'note' }, `${items.length} products`);
    const recs = recsSection('For you', 'for-you');
    view.replaceChildren(breadcrumb(['Home', '#/'], [categoryName(id)]), el('h1', {}, categoryName(id)), note, list, recs);
    void personalise(list, items.map((product) => product.id), note);
    return () => renderRecommendations(recs, { exclude: [] });
  },

  product(id) {
    const product = byId.get(id);
    if (!product) return routes.notFound();
    const added = el('p', { class: 'added', role: 'status' });
    // The SDK records add_to_cart from the markup (data-hunch-action inside data-hunch-item).
    const add = el('button', { type: 'button', id: 'add-to-cart', 'data-hunch-action': 'add_to_cart' }, 'Add to cart');
    add.addEventListener('click', () => {
      const lines = cartLines();
      const line = lines.find((entry) => entry.id === product.id);
      if (line) line.quantity++;
      else lines.push({ id: product.id, quantity: 1 });
      setCart(lines);
      added.replaceChildren('Added to your cart. ', el('a', { href: '#/cart' }, 'View cart'));
      refreshIntentSoon();
    });
    const recs = recsSection(`Because you viewed ${product.title}`, 'product');
    view.replaceChildren(
      breadcrumb(['Home', '#/'], [categoryName(product.category), categoryHref(product.category)], [product.title]),
      el('article', { class: 'product', 'data-item-id': product.id, ...itemMarkup(product) },
        el('img', { src: product.image, alt: product.title, width: 240, height: 180 }),
        el('div', {},
          el('h1', {}, product.title),
          el('p', { class: 'meta' }, el('a', { href: categoryHref(product.category) }, categoryName(product.category))),
          el('p', { class: 'price' }, money.format(product.price)),
          el('p', { class: 'description' }, product.description ?? ''),
          add, added)),
      recs);
    hunch.track('view_item', { item_id: product.id, item_category: product.category, value: product.price, currency: CURRENCY });
    return () => renderRecommendations(recs, { exclude: [product.id] });
  },

  search(query) {
    const found = searchProducts(query);
    const list = grid(found, 'search');
    const note = el('p', { class: 'note' }, `${found.length} product${found.length === 1 ? '' : 's'}`);
    const recs = recsSection('For you', 'for-you');
    view.replaceChildren(el('h1', {}, query ? `Results for “${query}”` : 'Search'), note, found.length ? list : el('p', {}, 'No products found. Try “mug”, “green tea” or “lamp”.'), recs);
    $('#search-input').value = query;
    // A search from the form is recorded by the SDK itself (it reads search forms); one opened
    // by its URL (a link, a reload) is tracked here.
    if (query && query !== formSearch) hunch.track('search', { search_term: query });
    formSearch = undefined;
    if (found.length > 1) void personalise(list, found.map((product) => product.id), note);
    return () => renderRecommendations(recs, {});
  },

  cart() {
    const lines = cartLines();
    const rows = lines.map(({ id, quantity }) => {
      const product = byId.get(id);
      // The SDK records remove_from_cart from the markup.
      const remove = el('button', { type: 'button', class: 'secondary', 'data-hunch-action': 'remove_from_cart', 'aria-label': `Remove ${product.title} from the cart` }, 'Remove');
      remove.addEventListener('click', () => {
        setCart(cartLines().filter((line) => line.id !== id));
        route();
      });
      return el('li', { class: 'line', 'data-item-id': id, ...itemMarkup(product) },
        el('img', { src: product.image, alt: '', width: 80, height: 60 }),
        el('a', { href: productHref(id) }, product.title),
        el('span', {}, `${quantity} × ${money.format(product.price)}`),
        remove);
    });
    const checkout = el('a', { class: 'button', href: '#/checkout', id: 'checkout' }, 'Go to checkout');
    // "Complete your cart": the SDK's own element (cards in a shadow root, tracked as list "cart").
    const complete = el('hunch-recommendations', { placement: 'cart', limit: 4, label: 'Complete your cart', currency: CURRENCY, ...(EXPERIMENTS ? { experiment: 'recs-cart', arms: 'model popular' } : {}) });
    view.replaceChildren(
      el('h1', {}, 'Your cart'),
      lines.length
        ? el('div', {}, el('ul', { class: 'lines' }, rows), el('p', { class: 'total' }, `Total: ${money.format(cartValue(lines))}`), checkout)
        : el('p', {}, 'Your cart is empty. ', el('a', { href: '#/' }, 'Keep shopping')),
      el('section', { class: 'recs', id: 'recs', 'aria-labelledby': 'recs-title', 'data-route': location.hash, 'data-source': 'element' }, el('h2', { id: 'recs-title' }, 'Complete your cart'), complete));
    if (lines.length) hunch.track('view_cart', { items: cartItems(lines), value: cartValue(lines), currency: CURRENCY });
  },

  checkout() {
    const lines = cartLines();
    if (!lines.length) return routes.cart();
    const field = (label, name, type, autocomplete) => {
      const id = `checkout-${name}`;
      return el('p', { class: 'field' }, el('label', { for: id }, label), el('input', { id, name, type, autocomplete, required: true }));
    };
    const form = el('form', { class: 'checkout', id: 'checkout-form', 'aria-labelledby': 'checkout-title' },
      field('Full name', 'name', 'text', 'name'),
      field('E-mail', 'email', 'email', 'email'),
      field('Address', 'address', 'text', 'street-address'),
      el('p', { class: 'note' }, 'A demo: nothing is charged, and what you type here is neither stored nor sent.'),
      el('button', { type: 'submit', id: 'place-order' }, `Place order (${money.format(cartValue(lines))})`));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      // The order itself, never what was typed into the form.
      hunch.track('purchase', { items: cartItems(lines), value: cartValue(lines), currency: CURRENCY });
      const order = Number(sessionStorage.getItem('demo.orders') ?? '0') + 1;
      sessionStorage.setItem('demo.orders', String(order));
      setCart([]);
      location.hash = `#/thanks/${order}`;
    });
    view.replaceChildren(
      breadcrumb(['Cart', '#/cart'], ['Checkout']),
      el('h1', { id: 'checkout-title' }, 'Checkout'),
      el('ul', { class: 'summary' }, lines.map(({ id, quantity }) => el('li', {}, `${quantity} × ${byId.get(id).title}`, el('span', {}, money.format(byId.get(id).price * quantity))))),
      form);
    hunch.track('begin_checkout', { items: cartItems(lines), value: cartValue(lines), currency: CURRENCY });
  },

  thanks(order) {
    const recs = recsSection('You might also like', 'for-you');
    view.replaceChildren(el('h1', {}, 'Thank you!'), el('p', { role: 'status' }, `Order #${order} is placed (not really: this is a demo).`), el('a', { href: '#/' }, 'Back to the shop'), recs);
    return () => renderRecommendations(recs, {});
  },

  notFound() {
    view.replaceChildren(el('h1', {}, 'Not found'), el('p', {}, el('a', { href: '#/' }, 'Back to the shop')));
  },
};

// ---------------------------------------------------------------- search (client-side over the catalog)

const normalise = (text) => text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
const searchIndex = products.map((product) => ({
  product,
  title: normalise(product.title).split(' '),
  category: normalise(`${product.category} ${categoryName(product.category)}`).split(' '),
  description: normalise(product.description ?? ''),
}));
/** A word matches a word of the text when one starts with the other ("mugs" finds "mug"), 3+ letters. */
const matches = (word, words) => words.some((w) => w.startsWith(word) || (w.length >= 3 && word.startsWith(w)));

/** Products with every word of the query in their title, category or description; title matches first. */
function searchProducts(query) {
  const words = normalise(query).split(' ').filter(Boolean);
  if (!words.length) return [];
  return searchIndex
    .map((entry) => {
      let score = 0;
      for (const word of words) {
        const points = matches(word, entry.title) ? 3 : matches(word, entry.category) ? 2 : entry.description.includes(word) ? 1 : 0;
        if (!points) return undefined;
        score += points;
      }
      return { product: entry.product, score };
    })
    .filter(Boolean)
    .sort((a, b) => b.score - a.score)
    .map(({ product }) => product);
}

// ---------------------------------------------------------------- routing

/** The query of the search just submitted by the form (the SDK recorded it), so the route does not record it again. */
let formSearch;

function route() {
  const [, name = '', arg = ''] = /^#\/(\w*)\/?(.*)$/.exec(location.hash) ?? [];
  const decoded = (() => {
    try {
      return decodeURIComponent(arg);
    } catch {
      return '';
    }
  })();
  let after;
  if (name === '' || name === 'home') after = routes.home();
  else if (name === 'product') after = routes.product(decoded);
  else if (name === 'category') after = routes.category(decoded);
  else if (name === 'search') after = routes.search((new URLSearchParams(arg.replace(/^\?/, '')).get('q') ?? '').trim());
  else if (name === 'cart') after = routes.cart();
  else if (name === 'checkout') after = routes.checkout();
  else if (name === 'thanks') after = routes.thanks(decoded.replace(/\D/g, '') || '1');
  else after = routes.notFound();
  for (const link of document.querySelectorAll('#categories a')) {
    if (link.getAttribute('href') === location.hash) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  window.scrollTo(0, 0);
  if (typeof after === 'function') void after();
  showNudge();
  refreshIntentSoon();
}

/** A fresh decision of `cart-nudge` for the banner (one per page, and when the shopper turns at risk). */
function showNudge() {
  $('#nudge').replaceChildren(el('hunch-slot', { name: 'cart-nudge', 'show-reason': true }));
}

// ---------------------------------------------------------------- the model's status and the intent panel

const ACTIONS = {
  view_item: 'view a product',
  select_item: 'click a product in a list',
  view_item_list: 'look at a product list',
  search: 'search',
  add_to_cart: 'add to the cart',
  remove_from_cart: 'remove from the cart',
  view_cart: 'open the cart',
  begin_checkout: 'begin checkout',
  purchase: 'buy',
  page_view: 'open a page',
};
const STAGES = {
  browsing: 'Browsing',
  researching: 'Researching',
  comparing: 'Comparing',
  ready_to_buy: 'Ready to buy',
  at_risk_of_leaving: 'At risk of leaving',
};
const percent = (p) => `${(p * 100).toFixed(p < 0.1 ? 1 : 0)} %`;

const panel = $('#intent-panel');

/** The latest decision, for the panel: which strategy fired, with what probability and why. */
function showDecision(decision) {
  const text = !decision
    ? 'cart-nudge: no decision (see the console)'
    : `${decision.strategy}: ${decision.action.id === 'none' ? 'nothing shown' : `“${decision.action.id}”`} (${percent(decision.propensity)} under ${decision.policy === 'uniform' ? 'uniform exploration' : `policy ${decision.policy}`}; ${Object.keys(decision.probabilities).length} eligible) — ${decision.reason}`;
  field('strategy').textContent = text;
  panel.dataset.decision = decision?.action.id ?? 'null';
}
document.addEventListener('hunch-decision', (event) => showDecision(event.detail));
const toggle = $('#intent-toggle');
const field = (name) => $(`[data-field="${name}"]`, panel);

/** A list of labelled probabilities, each with a meter. */
function bars(entries) {
  return entries.map(([label, p]) =>
    el('li', {}, el('span', { class: 'label' }, label), el('meter', { min: 0, max: 1, value: p.toFixed(4), 'aria-label': label }), el('span', { class: 'value' }, percent(p))));
}

function showIntent(intent) {
  panel.dataset.stage = intent.stage;
  field('stage').textContent = STAGES[intent.stage] ?? intent.stage;
  field('why').textContent = intent.why;
  field('source').textContent = intent.source === 'model' ? 'from the model' : 'from the session’s events (no model)';
  field('purchase').textContent = intent.purchaseProbability === null ? 'n/a' : percent(intent.purchaseProbability);
  const meter = field('purchase-meter');
  meter.value = intent.purchaseProbability ?? 0;
  field('categories').replaceChildren(...bars(intent.topCategories.slice(0, 4).map(({ category, score }) => [categoryName(category), score])));
  const actions = Object.entries(intent.nextAction).sort((a, b) => b[1] - a[1]).slice(0, 6);
  field('actions').replaceChildren(...(actions.length ? bars(actions.map(([name, p]) => [ACTIONS[name] ?? name, p])) : [el('li', {}, 'no model: nothing predicted')]));
}

async function showStatus() {
  const status = await hunch.status();
  panel.dataset.backend = status.backend;
  field('backend').textContent = status.backend === 'none' ? 'none (popular items)' : `${status.backend.toUpperCase()}, ${status.dtype} (${status.modelFile})`;
  field('version').textContent = status.modelVersion ?? 'n/a';
  field('reason').textContent = status.reason;
  const arms = Object.entries(hunch.experiments()).map(([key, { variants, notEnrolled }]) => `${key}: ${Object.keys(variants)[0] ?? `not enrolled (${Object.keys(notEnrolled)[0]})`}`);
  field('experiments').textContent = arms.length ? arms.join(', ') : EXPERIMENTS ? 'none on this page yet' : 'off (npm start runs the demo inside experiments)';
  const last = status.lastInference;
  field('inference').textContent = last ? `${last.mode}: ${last.tokens} token${last.tokens === 1 ? '' : 's'} on a context of ${last.contextTokens}, ${last.ms.toFixed(1)} ms` : 'none yet';
  const footer = $('#status');
  footer.dataset.backend = status.backend;
  footer.dataset.modelVersion = status.modelVersion ?? '';
  footer.textContent = status.backend === 'none'
    ? `Model unavailable (${status.reason}): showing popular products.`
    : `Model ${status.modelVersion} on ${status.backend.toUpperCase()} (${status.reason}).`;
}

let intentTimer;
/** Refreshes the open panel once events have settled (the SDK waits 250 ms too). */
function refreshIntentSoon() {
  clearTimeout(intentTimer);
  if (panel.hidden) return;
  intentTimer = setTimeout(async () => {
    showIntent(await hunch.intent());
    await showStatus();
  }, 400);
}

let panelTicker;
function setPanel(open) {
  panel.hidden = !open;
  toggle.setAttribute('aria-expanded', String(open));
  sessionStorage.setItem('demo.intentPanel', open ? 'open' : 'closed');
  // While open, live: after every route change and click, and every few seconds (list
  // impressions arrive by themselves; with nothing new the SDK reuses its last answer).
  clearInterval(panelTicker);
  if (open) {
    refreshIntentSoon();
    panelTicker = setInterval(refreshIntentSoon, 3_000);
  }
}
document.addEventListener('click', () => refreshIntentSoon());

toggle.addEventListener('click', () => setPanel(panel.hidden));
$('#intent-close').addEventListener('click', () => {
  setPanel(false);
  toggle.focus();
});
$('#forget').addEventListener('click', async () => {
  await hunch.forget();
  sessionStorage.removeItem('demo.cart');
  location.hash = '#/';
  location.reload();
});
addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !panel.hidden) {
    setPanel(false);
    toggle.focus();
  }
});
// The stage as it changes (the SDK calls back with the current one, then on every change).
let lastStage;
hunch.on('intent', (intent) => {
  showIntent(intent);
  // Stalled with a cart: decide again, now that a reminder is eligible (unless the banner's decision already saw it).
  const banner = $('#nudge hunch-slot');
  if (intent.stage === 'at_risk_of_leaving' && lastStage && lastStage !== intent.stage && banner?.decision !== undefined && banner.decision?.context?.stage !== intent.stage) showNudge();
  lastStage = intent.stage;
  toggle.dataset.stage = intent.stage;
  $('.stage', toggle).textContent = STAGES[intent.stage] ?? intent.stage;
});
setPanel(sessionStorage.getItem('demo.intentPanel') === 'open');
void showStatus();

// ---------------------------------------------------------------- start

$('#categories').replaceChildren(...categoryIds.map((id) => el('a', { href: categoryHref(id) }, categoryName(id))));
$('#search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const query = $('#search-input').value.trim();
  if (!query) return;
  formSearch = query;
  const target = `#/search?q=${encodeURIComponent(query)}`;
  if (location.hash === target) route();
  else location.hash = target;
});
addEventListener('hashchange', () => {
  route();
  view.focus({ preventScroll: true });
});
setCart(cartLines());
// page_view: the script tag's auto-capture records it at load (hash routes are not new pages).
route();
