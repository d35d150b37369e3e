// The demo shop: a few hash routes over catalog.json, tracking behaviour with the
// Hunch script-tag SDK (window.hunch) and rendering its recommendations as cards.
const hunch = window.hunch;
const { products } = await (await fetch('/catalog.json')).json();
const byId = new Map(products.map((product) => [product.id, product]));
const categories = [...new Set(products.map((product) => product.category))];

const $ = (selector) => document.querySelector(selector);
const view = $('#view');

/** Builds an element; text goes in as textContent, never as HTML. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function card(product, extra = {}) {
  return el('a', { class: 'card', href: product.url, 'data-item-id': product.id, 'data-category': product.category, ...extra },
    el('img', { src: product.image, alt: '', width: '240', height: '180' }),
    el('span', { class: 'title' }, product.title),
    el('span', { class: 'meta' }, `${product.category} · €${product.price.toFixed(2)}`));
}

function grid(items) {
  return el('div', { class: 'cards' }, ...items.map((product) => card(product)));
}

function cartItems() {
  return JSON.parse(sessionStorage.getItem('demo.cart') ?? '[]');
}

function setCart(ids) {
  sessionStorage.setItem('demo.cart', JSON.stringify(ids));
  $('#cart-count').textContent = String(ids.length);
}

const routes = {
  home() {
    view.replaceChildren(el('h1', {}, 'All products'), grid(products));
    return { title: 'For you', exclude: [] };
  },
  category(name) {
    const items = products.filter((product) => product.category === name);
    view.replaceChildren(el('h1', {}, name), grid(items));
    hunch.track('view_item_list', { item_list_id: `category:${name}`, items: items.map((p) => ({ item_id: p.id, item_category: p.category })) });
    return { title: 'For you', exclude: [] };
  },
  product(id) {
    const product = byId.get(id);
    if (!product) return routes.home();
    const add = el('button', { type: 'button', id: 'add-to-cart' }, 'Add to cart');
    add.addEventListener('click', () => {
      hunch.track('add_to_cart', { item_id: product.id, item_category: product.category, value: product.price, currency: 'EUR' });
      setCart([...cartItems(), product.id]);
      void renderRecommendations({ title: 'Complete your cart', exclude: [product.id] });
    });
    view.replaceChildren(el('article', { class: 'product', 'data-item-id': product.id },
      el('img', { src: product.image, alt: product.title }),
      el('div', {}, el('h1', {}, product.title), el('p', { class: 'meta' }, product.category), el('p', {}, `€${product.price.toFixed(2)}`), add)));
    hunch.track('view_item', { item_id: product.id, item_category: product.category, value: product.price, currency: 'EUR' });
    return { title: `Because you viewed ${product.title}`, exclude: [product.id] };
  },
  search(query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const found = products.filter((p) => words.every((w) => `${p.title} ${p.category}`.toLowerCase().includes(w)));
    view.replaceChildren(el('h1', {}, `Results for “${query}”`), found.length ? grid(found) : el('p', {}, 'No products found.'));
    if (query) hunch.track('search', { search_term: query });
    return { title: 'For you', exclude: [] };
  },
  cart() {
    const items = cartItems().map((id) => byId.get(id)).filter(Boolean);
    const checkout = el('button', { type: 'button', id: 'checkout' }, 'Buy now');
    checkout.addEventListener('click', () => {
      hunch.track('purchase', { items: items.map((p) => ({ item_id: p.id, price: p.price, quantity: 1 })), value: items.reduce((s, p) => s + p.price, 0), currency: 'EUR' });
      setCart([]);
      route();
    });
    hunch.track('view_cart', { items: items.map((p) => ({ item_id: p.id })) });
    view.replaceChildren(el('h1', {}, 'Your cart'), items.length ? grid(items) : el('p', {}, 'Your cart is empty.'), items.length ? checkout : '');
    return { title: 'Complete your cart', exclude: [] };
  },
};

let renderSeq = 0;
/** Renders the model's picks; `data-route` tells tests (and curious devs) which page they are for. */
async function renderRecommendations({ title, exclude }) {
  const seq = ++renderSeq;
  const forRoute = location.hash || '#/';
  const recs = await hunch.recommend({ k: 6, exclude });
  if (seq !== renderSeq) return; // a newer page asked meanwhile
  $('#recs-title').textContent = title;
  $('#recs-cards').replaceChildren(...recs.map(({ item, score, source }) => card(item, { 'data-score': score.toFixed(4), 'data-source': source })));
  const section = $('#recs');
  section.dataset.source = recs[0]?.source ?? 'none';
  section.dataset.route = forRoute;
}

function route() {
  const [, name = '', arg = ''] = /^#\/(\w*)\/?(.*)$/.exec(location.hash) ?? [];
  let placement;
  if (name === 'product') placement = routes.product(decodeURIComponent(arg));
  else if (name === 'category') placement = routes.category(decodeURIComponent(arg));
  else if (name === 'search') placement = routes.search(new URLSearchParams(arg.replace(/^\?/, '')).get('q') ?? '');
  else if (name === 'cart') placement = routes.cart();
  else placement = routes.home();
  window.scrollTo(0, 0);
  void renderRecommendations(placement);
}

$('#categories').replaceChildren(...categories.map((name) => el('a', { href: `#/category/${name}` }, name)));
$('#search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  location.hash = `#/search?q=${encodeURIComponent($('#search-input').value.trim())}`;
});
addEventListener('hashchange', route);
setCart(cartItems());
// page_view: the script tag's auto-capture records it (and SPA route changes).
route();

hunch.status().then((status) => {
  const footer = $('#status');
  footer.dataset.backend = status.backend;
  footer.dataset.modelVersion = status.modelVersion ?? '';
  footer.textContent = status.backend === 'none'
    ? `Model unavailable (${status.reason}): showing popular products.`
    : `Model ${status.modelVersion} on ${status.backend.toUpperCase()} (${status.reason}).`;
});
