import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pollUntil } from './server.js';

/**
 * A real redis-server (Debian's package) on a free loopback port with its own temp dir, for one
 * test file. When redis-server is not on PATH it is installed with apt (the test command must
 * work on a fresh machine); when that fails the test fails and says how to install it: a
 * distributed test is never skipped silently.
 *
 * Persistence is on (AOF, fsync always), so a test can stop Redis mid-batch and start it again
 * on the same port and data, as an operator restarting it would.
 */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** SHUTDOWN (the AOF is flushed); resolves once the process has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and dir; resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops it and removes its dir. Idempotent. */
  close(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const binary = ensureRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'mergeshot-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let closed = false;

  const start = async (): Promise<void> => {
    const started = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'pipe'] });
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
    if (!running || running.exitCode !== null) return;
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
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
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
