/**
 * The CLI as a user runs it: a real `node` process. The source is bundled with esbuild
 * first, so the test checks this checkout's code, not whatever dist/ was built last.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, type Cli } from './cli-helpers.js';
import { catalogPath } from './helpers.js';

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
    const commands = ['simulate', 'train', 'export', 'benchmark', 'eval', 'collect'];
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
    const manifest = JSON.parse(await readFile(join(work, 'model', 'hunch.json'), 'utf8')) as { format: string };
    expect(manifest.format).toBe('hunch-model');
  });
});
