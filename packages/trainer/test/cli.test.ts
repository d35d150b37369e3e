/**
 * The CLI as a user runs it: a real `node` process. The source is bundled with esbuild
 * first, so the test checks this checkout's code, not whatever dist/ was built last.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECISION_FEATURES, type HunchEvent } from '@hunch/core';
import { buildCli, type Cli } from './cli-helpers.js';
import { writeEventsFile } from './event-files.js';
import { catalogPath, simulated } from './helpers.js';

let cli: Cli;
let work: string;

beforeAll(async () => {
  cli = await buildCli('cli');
  work = await mkdtemp(join(tmpdir(), 'hunch-cli-'));
});

afterAll(async () => {
  await cli?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

const hunch = (...args: string[]) => cli.run(args);

describe('hunch CLI', () => {
  it('fails with one line when the events file is empty', async () => {
    const empty = join(work, 'empty.ndjson');
    await writeFile(empty, '');
    const { code, stderr } = await hunch('train', '--events', empty, '--out', join(work, 'ckpt'));
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toEqual([`hunch: ${empty} holds no valid events`]);
  });

  it('fails with one line when the events file is missing, or a flag is unknown', async () => {
    const missing = await hunch('train', '--events', join(work, 'nope.ndjson'), '--out', join(work, 'ckpt'));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/ENOENT/);
    const unknown = await hunch('simulate', '--bogus', '1');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('answers --help and -h for every command with its usage, exit 0, doing nothing else', async () => {
    const commands = ['simulate', 'train', 'shards', 'export', 'benchmark', 'eval', 'collect'];
    const all = await hunch('--help');
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^usage:\n/);
    for (const command of commands) expect(all.stdout).toContain(`\n  hunch ${command} `);
    for (const command of commands) {
      for (const flag of ['--help', '-h']) {
        // After other options too (a required one missing): help wins, nothing runs.
        const answer = await hunch(command, '--out', join(work, `help-${command}`), flag);
        expect(answer.code, `${command} ${flag}: ${answer.stderr}`).toBe(0);
        expect(answer.stderr, `${command} ${flag}`).toBe('');
        expect(answer.stdout, `${command} ${flag}`).toMatch(new RegExp(`^usage:\n  hunch ${command} `));
        // This command's lines only.
        for (const other of commands.filter((name) => name !== command)) expect(answer.stdout).not.toContain(`hunch ${other} `);
        expect(existsSync(join(work, `help-${command}`))).toBe(false);
      }
      const help = await hunch('help', command);
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toBe((await hunch(command, '--help')).stdout);
    }
    expect((await hunch('help')).stdout).toBe(all.stdout);
    const unknown = await hunch('help', 'bogus');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim()).toBe('hunch: unknown command "bogus" (run "hunch help" for usage)');
  });

  it('refuses events too few to learn from, in one line saying how many it needs, writing nothing', async () => {
    // Sessions of 2 or more events, and 1-event sessions (which teach nothing), from simulated shoppers.
    const sessions = new Map<string, HunchEvent[]>();
    for (const event of simulated(80, 12)) sessions.set(event.sessionId, [...(sessions.get(event.sessionId) ?? []), event]);
    const learnable = [...sessions.values()].filter((events) => events.length >= 2);
    const single = (events: HunchEvent[]) => events.slice(0, 1);
    const tinyTrain = ['--layers', '1', '--embd', '8', '--heads', '2', '--context', '16', '--epochs', '1', '--batch-tokens', '128', '--workers', '1'];
    const train = async (name: string, events: HunchEvent[]) => {
      const path = join(work, `${name}.ndjson`);
      await writeEventsFile(path, events);
      const out = join(work, `${name}-ckpt`);
      return { path, out, ...(await hunch('train', '--events', path, '--out', out, ...tinyTrain)) };
    };
    const needs = 'hunch train needs at least 20 sessions of 2 or more events (a next event to learn from, and sessions to hold out for validation)';

    // The case: one event.
    const one = await train('one-event', learnable[0]!.slice(0, 1));
    expect(one.code).not.toBe(0);
    expect(one.stderr.trim().split('\n')).toEqual([`hunch: ${one.path} is too little to train on: 1 event in 1 session, 0 of them with 2 or more events; ${needs}`]);
    expect(existsSync(one.out)).toBe(false);
    // A handful: 19 sessions that could teach, and 30 single-event ones that cannot.
    const few = learnable.slice(0, 19);
    const singles = learnable.slice(19, 49).map(single);
    expect(singles).toHaveLength(30);
    const handful = await train('handful', [...few.flat(), ...singles.flat()]);
    const count = few.flat().length + 30;
    expect(handful.code).not.toBe(0);
    expect(handful.stderr.trim().split('\n')).toEqual([`hunch: ${handful.path} is too little to train on: ${count} events in 49 sessions, 19 of them with 2 or more events; ${needs}`]);
    expect(existsSync(handful.out)).toBe(false);
    // 20, and a later 1-event session: that one is the 5% held out, with nothing in it to predict.
    const twenty = learnable.slice(0, 20).flat();
    const latest = Math.max(...twenty.map((event) => event.ts));
    const bounce = { ...learnable[20]![0]!, name: 'page_view' as const, params: {}, ts: latest + 1000 };
    const unvalidated = await train('unvalidated', [...twenty, bounce]);
    expect(unvalidated.code).not.toBe(0);
    expect(unvalidated.stderr.trim().split('\n')).toEqual([
      `hunch: ${unvalidated.path} is too little to validate on: the latest 1 of its 21 sessions (5%), held out for validation, hold nothing to predict (sessions of 1 event); hunch train needs more sessions`,
    ]);
    expect(existsSync(unvalidated.out)).toBe(false);
    // 20 are enough: trained, with validation.
    const enough = await train('enough', learnable.slice(0, 20).flat());
    expect(enough.code, enough.stderr).toBe(0);
    expect(enough.stderr).toMatch(/read \d+ events in 20 sessions: \d+ training and [1-9]\d* validation sequences/);
    expect(enough.stderr).toMatch(/validation MRR@20 /);
  });

  it('skips a line over 1 MiB with a warning, and trains on the lines around it', async () => {
    const events = simulated(40, 13);
    const sessions = new Set(events.map((event) => event.sessionId)).size;
    const path = join(work, 'long-line.ndjson');
    const at = Math.floor(events.length / 2);
    // 2 MiB of one line (what a corrupted upload or a stray dump could leave) halfway through the file.
    await writeEventsFile(path, events.slice(0, at), [`{"id":"${'x'.repeat(2 << 20)}"}`, ...events.slice(at).map((event) => JSON.stringify(event))]);
    const out = join(work, 'long-line-ckpt');
    const trained = await hunch('train', '--events', path, '--out', out, '--layers', '1', '--embd', '8', '--heads', '2', '--context', '16', '--epochs', '1', '--batch-tokens', '128', '--workers', '1');
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toContain(`skipped 1 invalid line(s): line ${at + 1} (longer than 1048576 bytes)`);
    // Every event, those after the long line too.
    expect(trained.stderr).toContain(`read ${events.length} events in ${sessions} sessions`);
    const state = JSON.parse(await readFile(join(out, 'hunch-train.json'), 'utf8')) as { training: { events: number; skippedLines: number } };
    expect(state.training).toMatchObject({ events: events.length, skippedLines: 1 });
  });

  it('simulates, trains and exports end to end', async () => {
    const events = join(work, 'events.ndjson');
    const sim = await hunch('simulate', '--catalog', catalogPath, '--sessions', '60', '--seed', '9', '--out', events);
    expect(sim.code).toBe(0);
    // A broken line is skipped and reported, not fatal.
    await writeFile(events, `${await readFile(events, 'utf8')}{broken\n`);
    const ckpt = join(work, 'ckpt');
    // One worker: the test bundle has no train-worker.js beside it.
    const trained = await hunch('train', '--events', events, '--out', ckpt, '--layers', '1', '--embd', '8', '--heads', '2', '--context', '16', '--epochs', '1', '--batch-tokens', '128', '--workers', '1');
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toMatch(/skipped 1 invalid line\(s\): line \d+ \(not valid JSON\)/);
    expect(trained.stderr).toMatch(/step (\d+)\/\1 ep 1 {2}loss/);
    expect(trained.stderr).toMatch(/full softmax/);
    const state = JSON.parse(await readFile(join(ckpt, 'hunch-train.json'), 'utf8')) as { training: { skippedLines: number } };
    expect(state.training.skippedLines).toBe(1);
    const exported = await hunch('export', '--model', ckpt, '--catalog', catalogPath, '--out', join(work, 'model'));
    expect(exported.code, exported.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(work, 'model', 'hunch.json'), 'utf8')) as { format: string; policy?: string };
    expect(manifest.format).toBe('hunch-model');
    expect(manifest.policy).toBeUndefined();

    // --policy: a policy as `hunch policy --out` writes it ships with the model; one that does not validate, in one line, writes nothing.
    const policy = join(work, 'policy.json');
    const weights = (bias: number) => ({ weights: DECISION_FEATURES.map((_, i) => (i === 0 ? bias : 0)) });
    await writeFile(policy, `${JSON.stringify({ version: 1, id: 'p1', features: [...DECISION_FEATURES], epsilon: 0.1, strategies: { 'cart-nudge': { actions: { remind: weights(1), none: weights(0) } } } }, null, 2)}\n`);
    const withPolicy = await hunch('export', '--model', ckpt, '--catalog', catalogPath, '--out', join(work, 'model-policy'), '--quant', 'fp32', '--policy', policy);
    expect(withPolicy.code, withPolicy.stderr).toBe(0);
    expect(withPolicy.stderr).toMatch(/with policy policy\.json ->/);
    const shipped = JSON.parse(await readFile(join(work, 'model-policy', 'hunch.json'), 'utf8')) as { policy: string; files: Record<string, { bytes: number }> };
    expect(shipped.policy).toBe('policy.json');
    expect(await readFile(join(work, 'model-policy', 'policy.json'), 'utf8')).toBe(await readFile(policy, 'utf8'));
    await writeFile(policy, JSON.stringify({ version: 1, id: 'p1', features: ['bias'], epsilon: 0.1, strategies: {} }));
    const refused = await hunch('export', '--model', ckpt, '--catalog', catalogPath, '--out', join(work, 'model-refused'), '--quant', 'fp32', '--policy', policy);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^hunch: policy .*policy\.json does not validate: policy features must be /)]);
    expect(existsSync(join(work, 'model-refused'))).toBe(false);
  });
});
