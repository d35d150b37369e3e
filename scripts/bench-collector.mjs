// `npm run bench:collector`: the collector's throughput on loopback, and that it keeps every
// event it acknowledges exactly once.
// - `hunch collect` (the built CLI, its own process, as a shop runs it) on a temp SQLite file;
// - N concurrent clients (keep-alive connections, each its own client address through
//   X-Forwarded-For, so the rate limiter is on the path) post SDK-shaped batches of 25
//   simulated shopper events (UUID ids, GA4 names) for D seconds: one batch in ten is a
//   retry of a batch already acknowledged (a lost answer), one in twenty a sendBeacon
//   (text/plain);
// - then SIGTERM, and every acknowledged id is looked up in the database.
// Options: --clients 16 --seconds 15 --sync full|normal. Prints one JSON object as its last line
// and writes BENCHMARKS.md's `collector` section.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { simulateEvents } from '../packages/trainer/dist/index.js';
import { replaceSection } from './lib/benchmarks-md.mjs';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '16' }, seconds: { type: 'string', default: '15' }, sync: { type: 'string', default: 'full' } } });
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const SYNC = values.sync;
const BATCH = 25;
const TARGET = 2000;

const root = fileURLToPath(new URL('..', import.meta.url));
const catalog = JSON.parse(readFileSync(join(root, 'examples/storefront/catalog.json'), 'utf8')).products;
const dir = mkdtempSync(join(tmpdir(), 'hunch-bench-collector-'));
const db = join(dir, 'events.sqlite');

/** Starts `hunch collect` and resolves with its URL (printed alone on stdout). */
function startCollector() {
  // A rate far above the load: the limiter runs on every request without refusing any.
  const child = spawn(process.execPath, [join(root, 'packages/trainer/bin/hunch.js'), 'collect', '--db', db, '--port', '0', '--rate', '1000000', '--trust-proxy', '--sync', SYNC], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
    });
    exited.then(({ code }) => reject(new Error(`hunch collect exited (${code}): ${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

function post(url, body, headers) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// The machine may be shared: its load before the run says how much of the 2 cores we had.
const loadBefore = loadavg()[0];
const collector = startCollector();
let result;
try {
  const url = await collector.url;
  const events = simulateEvents(catalog, { sessions: 10_000_000, seed: 11 });
  const nextBatch = () => {
    const batch = [];
    for (let i = 0; i < BATCH; i++) batch.push(events.next().value);
    return batch;
  };
  const acknowledged = new Set();
  const sent = []; // bodies acknowledged, for retries
  const latencies = [];
  const failures = [];
  let batches = 0;
  let retries = 0;
  let beacons = 0;
  let ackedEvents = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;

  async function client(n) {
    const address = `10.0.${n >> 8}.${n & 255}`;
    for (let round = 0; performance.now() < deadline; round++) {
      const retry = round % 10 === 9 && sent.length > 0;
      const beacon = !retry && round % 20 === 4;
      const body = retry ? sent[(n * 31 + round) % sent.length] : JSON.stringify({ v: 1, sentAt: Date.now(), events: nextBatch() });
      const headers = { 'content-type': beacon ? 'text/plain;charset=UTF-8' : 'application/json', 'x-forwarded-for': address };
      const t0 = performance.now();
      const answer = await post(url, body, headers);
      latencies.push(performance.now() - t0);
      if (answer.status !== 200) {
        failures.push(`${answer.status} ${answer.body}`);
        continue;
      }
      const { accepted, rejected } = JSON.parse(answer.body);
      if (rejected.length > 0) failures.push(`rejected ${JSON.stringify(rejected[0])}`);
      for (const id of accepted) acknowledged.add(id);
      ackedEvents += accepted.length;
      batches++;
      if (retry) retries++;
      else sent.push(body);
      if (beacon) beacons++;
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  collector.child.kill('SIGTERM');
  const exit = await collector.exited;
  if (exit.code !== 0) throw new Error(`hunch collect did not stop cleanly: ${JSON.stringify(exit)} ${collector.stderr()}`);

  const raw = new Database(db, { readonly: true });
  const storedRows = raw.prepare('SELECT count(*) FROM events').pluck().get();
  const duplicatesStored = raw.prepare('SELECT count(*) FROM (SELECT id FROM events GROUP BY id HAVING count(*) > 1)').pluck().get();
  const has = raw.prepare('SELECT count(*) FROM events WHERE id = ?').pluck();
  let lost = 0;
  for (const id of acknowledged) if (has.get(id) !== 1) lost++;
  raw.close();

  latencies.sort((a, b) => a - b);
  const round1 = (x) => Math.round(x * 10) / 10;
  result = {
    clients: CLIENTS,
    seconds: round1(seconds),
    sync: SYNC,
    batchEvents: BATCH,
    eventsPerSecond: Math.round(ackedEvents / seconds),
    newEventsPerSecond: Math.round(acknowledged.size / seconds),
    batches,
    retries,
    beacons,
    p50Ms: round1(percentile(latencies, 50)),
    p95Ms: round1(percentile(latencies, 95)),
    p99Ms: round1(percentile(latencies, 99)),
    failures: failures.length,
    acknowledged: acknowledged.size,
    storedRows,
    duplicatesStored,
    lost,
    cpus: cpus().length,
    loadAverageBefore: Math.round(loadBefore * 10) / 10,
    node: process.version,
  };
  if (failures.length > 0) console.error(`bench:collector: ${failures.length} failed requests, first: ${failures[0]}`);
} finally {
  if (collector.child.exitCode === null && collector.child.signalCode === null) collector.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

const ok = result.lost === 0 && result.duplicatesStored === 0 && result.failures === 0 && result.storedRows === result.acknowledged;
const n = (x) => x.toLocaleString('en');
replaceSection(
  join(root, 'BENCHMARKS.md'),
  'collector',
  [
    `## Collector: uploads stored on loopback — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `\`npm run bench:collector\` — \`hunch collect\` (SQLite, WAL, synchronous=${SYNC.toUpperCase()}) in its own process; ${result.clients} keep-alive clients in another post batches of ${result.batchEvents} simulated events for ${result.seconds} s, one in ten a retry of an acknowledged batch, one in twenty as text/plain (sendBeacon). ${result.cpus} cores for both processes (1-minute load average ${result.loadAverageBefore} before the run).`,
    '',
    '| measurement | figure | target |',
    '| --- | --- | --- |',
    `| events acknowledged per second (retries included) | ${n(result.eventsPerSecond)} (${n(result.newEventsPerSecond)} new) | ≥ ${n(TARGET)} |`,
    `| request time, batch of ${result.batchEvents} | p50 ${result.p50Ms} ms, p95 ${result.p95Ms} ms, p99 ${result.p99Ms} ms | |`,
    `| batches acknowledged | ${n(result.batches)} (${n(result.retries)} retries, ${n(result.beacons)} beacons), ${result.failures} failed | none failed |`,
    `| acknowledged ids in the database | ${n(result.acknowledged)} acknowledged, ${n(result.storedRows)} rows: ${result.lost} lost, ${result.duplicatesStored} stored twice | exactly once |`,
  ].join('\n'),
);
console.log(JSON.stringify(result));
if (!ok || result.eventsPerSecond < TARGET) process.exitCode = 1;
