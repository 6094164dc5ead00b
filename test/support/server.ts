import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { parseConfig, type MergeshotConfig, type MergeshotConfigInput } from '../../src/config/index.js';
import { createPipeline, type Pipeline } from '../../src/pipeline/index.js';
import { createServer, type MergeshotServer } from '../../src/server/index.js';
import { fixtureTemplates, repoRoot } from './pipeline.js';

/** A templates folder of its own (so tests can edit files), a cache folder, and a pipeline. */
export interface TestWorkspace {
  readonly root: string;
  readonly templatesDir: string;
  readonly config: Readonly<MergeshotConfig>;
  readonly pipeline: Pipeline;
  close(): Promise<void>;
}

export async function createWorkspace(overrides: MergeshotConfigInput = {}, options: { signed?: boolean } = {}): Promise<TestWorkspace> {
  const root = await mkdtemp(join(tmpdir(), 'mergeshot-server-'));
  const templatesDir = join(root, 'templates');
  await cp(join(fixtureTemplates, 'mini'), join(templatesDir, 'mini'), { recursive: true });
  if (options.signed) {
    await cp(join(fixtureTemplates, 'mini'), join(templatesDir, 'mini-signed'), { recursive: true });
    const manifestPath = join(templatesDir, 'mini-signed', 'template.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
    await writeFile(manifestPath, JSON.stringify({ ...manifest, access: 'signed' }, null, 2));
  }
  const config = parseConfig(
    {
      templatesDir,
      stylesDir: join(repoRoot, 'styles'),
      ...overrides,
      render: { pages: 2, ...overrides.render },
      server: { cacheDir: join(root, 'cache'), batchesDir: join(root, 'batches'), ...overrides.server },
    },
    'test',
    root,
  );
  const pipeline = createPipeline(config);
  return {
    root,
    templatesDir,
    config,
    pipeline,
    async close() {
      await pipeline.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface TestServer {
  readonly server: MergeshotServer;
  readonly http: Server;
  readonly url: string;
  readonly logs: string[];
  close(): Promise<void>;
}

/** createServer + listen on 127.0.0.1; `logs` collects every JSON log line. */
export async function startServer(pipeline: Pipeline, config: Readonly<MergeshotConfig>): Promise<TestServer> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger: Logger = pino({ level: 'info' }, sink);
  const server = await createServer(pipeline, config, { logger, metricsRegistry: new Registry() });
  const http = server.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => http.once('listening', () => resolve()));
  const { port } = http.address() as AddressInfo;
  return {
    server,
    http,
    url: `http://127.0.0.1:${port}`,
    logs,
    async close() {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await server.close();
    },
  };
}

/** One sample of a metric from Prometheus text, summed over series matching `labels`. */
export function metricValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = /\{(.*)\}/.exec(line)?.[1] ?? '';
    if (Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) total += Number(line.split(' ').pop());
  }
  return total;
}

export interface PollOptions {
  /** How long to keep trying before giving up. */
  readonly timeoutMs?: number;
  /** The pause between two reads. */
  readonly intervalMs?: number;
}

/**
 * Reads `read()` until `isDone` holds for what it returned, and returns that value. Past the
 * deadline it throws, naming `what` it waited for and the last value seen, so a stuck wait says
 * where it got to instead of running into the test timeout. An error from `read()` is not
 * retried: it fails the wait at once.
 */
export async function pollUntil<T>(what: string, read: () => Promise<T>, isDone: (value: T) => boolean, options: PollOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (isDone(value)) return value;
    if (Date.now() + intervalMs > deadline) {
      const seen = JSON.stringify(value) ?? String(value);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${seen.length > 500 ? `${seen.slice(0, 500)}…` : seen}`);
    }
    // Awaited from node:timers/promises, so no timer outlives the wait.
    await sleep(intervalMs);
  }
}

/** supertest's `.parse()` for a binary body (a zip, an image): the bytes as one Buffer. */
export function binaryParser(res: NodeJS.ReadableStream, done: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}
