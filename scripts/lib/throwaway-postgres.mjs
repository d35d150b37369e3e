// A throw-away PostgreSQL server for the tests and bench:collector: its own cluster (initdb) in a
// temp directory, on a free loopback port, its unix socket in that directory too, removed when
// stopped. Uses the PostgreSQL binaries of this machine (Debian: apt-get install postgresql);
// PostgreSQL refuses to run as root, so as root it runs as the `postgres` user the package creates.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.mjs';

/** Where initdb and postgres are: $PG_BIN, else on the PATH, else Debian's newest /usr/lib/postgresql/N/bin. */
export function findPostgresBin() {
  const candidates = [
    ...(process.env.PG_BIN ? [process.env.PG_BIN] : []),
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
    ...(existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .filter((version) => /^\d+$/.test(version))
          .sort((a, b) => Number(b) - Number(a))
          .map((version) => `/usr/lib/postgresql/${version}/bin`)
      : []),
  ];
  const bin = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
  if (!bin) throw new Error('no PostgreSQL found (initdb and postgres): apt-get install -y postgresql, or set PG_BIN to its bin directory');
  return bin;
}

/** Runs `file` as the postgres user when we are root (PostgreSQL refuses root), else as ourselves. */
function asPostgresUser(file, args) {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
}

/** The pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) pids.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates a cluster and starts it. Resolves with its URL (database `hunch`, user `hunch`, trust
 * authentication on loopback only), and functions to kill the server (SIGKILL, as a crash),
 * start it again on the same port and data, and stop it for good.
 * @param {{ log?: (line: string) => void }} [options]
 */
export async function startThrowawayPostgres(options = {}) {
  const bin = findPostgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'hunch-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const [initdb, initArgs] = asPostgresUser(join(bin, 'initdb'), ['-D', data, '-U', 'hunch', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  try {
    execFileSync(initdb, initArgs, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${String(error.stderr ?? error.message).trim().split('\n').at(-1)}`);
  }
  const port = await freePort();
  const url = `postgres://hunch@127.0.0.1:${port}/hunch`;
  let server;
  let log = '';

  async function start() {
    const [file, args] = asPostgresUser(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'max_connections=100']);
    // In a directory of its own: the postgres user may not be allowed into the caller's.
    const child = spawn(file, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (chunk) => {
      log = (log + chunk).slice(-4000);
      options.log?.(String(chunk));
    });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    server = { child, exited };
    for (let tries = 0; ; tries++) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited at start: ${log.trim().split('\n').at(-1)}`);
      const client = new pg.Client({ connectionString: url.replace(/\/hunch$/, '/postgres') });
      try {
        await client.connect();
        // The database the tests and the bench use; a restart finds it there.
        const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = 'hunch'");
        if (exists.rowCount === 0) await client.query('CREATE DATABASE hunch');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => {});
        if (tries > 300) throw new Error(`postgres did not accept connections in 30 s: ${log.trim().split('\n').at(-1)}`);
        await sleep(100);
      }
    }
  }

  /** The postmaster's pid (runuser's child when we are root): the first line of postmaster.pid. */
  const postmasterPid = () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);

  await start();
  // A test run that ends without stop() (a crash, a timeout) still shuts its server down.
  const shutDownAtExit = () => {
    try {
      process.kill(postmasterPid(), 'SIGQUIT');
    } catch {
      // Already gone.
    }
  };
  process.once('exit', shutDownAtExit);
  return {
    url,
    port,
    dir,
    postmasterPid,
    /**
     * SIGKILLs the server, as a crash of its machine would: the postmaster and every process it
     * started (left alone, orphaned backends could still answer a query for a moment).
     * Resolves once the postmaster is gone.
     */
    async kill() {
      const pid = postmasterPid();
      const children = childrenOf(pid);
      process.kill(pid, 'SIGKILL');
      for (const child of children) {
        try {
          process.kill(child, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await server.exited;
    },
    /** Starts the server again on the same port and data (crash recovery replays the WAL). */
    async restart() {
      for (let tries = 0; ; tries++) {
        try {
          await start();
          return;
        } catch (error) {
          // Backends of the killed postmaster may still hold its shared memory for a moment.
          if (tries > 20) throw error;
          await sleep(250);
        }
      }
    },
    /** Fast shutdown, then the directory is removed. */
    async stop() {
      process.off('exit', shutDownAtExit);
      if (server.child.exitCode === null && server.child.signalCode === null) {
        try {
          process.kill(postmasterPid(), 'SIGINT');
        } catch {
          // Already gone.
        }
        await server.exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
