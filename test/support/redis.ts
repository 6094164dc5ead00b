import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, ReplyError } from 'ioredis';
import { pollUntil } from './server.js';

/**
 * Real redis-servers (Debian's package) on free loopback ports, each in its own temp dir. When
 * redis-server is not on PATH it is installed with apt (the test command must work on a fresh
 * machine); when that fails the test fails and says how to install it: a distributed test is
 * never skipped silently.
 *
 * One per run: vitest's global setup starts one (startRunRedis) and hands its URL to the test
 * files in MERGESHOT_TEST_REDIS_URL; startRedis() gives each file a database of its own on it
 * (SELECT n), emptied when the file closes it. A file that stops and starts Redis, or counts
 * its commands, takes one of its own (startOwnRedis): persistence on (AOF, fsync always), so it
 * can stop Redis mid-batch and start it again on the same port and data, as an operator would.
 *
 * No redis-server outlives the process that started it, however that process ends: each is
 * started under `setpriv --pdeathsig KILL` (the kernel kills it when its parent dies: a vitest
 * worker SIGKILLed, a run killed at a timeout; a worker whose run died exits, exitWithRun.ts),
 * and its dir holds owner.pid and redis.pid, so a later run removes what a crash left
 * (reapStaleRedis: only dirs whose owner is gone, only the process whose working dir is that
 * dir, never anything found by name).
 */
export interface TestRedis {
  readonly url: string;
  /** Ends this file's use of it (its own server stopped and its dir removed, or its database emptied). Idempotent. */
  close(): Promise<void>;
}

/** A redis-server of one test file's own, which it may stop and start. */
export interface OwnRedis extends TestRedis {
  readonly port: number;
  /** SHUTDOWN (the AOF is flushed); resolves once the process has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and dir; resolves once it answers PING. */
  start(): Promise<void>;
}

/** The run's Redis, set by the global setup (test/redisGlobalSetup.ts) for the test files. */
export const runRedisEnv = 'MERGESHOT_TEST_REDIS_URL';
const dirPrefix = 'mergeshot-redis-';
/** Databases of the run's Redis: one per test file that asks, none reused within a run. */
const runDatabases = 256;

/** A database of its own on the run's Redis, or (outside a vitest run, e.g. a bench) a server of its own. */
export async function startRedis(): Promise<TestRedis> {
  const run = process.env[runRedisEnv];
  if (!run) return startOwnRedis();
  const client = new Redis(run, { maxRetriesPerRequest: 1 });
  try {
    // Database 0 holds only the counter; each file takes the next number, so none sees another's keys.
    const db = await client.incr('mergeshot-test:next-database');
    if (db >= runDatabases) throw new Error(`the run's Redis has ${runDatabases} databases and ${db} test files asked for one: raise runDatabases in test/support/redis.ts`);
    const url = `${run}/${db}`;
    let closed = false;
    return {
      url,
      async close() {
        if (closed) return;
        closed = true;
        const own = new Redis(url, { maxRetriesPerRequest: 1 });
        try {
          await own.flushdb();
        } finally {
          own.disconnect();
        }
      },
    };
  } finally {
    client.disconnect();
  }
}

/** The run's redis-server (the global setup's): no persistence, many databases. */
export async function startRunRedis(): Promise<OwnRedis> {
  return startServerIn(['--save', '', '--appendonly', 'no', '--databases', String(runDatabases)]);
}

/** A redis-server of the caller's own, persistent, for tests that stop and start it; with `password`, one that asks for it (requirepass). */
export async function startOwnRedis(options: { readonly password?: string } = {}): Promise<OwnRedis> {
  return startServerIn(['--appendonly', 'yes', '--appendfsync', 'always', '--save', '', ...(options.password === undefined ? [] : ['--requirepass', options.password])]);
}

