// The raw DIGINETICA sample (../shared/datasets/diginetica-raw: views, purchases, item ->
// category) as shopping sessions and as Hunch events, for `npm run bench:intent`.
// test/bench-intent.test.ts checks it on a small inline fixture.
//
// Time: a view's `timeframe` is ms since its session's start and `eventdate` the session's day;
// a purchase's `timeframe` is on the same session clock (its `eventdate` is the day of the order,
// which may be days later), so every event of a session is placed at
// (the session's first view day, 00:00 UTC) + timeframe.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const rowsOf = (text) =>
  text
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(';'));

/**
 * Sessions from the three files' text: `{ id, start, views: [{ itemId, category, ts }], orders:
 * [{ order, ts, items: [{ itemId, category }] }], bought }`, views and orders in time order,
 * sessions by start time (ties by id). Only purchases of sessions that have views are kept.
 */
export function parseDigineticaRaw({ views, purchases, categories }) {
  const categoryOf = new Map(rowsOf(categories).map(([itemId, categoryId]) => [itemId, categoryId]));
  const byId = new Map();
  for (const [sessionId, , itemId, timeframe, eventdate] of rowsOf(views)) {
    let session = byId.get(sessionId);
    if (!session) byId.set(sessionId, (session = { id: sessionId, day: eventdate, raw: [], orders: new Map() }));
    if (eventdate < session.day) session.day = eventdate;
    session.raw.push({ itemId, timeframe: Number(timeframe) });
  }
  for (const [sessionId, , timeframe, , order, itemId] of rowsOf(purchases)) {
    const session = byId.get(sessionId);
    if (!session) continue;
    const entry = session.orders.get(order) ?? { order, timeframe: Number(timeframe), items: [] };
    entry.timeframe = Math.min(entry.timeframe, Number(timeframe));
    entry.items.push(itemId);
    session.orders.set(order, entry);
  }
  const item = (itemId) => ({ itemId, ...(categoryOf.has(itemId) ? { category: categoryOf.get(itemId) } : {}) });
  const sessions = [...byId.values()].map(({ id, day, raw, orders }) => {
    const base = Date.parse(`${day}T00:00:00Z`);
    // Stable sort: views at the same ms keep file order.
    const viewList = raw.map((v, i) => ({ ...v, i })).sort((a, b) => a.timeframe - b.timeframe || a.i - b.i);
    const orderList = [...orders.values()].sort((a, b) => a.timeframe - b.timeframe || (a.order < b.order ? -1 : 1));
    return {
      id,
      start: base + viewList[0].timeframe,
      views: viewList.map((v) => ({ ...item(v.itemId), ts: base + v.timeframe })),
      orders: orderList.map((o) => ({ order: o.order, ts: base + o.timeframe, items: o.items.map(item) })),
      bought: orderList.length > 0,
    };
  });
  return sessions.sort((a, b) => a.start - b.start || Number(a.id) - Number(b.id));
}

export function readDigineticaRaw(dir) {
  const read = (file) => readFileSync(join(dir, file), 'utf8');
  return parseDigineticaRaw({ views: read('sample_train-item-views.csv'), purchases: read('train-purchases.csv'), categories: read('product-categories.csv') });
}

/** The views a prediction may see: those before the session's first purchase (all of them where it has none). */
export function viewsBeforePurchase(session) {
  const first = session.orders[0]?.ts ?? Infinity;
  return session.views.filter((view) => view.ts < first);
}

/**
 * Where a session is cut for a prediction, never past its first purchase (so the label does not
 * leak): `first`, the first view; `first3`, the first 3 views (fewer where fewer come before the
 * purchase); `beforePurchase`, every view before the purchase (every view where none).
 */
export const CUTS = {
  first: (session) => viewsBeforePurchase(session).slice(0, 1),
  first3: (session) => viewsBeforePurchase(session).slice(0, 3),
  beforePurchase: (session) => viewsBeforePurchase(session),
};

const viewEvent = (session, view, index) => ({
  id: `dgr-${session.id}-v${index}`,
  name: 'view_item',
  ts: view.ts,
  sessionId: `dgr-${session.id}`,
  params: { item_id: view.itemId, ...(view.category ? { item_category: view.category } : {}) },
});

/** Hunch events of the given views of a session, oldest first. */
export function viewEvents(session, views) {
  return views.map((view, i) => viewEvent(session, view, i));
}

/** The whole session as Hunch events (views and purchases, each order one `purchase` with its items), in time order. */
export function sessionEvents(session) {
  const events = [
    ...session.views.map((view, i) => viewEvent(session, view, i)),
    ...session.orders.map((o) => ({
      id: `dgr-${session.id}-o${o.order}`,
      name: 'purchase',
      ts: o.ts,
      sessionId: `dgr-${session.id}`,
      params: { items: o.items.map(({ itemId, category }) => ({ item_id: itemId, ...(category ? { item_category: category } : {}) })) },
    })),
  ];
  // Stable: a view and a purchase at the same ms keep views first.
  return events.sort((a, b) => a.ts - b.ts);
}

/** The baseline's features at a cut: log(1 + views so far), log(1 + seconds from the first to the last of them), the share of them that are distinct products. */
export const FEATURE_NAMES = ['log(1 + views)', 'log(1 + seconds)', 'distinct share'];
export function sessionFeatures(views) {
  const seconds = views.length > 1 ? (views.at(-1).ts - views[0].ts) / 1000 : 0;
  return [Math.log1p(views.length), Math.log1p(Math.max(0, seconds)), new Set(views.map((v) => v.itemId)).size / views.length];
}

/** Sessions split by start time: the earliest `trainShare` train, the rest test. */
export function splitByTime(sessions, trainShare) {
  const cut = Math.round(sessions.length * trainShare);
  return { train: sessions.slice(0, cut), test: sessions.slice(cut) };
}

/**
 * The session with every product replaced by its category (`item_id` "c" + category id; a product
 * with no known category keeps its id): the same events for a model whose "items" are the 1,217
 * categories, which a small sample covers far better than its 184,047 products.
 */
export function asCategories(session) {
  const swap = (item) => (item.category ? { ...item, itemId: `c${item.category}` } : item);
  return { ...session, views: session.views.map(swap), orders: session.orders.map((o) => ({ ...o, items: o.items.map(swap) })) };
}
