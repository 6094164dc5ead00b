import { spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/pipeline.js';
import { ensureRedisServer, freePort, reapStaleRedis, runRedisEnv, waitFor } from '../support/redis.js';

/**
 * Issue 18 item 12: no redis-server a test started outlives the run, however the run ends. A
 * vitest run (its own TMPDIR) holding the run's Redis and a file's own is SIGKILLed mid-file;
 * then no process may still work in that TMPDIR, and the next run's setup removes the dirs.
 */
const vitest = join(repoRoot, 'node_modules/vitest/vitest.mjs');
const fixtureConfig = join(repoRoot, 'test/fixtures/cleanup/vitest.config.ts');

/** Our processes whose working dir is under `root` (redis-server works in its --dir). */
async function processesUnder(root: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cwd = await readlink(`/proc/${name}/cwd`).catch(() => '');
    if (cwd.startsWith(`${root}/`)) found.push(Number(name));
  }
  return found;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

describe('test processes', () => {
  it('a vitest run SIGKILLed mid-file leaves no redis-server running, and the next setup removes its dirs', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mergeshot-cleanup-'));
    const ready = join(root, 'ready.json');
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: root, MERGESHOT_CLEANUP_READY: ready };
    delete env[runRedisEnv];
    const child = spawn(process.execPath, [vitest, 'run', '--config', fixtureConfig], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`the fixture run exited with ${child.exitCode}: ${output}`);
        return access(ready).then(() => true, () => false);
      }, 120_000, 'the fixture run to hold its two redis-servers');
      expect(await processesUnder(root)).toHaveLength(2);
      // The main vitest process alone, as the OOM killer or a CI timeout would: not its group.
      kill(child.pid!, 'SIGKILL');
      await waitFor(async () => (await processesUnder(root)).length === 0, 20_000, 'every redis-server of the killed run to exit');
      // Their dirs stay behind (nobody ran a teardown) until the next run's setup reaps them.
      const left = (await readdir(root)).filter((name) => name.startsWith('mergeshot-redis-'));
      expect(left).toHaveLength(2);
      expect((await reapStaleRedis(root)).sort()).toEqual(left.map((name) => join(root, name)).sort());
      expect((await readdir(root)).filter((name) => name.startsWith('mergeshot-redis-'))).toEqual([]);
    } finally {
      kill(-child.pid!, 'SIGKILL');
      for (const pid of await processesUnder(root)) kill(pid, 'SIGKILL');
      await rm(root, { recursive: true, force: true });
    }
  }, 180_000);

  it('reaps only what a dead owner left: its live redis-server is killed; a live owner\'s dir and a dir not ours stay', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mergeshot-reap-'));
    const dir = (name: string) => join(root, `mergeshot-redis-${name}`);
    // A pid that has surely exited: a child we waited for.
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    await Promise.all(['orphan', 'live', 'foreign'].map((name) => mkdir(dir(name))));
    await writeFile(join(dir('orphan'), 'owner.pid'), String(gone.pid));
    await writeFile(join(dir('live'), 'owner.pid'), String(process.pid));
    // An orphan as an older run left it: started without a parent-death signal, its owner gone.
    const port = await freePort();
    const orphan = spawn(ensureRedisServer(), ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir('orphan'), '--pidfile', join(dir('orphan'), 'redis.pid'), '--save', '', '--appendonly', 'no'], { detached: true, stdio: 'ignore' });
    try {
      await waitFor(() => access(join(dir('orphan'), 'redis.pid')).then(() => true, () => false), 15_000, 'the orphan to write its pid file');
      expect(Number(await readFile(join(dir('orphan'), 'redis.pid'), 'utf8'))).toBe(orphan.pid);
      const exited = new Promise((resolve) => orphan.once('exit', resolve));
      expect(await reapStaleRedis(root)).toEqual([dir('orphan')]);
      await exited;
      expect((await readdir(root)).sort()).toEqual(['mergeshot-redis-foreign', 'mergeshot-redis-live']);
    } finally {
      kill(orphan.pid!, 'SIGKILL');
      await rm(root, { recursive: true, force: true });
    }
  }, 60_000);
});