async function startServerIn(settings: readonly string[]): Promise<OwnRedis> {
  const binary = ensureRedisServer();
  const dir = await mkdtemp(join(tmpdir(), dirPrefix));
  await writeFile(join(dir, 'owner.pid'), String(process.pid));
  const port = await freePort();
  const deathSignal = which('setpriv');
  let child: ChildProcess | undefined;
  let closed = false;

  const start = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--pidfile', join(dir, 'redis.pid'), ...settings, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'];
    // setpriv execs redis-server: the child's pid is redis-server's, with the parent-death signal set.
    const [command, argv] = deathSignal ? [deathSignal, ['--pdeathsig', 'KILL', '--', binary, ...args]] : [binary, args];
    const started = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    started.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child = started;
    await waitFor(async () => {
      if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}: ${stderr}`);
      return ping(port);
    }, 15_000, 'redis-server to answer PING');
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM'); // redis-server flushes the AOF and exits on SIGTERM
    const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    close: async () => {
      if (closed) return;
      closed = true;
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Removes what crashed runs left under `root`: each of our dirs (owner.pid in it) whose owner
 * process is gone, after killing the redis-server working in it, if one still is (its
 * redis.pid, checked against /proc/<pid>/cwd: a pid reused by another program is left alone).
 * Another run's live dirs are never touched. Returns the dirs removed.
 */
export async function reapStaleRedis(root: string = tmpdir()): Promise<string[]> {
  const reaped: string[] = [];
  for (const name of await readdir(root).catch(() => [])) {
    if (!name.startsWith(dirPrefix)) continue;
    const dir = join(root, name);
    const owner = Number(await readFile(join(dir, 'owner.pid'), 'utf8').catch(() => ''));
    if (!Number.isInteger(owner) || owner <= 0 || (await isAlive(owner))) continue;
    const pid = Number(await readFile(join(dir, 'redis.pid'), 'utf8').catch(() => ''));
    if (Number.isInteger(pid) && pid > 0 && (await isAlive(pid))) {
      const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
      if (cwd === dir || cwd === `${dir} (deleted)`) process.kill(pid, 'SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
    reaped.push(dir);
  }
  return reaped;
}

/** Running (a zombie is not: an orphan's exit is reaped late, or never, by a container's pid 1). */
async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat !== undefined) return !/^\S+ \(.*\) [ZX]/s.test(stat);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The path of redis-server, installed with apt first when missing. Called once per run by the vitest global setup. */
export function ensureRedisServer(): string {
  const found = which('redis-server');
  if (found) return found;
  try {
    // Non-interactive, as root on a fresh CI machine of this kind. `update` first: a fresh image has no package lists.
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'ignore', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (error) {
    throw new Error(`redis-server is not installed and "apt-get install -y redis-server" failed (${(error as Error).message}). Install Redis 6.2 or later (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) and run the tests again.`);
  }
  const installed = which('redis-server');
  if (!installed) throw new Error('apt-get installed redis-server but it is not on PATH; add /usr/bin to PATH.');
  return installed;
}

function which(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function ping(port: number): Promise<boolean> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, enableReadyCheck: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch (error) {
    // An error reply is an answer: a server with requirepass says NOAUTH.
    return error instanceof ReplyError;
  } finally {
    client.disconnect();
  }
}

/** A port the OS says is free right now on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 50 ms until it returns true (server.ts's pollUntil); fails after `timeoutMs` naming what it waited for. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  await pollUntil(what, async () => check(), (done) => done, { timeoutMs });
}

/**
 * Every key of the connection's database and every value under it, as text: SCAN, then a read
 * by type (string, hash, list, set, sorted set, stream). For tests that a value left Redis: a
 * search in this text covers whatever key a library chose to keep it under.
 */
export async function dumpRedis(url: string): Promise<string> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  const out: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scanBuffer(cursor, 'COUNT', 500);
      cursor = next.toString();
      for (const key of keys) out.push(`${key.toString()} = ${await dumpValue(client, key)}`);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return out.join('\n');
}

async function dumpValue(client: Redis, key: Buffer): Promise<string> {
  const type = await client.type(key);
  const text = (values: readonly (Buffer | string)[]) => values.map((value) => value.toString()).join(' | ');
  switch (type) {
    case 'string':
      return (await client.getBuffer(key))?.toString() ?? '';
    case 'hash':
      return text(await client.hgetallBuffer(key).then((hash) => Object.entries(hash).flat()));
    case 'list':
      return text(await client.lrangeBuffer(key, 0, -1));
    case 'set':
      return text(await client.smembersBuffer(key));
    case 'zset':
      return text(await client.zrangeBuffer(key, 0, -1, 'WITHSCORES'));
    case 'stream':
      return (await client.xrange(key, '-', '+')).map(([id, fields]) => `${id} ${fields.join(' ')}`).join(' | ');
    case 'none':
      return '(gone)';
    default:
      throw new Error(`dumpRedis: key ${key.toString()} has type ${type}, which it cannot read`);
  }
}
