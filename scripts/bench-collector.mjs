// `npm run bench:collector`: the collector's throughput on loopback, and that it keeps every
// event it acknowledges exactly once, on SQLite and on PostgreSQL.
// - `hunch collect` (the built CLI, in processes of its own, as a shop runs it), on a temp
//   SQLite file, and on a throw-away PostgreSQL server (scripts/lib/throwaway-postgres.mjs:
//   its own cluster, fsync and synchronous_commit on) with 1 and with 4 collector processes;
// - N concurrent clients (keep-alive connections, each its own client address through
//   X-Forwarded-For, so the rate limiter is on the path; client n uploads to collector n mod k)
//   post SDK-shaped batches of 25 simulated shopper events (UUID ids, GA4 names) for D
//   seconds: one batch in ten is a retry of a batch already acknowledged (a lost answer), one
//   in twenty a sendBeacon (text/plain). A batch that is not acknowledged (a 503, a connection
//   that died) is sent again, 100 ms later, to the next collector that is up, until it is;
// - two crash runs on PostgreSQL: kill -9 of one of two collectors halfway, and kill -9 of the
//   PostgreSQL server itself (the postmaster and every process it started) a third of the way
//   in, restarted at once (crash recovery);
// - then SIGTERM, and every acknowledged id is looked up in the database: present exactly once.
// Options: --clients 16 --seconds 15 --sync full|normal (SQLite's). Prints one JSON object as its
// last line and writes BENCHMARKS.md's `collector` section.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { simulateEvents } from '../packages/trainer/dist/index.js';
import { replaceSection } from './lib/benchmarks-md.mjs';
import { startThrowawayPostgres } from './lib/throwaway-postgres.mjs';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '16' }, seconds: { type: 'string', default: '15' }, sync: { type: 'string', default: 'full' } } });
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const SYNC = values.sync;
const BATCH = 25;
const TARGET = 2000;
const RETRY_MS = 100;

