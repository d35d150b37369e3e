// `npm start`: the demo shop with the shipped model, and a collector its pages upload to, both on
// this machine, inside experiments: a 10% global holdout, "For you" as model vs popular items,
// "Complete your cart" as the SDK element's built-in experiment; /report is their live report.
// Shoppers' events land in .hunch/events.sqlite (HUNCH_DB to change it); train on
// them with `npx hunch train --from .hunch/events.sqlite --out checkpoints/mine`, export into a
// model directory, and point the shop at it (README: "Your own model, from your own shoppers").
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStore, startCollector } from '../../packages/collector/dist/index.js';
import { liveReport } from './live-report.mjs';
import { startStorefront } from './server.mjs';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const host = process.env.HOST ?? '127.0.0.1';
const shopPort = Number(process.env.PORT ?? 8080);
const collectorPort = Number(process.env.COLLECTOR_PORT ?? 8787);
const db = resolve(process.env.HUNCH_DB ?? join(repo, '.hunch', 'events.sqlite'));
const holdout = 0.1;

mkdirSync(dirname(db), { recursive: true });
const store = openSqliteStore(db);
// Only the shop's own pages may upload (its origin, exactly).
const collector = await startCollector({ store, host, port: collectorPort, allowOrigins: [`http://${host}:${shopPort}`] });
const shop = await startStorefront({ host, port: shopPort, collector: collector.url, holdout, experiments: true, report: liveReport(store, { holdout }) });
console.log(`Hunch demo storefront: ${shop.url}`);
console.log(`experiment report: ${shop.url}report`);
console.log(`collector: ${collector.url} -> ${db}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await Promise.all([shop.close(), collector.close()]);
  store.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
