import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { repoRoot } from './pipeline.js';
import { startRedis, waitFor } from './redis.js';
import type { TestRedis } from './redis.js';
import { startS3, type TestS3 } from './s3.js';
import { createWorkspace, startServer, type TestServer, type TestWorkspace } from './server.js';

/**
 * A folder to run the real `mergeshot` CLI in, with a mergeshot.config.json pointing at the
 * test Redis and S3 server (short stall detection, so a killed worker's chunk comes back in
 * seconds), and helpers to start worker processes and render commands in it.
 */
export interface CliRig {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly redisUrl: string;
  readonly storeUrl: string;
  /** Starts `mergeshot worker` in its own process group; resolves once it logged "worker ready". */
  /** `cpus` (a taskset list, e.g. "0") confines the worker and its Chromium to those cores. */
  startWorker(pages?: number, options?: { readonly cpus?: string }): Promise<WorkerChild>;
  /** Runs `mergeshot render <template> …` (local, or distributed with `distributed: true`). */
  render(args: readonly string[], options?: { distributed?: boolean }): RunningCli;
  close(): Promise<void>;
}

export interface WorkerChild {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** SIGKILL to the whole group (node and its Chromium): a machine that dies. */
  kill(): void;
  /** SIGTERM and wait for a drained exit. */
  stop(): Promise<number | null>;
}

export interface RunningCli {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const bin = join(repoRoot, 'bin/mergeshot.js');

export interface CliRigOptions {
  /** Default: the test fixtures (template `mini`). */
  readonly templatesDir?: string;
  /** The template `render()` renders. */
  readonly template?: string;
  /** More `distributed` settings. */
  readonly distributed?: Readonly<Record<string, unknown>>;
}

export async function cliRig(redis: TestRedis, s3: TestS3, prefix: string, options: CliRigOptions = {}): Promise<CliRig> {
  const distributed = options.distributed ?? {};
  const dir = await mkdtemp(join(tmpdir(), 'mergeshot-dist-'));
  await writeFile(
    join(dir, 'mergeshot.config.json'),
    JSON.stringify({
      templatesDir: options.templatesDir ?? join(repoRoot, 'test/fixtures/templates'),
      stylesDir: join(repoRoot, 'styles'),
      distributed: { endpoint: s3.endpoint, forcePathStyle: true, queuePrefix: prefix, stalledMs: 2_000, chunkRows: 25, backoffMs: 200, storeRetryMs: 500, ...distributed },
    }),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, ...s3.env, AWS_REGION: 'us-east-1', MERGESHOT_PAGES: '1', NODE_NO_WARNINGS: '1' };
  const children = new Set<ChildProcess>();
  const storeUrl = s3.storeUrl(prefix);
  return {
    dir,
    env,
    redisUrl: redis.url,
    storeUrl,
    async startWorker(pages = 1, how = {}) {
      const args = [bin, 'worker', '--redis', redis.url, '--store', storeUrl, '--pages', String(pages)];
      // taskset execs the command: the child's pid is still the worker's, and Chromium inherits the affinity.
      const [command, argv] = how.cpus === undefined ? [process.execPath, args] : ['taskset', ['-c', how.cpus, process.execPath, ...args]];
      const child = spawn(command, argv, { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${output}`);
        return output.includes('"worker ready"');
      }, 90_000, 'the worker to be ready');
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return {
        child,
        output: () => output,
        kill: () => process.kill(-child.pid!, 'SIGKILL'),
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      };
    },
    render(args, how = {}) {
      const child = spawn(process.execPath, [bin, 'render', options.template ?? 'mini', ...args, ...(how.distributed ? ['--redis', redis.url, '--store', storeUrl] : [])], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
      return { child, done };
    },
    async close() {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A CSV of `rows` realistic contacts: plain names, unreplaced merge tags (a fallback warning), invalid colours, emoji, RTL. */
export function contactsCsv(rows: number): string {
  const names = ['Ada Lovelace', 'Zoë Müller', '*|FNAME|*', 'محمد علي', '李小龍', 'Amara Okafor 🎉', '', 'Grace Hopper'];
  const colours = ['#0f766e', '#b91c1c', 'not-a-colour', '', '#1d4ed8'];
  const lines = ['Name,VIP,Color'];
  for (let i = 0; i < rows; i++) {
    const name = `${names[i % names.length]!}${i % 3 === 0 ? ` ${i}` : ''}`;
    lines.push(`"${name}",${i % 4 === 0 ? 'yes' : 'no'},${colours[i % colours.length]!}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The manifest text and every image's bytes of an output folder. */
export async function outputsOf(dir: string): Promise<{ manifest: string; images: Map<string, Buffer> }> {
  const manifest = await readFile(join(dir, 'manifest.csv'), 'utf8');
  const images = new Map<string, Buffer>();
  for (const name of await readdir(dir)) if (/\.(png|jpg|webp)$/.test(name)) images.set(name, await readFile(join(dir, name)));
  return { manifest, images };
}

/**
 * A server node in distributed mode (`serve --redis --store`) over its own real Redis and S3
 * server, with an API key; workers are the test's own (openWorkerProcess).
 */
export interface DistributedNode {
  readonly redis: TestRedis;
  readonly s3: TestS3;
  readonly workspace: TestWorkspace;
  /** The running node; replaced by restart(). */
  readonly node: TestServer;
  /** A request to the node with the API key. */
  api(method: 'get' | 'post' | 'delete', path: string): request.Test;
  /** Closes the node and starts a new one on the same config (a deploy, a crash). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** The node's one API key has `render` and `campaigns`: the queue dashboard and batch routes show every batch. */
export async function startDistributedNode(prefix: string, apiKey: string): Promise<DistributedNode> {
  const redis = await startRedis();
  const s3 = await startS3();
  // The AWS default credential chain reads these, as it would on a real node.
  Object.assign(process.env, s3.env);
  const workspace = await createWorkspace({
    server: { apiKeys: [{ name: 'ops', key: apiKey, scopes: ['render', 'campaigns'] }], watchTemplates: false },
    distributed: { redisUrl: redis.url, storeUrl: s3.storeUrl(prefix), endpoint: s3.endpoint, forcePathStyle: true, queuePrefix: prefix, chunkRows: 4 },
  });
  let node = await startServer(workspace.pipeline, workspace.config);
  // The workers share this pipeline: Chromium started before the first chunk, whose renders would
  // otherwise race its cold start for their deadline on a busy machine.
  await workspace.pipeline.warm();
  return {
    redis,
    s3,
    workspace,
    get node() {
      return node;
    },
    api: (method, path) => request(node.url)[method](path).set('Authorization', `Bearer ${apiKey}`),
    async restart() {
      await node.close();
      node = await startServer(workspace.pipeline, workspace.config);
    },
    async close() {
      await node.close();
      await workspace.close();
      await s3.close();
      await redis.close();
    },
  };
}