const root = fileURLToPath(new URL('..', import.meta.url));
const catalog = JSON.parse(readFileSync(join(root, 'examples/storefront/catalog.json'), 'utf8')).products;
const dir = mkdtempSync(join(tmpdir(), 'hunch-bench-collector-'));
const events = simulateEvents(catalog, { sessions: 10_000_000, seed: 11 });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `hunch collect` on `db` and resolves with its URL (printed alone on stdout). */
async function startCollector(db) {
  // A rate far above the load: the limiter runs on every request without refusing any.
  const args = ['collect', '--db', db, '--port', '0', '--rate', '1000000', '--trust-proxy', ...(db.startsWith('postgres') ? [] : ['--sync', SYNC])];
  const child = spawn(process.execPath, [join(root, 'packages/trainer/bin/hunch.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
    });
    exited.then(({ code }) => reject(new Error(`hunch collect exited (${code}): ${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}

function post(agent, url, body, headers) {
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
const round1 = (x) => Math.round(x * 10) / 10;

/**
 * One run: `processes` collectors on `db`, the clients' load for SECONDS, `crash` (if any) called
 * at `crashAt` of the way; then SIGTERM to the collectors still up, and the database is counted
 * by `audit(acknowledged)`.
 */
async function run({ label, db, processes, crashAt, crash, audit }) {
  const loadAverage = round1(loadavg()[0]);
  const collectors = await Promise.all(Array.from({ length: processes }, () => startCollector(db)));
  const down = new Set();
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const nextBatch = () => Array.from({ length: BATCH }, () => events.next().value);
  const acknowledged = new Set();
  const sent = []; // bodies acknowledged, for retries
  const latencies = [];
  const failures = [];
  let batches = 0;
  let retries = 0;
  let beacons = 0;
  let resent = 0;
  let ackedEvents = 0;
  let crashed;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const crashTimer = crash ? setTimeout(() => (crashed = crash(collectors, down)), crashAt * SECONDS * 1000) : undefined;

  async function client(n) {
    const address = `10.0.${n >> 8}.${n & 255}`;
    let target = n % processes;
    for (let round = 0; performance.now() < deadline; round++) {
      const retry = round % 10 === 9 && sent.length > 0;
      const beacon = !retry && round % 20 === 4;
      const body = retry ? sent[(n * 31 + round) % sent.length] : JSON.stringify({ v: 1, sentAt: Date.now(), events: nextBatch() });
      const headers = { 'content-type': beacon ? 'text/plain;charset=UTF-8' : 'application/json', 'x-forwarded-for': address };
      // Until acknowledged, as the SDK keeps a batch until then (its backoff shortened).
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) {
          resent++;
          await sleep(RETRY_MS);
          if (performance.now() > deadline + 60_000) throw new Error(`${label}: a batch was not acknowledged in 60 s after the run`);
        }
        while (down.has(target)) target = (target + 1) % processes;
        const t0 = performance.now();
        let answer;
        try {
          answer = await post(agent, collectors[target].url, body, headers);
        } catch (error) {
          failures.push(`collector ${target}: ${error.code ?? error.message}`);
          continue;
        }
        if (answer.status !== 200) {
          failures.push(`${answer.status} ${answer.body}`);
          continue;
        }
        latencies.push(performance.now() - t0);
        const { accepted, rejected } = JSON.parse(answer.body);
        if (rejected.length > 0) failures.push(`rejected ${JSON.stringify(rejected[0])}`);
        for (const id of accepted) acknowledged.add(id);
        ackedEvents += accepted.length;
        batches++;
        if (retry) retries++;
        else sent.push(body);
        if (beacon) beacons++;
        break;
      }
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
  const seconds = (performance.now() - started) / 1000;
  clearTimeout(crashTimer);
  await crashed;
  agent.destroy();
  for (const [i, collector] of collectors.entries()) {
    if (down.has(i)) continue;
    collector.child.kill('SIGTERM');
    const exit = await collector.exited;
    if (exit.code !== 0) throw new Error(`${label}: hunch collect did not stop cleanly: ${JSON.stringify(exit)} ${collector.stderr()}`);
  }
  const counted = await audit(acknowledged);
  latencies.sort((a, b) => a - b);
  return {
    label,
    processes,
    loadAverage,
    seconds: round1(seconds),
    eventsPerSecond: Math.round(ackedEvents / seconds),
    newEventsPerSecond: Math.round(acknowledged.size / seconds),
    batches,
    retries,
    beacons,
    failedRequests: failures.length,
    resent,
    firstFailure: failures[0],
    p50Ms: round1(percentile(latencies, 50)),
    p95Ms: round1(percentile(latencies, 95)),
    p99Ms: round1(percentile(latencies, 99)),
    acknowledged: acknowledged.size,
    ...counted,
  };
}

/** Every acknowledged id looked up: rows, ids stored twice, acknowledged ids not stored exactly once. */
function tally(times, acknowledged) {
  let rows = 0;
  let duplicatesStored = 0;
  for (const n of times.values()) {
    rows += n;
    if (n > 1) duplicatesStored++;
  }
  let lost = 0;
  for (const id of acknowledged) if (times.get(id) !== 1) lost++;
  return { storedRows: rows, duplicatesStored, lost };
}

function sqliteAudit(path) {
  return async (acknowledged) => {
    const raw = new Database(path, { readonly: true });
    const times = new Map(raw.prepare('SELECT id, count(*) AS n FROM events GROUP BY id').raw().all());
    raw.close();
    return tally(times, acknowledged);
  };
}

function postgresAudit(url) {
  return async (acknowledged) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query({ text: 'SELECT id, count(*)::int AS n FROM hunch_events GROUP BY id', rowMode: 'array' });
    await client.end();
    return tally(new Map(rows), acknowledged);
  };
}

// The machine may be shared: its load before the run says how much of the 2 cores we had.
const loadBefore = loadavg()[0];
const results = [];
let postgres;
let serverVersion;
try {
  const sqlite = join(dir, 'events.sqlite');
  results.push(await run({ label: 'sqlite', db: sqlite, processes: 1, audit: sqliteAudit(sqlite) }));

  postgres = await startThrowawayPostgres();
  // A database per run, made before any crash (the admin connection would not survive one).
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  serverVersion = (await admin.query('SHOW server_version')).rows[0].server_version.split(' ')[0];
  const [one, four, killCollector, killServer] = ['bench_1', 'bench_4', 'bench_kill_collector', 'bench_kill_server'].map((name) => postgres.url.replace(/\/hunch$/, `/${name}`));
  for (const url of [one, four, killCollector, killServer]) await admin.query(`CREATE DATABASE ${new URL(url).pathname.slice(1)}`);
  await admin.end();

  results.push(await run({ label: 'postgres-1', db: one, processes: 1, audit: postgresAudit(one) }));
  results.push(await run({ label: 'postgres-4', db: four, processes: 4, audit: postgresAudit(four) }));
  const killOne = (collectors, down) => {
    down.add(0);
    collectors[0].child.kill('SIGKILL');
  };
  results.push(await run({ label: 'postgres-kill-collector', db: killCollector, processes: 2, crashAt: 0.5, crash: killOne, audit: postgresAudit(killCollector) }));
  let downFor;
  const killServerAndRestart = async () => {
    const t0 = performance.now();
    await postgres.kill();
    await postgres.restart();
    downFor = (performance.now() - t0) / 1000;
  };
  const result = await run({ label: 'postgres-kill-server', db: killServer, processes: 1, crashAt: 1 / 3, crash: killServerAndRestart, audit: postgresAudit(killServer) });
  results.push({ ...result, serverDownSeconds: round1(downFor) });
} finally {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
}

const byLabel = Object.fromEntries(results.map((result) => [result.label, result]));
const exact = (r) => r.lost === 0 && r.duplicatesStored === 0 && r.storedRows === r.acknowledged;
const ok = results.every(exact) && ['sqlite', 'postgres-1', 'postgres-4'].every((label) => byLabel[label].failedRequests === 0 && byLabel[label].eventsPerSecond >= TARGET);
const summary = { clients: CLIENTS, seconds: SECONDS, sync: SYNC, batchEvents: BATCH, runs: results, cpus: cpus().length, loadAverageBefore: round1(loadBefore), node: process.version };
for (const result of results) if (result.failedRequests > 0) console.error(`bench:collector ${result.label}: ${result.failedRequests} failed requests (each sent again), first: ${result.firstFailure}`);

const n = (x) => x.toLocaleString('en');
const load = (r) => `${n(r.eventsPerSecond)} (${n(r.newEventsPerSecond)} new)`;
const times = (r) => `p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms, p99 ${r.p99Ms} ms`;
const once = (r) => `${n(r.acknowledged)} acknowledged, ${n(r.storedRows)} rows: ${r.lost} lost, ${r.duplicatesStored} stored twice`;
const row = (name, r) => `| ${name} | ${r.loadAverage} | ${load(r)} | ${times(r)} | ${n(r.batches)} (${n(r.retries)} retries, ${n(r.beacons)} beacons); ${n(r.failedRequests)} failed and sent again | ${once(r)} |`;
replaceSection(
  join(root, 'BENCHMARKS.md'),
  'collector',
  [
    `## Collector: uploads stored on loopback, SQLite and PostgreSQL — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `\`npm run bench:collector\` — \`hunch collect\` in processes of its own, on SQLite (WAL, synchronous=${SYNC.toUpperCase()}) and on a throw-away PostgreSQL ${serverVersion} server (\`scripts/lib/throwaway-postgres.mjs\`: fsync and synchronous_commit on); ${CLIENTS} keep-alive clients in another process post batches of ${BATCH} simulated events for ${SECONDS} s each run, one in ten a retry of an acknowledged batch, one in twenty as text/plain (sendBeacon); a batch not acknowledged is sent again after ${RETRY_MS} ms to the next collector up. Client n uploads to collector n mod k. ${summary.cpus} cores for everything (clients, collectors, PostgreSQL), shared with other work: 1-minute load average ${summary.loadAverageBefore} before the run.`,
    '',
    '| run | load before it | events acknowledged per second (retries included) | request time, batch of 25 | batches acknowledged | acknowledged ids in the database |',
    '| --- | --- | --- | --- | --- | --- |',
    row('SQLite, 1 collector', byLabel.sqlite),
    row('PostgreSQL, 1 collector', byLabel['postgres-1']),
    row('PostgreSQL, 4 collectors', byLabel['postgres-4']),
    row('PostgreSQL, 2 collectors, one `kill -9`ed halfway', byLabel['postgres-kill-collector']),
    row(`PostgreSQL, its server \`kill -9\`ed a third of the way in and restarted (down ${byLabel['postgres-kill-server'].serverDownSeconds} s)`, byLabel['postgres-kill-server']),
    '',
    `Targets: ≥ ${n(TARGET)} events/s and no failed request for the three load runs; every acknowledged id stored exactly once in all five. The runs go one after another: with the machine shared (the 1-minute load average before each is beside it), rows differ by what else ran as much as by the store, so only a load near the core count compares them. More collector processes cannot add CPU on ${summary.cpus} cores that also run the clients and PostgreSQL: the 4-process row shows that several collectors on one database keep every event exactly once, not a speed-up. A crash run's events per second include its outage; its failed requests are those answered 503 (PostgreSQL down) or cut off (the collector killed), each sent again until acknowledged.`,
  ].join('\n'),
);
console.log(JSON.stringify(summary));
if (!ok) process.exitCode = 1;
