/**
 * npm run bench:http [-- --duration 10]
 *
 * The HTTP server under load, on 127.0.0.1 only, bounded in time. A child process runs the
 * servers (so the load generator does not share their event loop); this process drives them:
 *  - renderP50Ms: one pooled render (pipeline.renderOne, sequential, distinct records), measured in the child;
 *    both it and the misses are measured warm: the pages have first rendered each name of the
 *    record mix (see warmRecords), because a page's first name in a new script loads a font
 *    subset (up to ~300 ms, once per page), which is neither the HTTP path nor the render path
 *    being compared;
 *  - cache hits: autocannon on one cached /i/ URL, against express.static serving the same bytes
 *    from the same child, same connections and duration, after a warm-up of both;
 *  - cache misses: distinct records at concurrency 1, 4 and 16, each request timed (p50/p95),
 *    non-200 answers and fallbacks counted;
 *  - peak RSS of the child and its Chromium, sampled from /proc.
 * The last line is JSON, for scripts.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import express from 'express';
import { pino } from 'pino';
import { request } from 'undici';
import { loadConfig } from '../src/config/index.js';
import { createPipeline } from '../src/pipeline/index.js';
import { createServer } from '../src/server/index.js';
import { sampleTreeRss } from './rss.js';

const { values } = parseArgs({ options: { serve: { type: 'boolean', default: false }, duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } } });
const template = 'event-invite';
const preset = 'email';

const firstNames = ['Ada', 'Grace', 'محمد', '山田', 'Zoë', 'Oluwaseun', 'Ngozi', 'François', 'Björk', 'Siobhán', 'Wei', 'Ana María'];
function query(i: number): string {
  const params = new URLSearchParams({ name: `${firstNames[i % firstNames.length]} ${i}`, event: ['Design Systems Summit', 'Product Night', 'Annual Gala 2026'][i % 3]!, date: `2026-0${1 + (i % 9)}-1${i % 9}`, venue: ['Kulturbrauerei, Berlin', 'The Warehouse, London', ''][i % 3]!, vip: i % 4 === 0 ? 'yes' : 'no', preset });
  return params.toString();
}

/** Every name of the record mix twice, two renders at a time (so each page usually gets each), unmeasured. */
async function warmRecords(render: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all([0, 1].map(async () => {
    while (next < 2 * firstNames.length) await render(next++);
  }));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

if (values.serve) await serve();
else await drive();

/** Child: the mergeshot server and an express.static server with the same bytes. */
async function serve(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'mergeshot-bench-http-'));
  const config = await loadConfig({ overrides: { server: { cacheDir: join(root, 'cache'), batchesDir: join(root, 'batches'), watchTemplates: false } } });
  const pipeline = createPipeline(config);
  await pipeline.warm();
  await pipeline.renderOne({ template, data: {}, preset }); // compile + first document, outside the timing
  await warmRecords((i) => pipeline.renderOne({ template, data: Object.fromEntries(new URLSearchParams(query(200_000 + i))), preset }).then(() => undefined));
  const renders: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await pipeline.renderOne({ template, data: Object.fromEntries(new URLSearchParams(query(100_000 + i))), preset });
    renders.push(performance.now() - started);
  }
  renders.sort((a, b) => a - b);

  const server = await createServer(pipeline, config, { logger: pino({ level: 'info' }, pino.destination('/dev/null')) });
  const app = server.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => app.once('listening', resolve));
  const port = (app.address() as AddressInfo).port;
  const hitPath = `/i/${template}.jpg?${query(0)}`;
  const hit = await request(`http://127.0.0.1:${port}${hitPath}`);
  const bytes = Buffer.from(await hit.body.arrayBuffer());
  await writeFile(join(root, 'hit.jpg'), bytes);
  const staticApp = express();
  staticApp.use(express.static(root));
  const staticServer = staticApp.listen(0, '127.0.0.1');
  await new Promise((resolve) => staticServer.once('listening', resolve));
  const staticPort = (staticServer.address() as AddressInfo).port;
  process.stdout.write(`${JSON.stringify({ port, staticPort, hitPath, bytes: bytes.length, renderP50Ms: percentile(renders, 50) })}\n`);

  await new Promise((resolve) => process.once('SIGTERM', resolve));
  staticServer.close();
  await new Promise((resolve) => app.close(resolve));
  app.closeAllConnections();
  await server.close();
  await pipeline.close();
  await rm(root, { recursive: true, force: true });
}

/** Parent: drives the child. */
async function drive(): Promise<void> {
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const guard = setTimeout(() => {
    process.stderr.write('bench:http: took longer than 10 minutes; stopping\n');
    child.kill('SIGKILL');
    process.exit(1);
  }, 600_000);
  guard.unref();
  const ready = await new Promise<{ port: number; staticPort: number; hitPath: string; bytes: number; renderP50Ms: number }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
  const rss = sampleTreeRss(child.pid!);
  const base = `http://127.0.0.1:${ready.port}`;
  console.log(`bench:http: ${template} preset ${preset}, ${ready.bytes}-byte cached image, ${connections} connections, ${duration} s per run, Node ${process.version}`);

  const cannon = (url: string, seconds: number) => autocannon({ url, connections, duration: seconds, pipelining: 1 });
  await cannon(`http://127.0.0.1:${ready.staticPort}/hit.jpg`, 2);
  await cannon(`${base}${ready.hitPath}`, 2);
  const staticRun = await cannon(`http://127.0.0.1:${ready.staticPort}/hit.jpg`, duration);
  const hitRun = await cannon(`${base}${ready.hitPath}`, duration);
  const line = (name: string, run: autocannon.Result) => console.log(`${name}: ${Math.round(run.requests.average)} req/s, p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms, ${run.non2xx} non-2xx, ${run.errors} errors`);
  line('express.static', staticRun);
  line('cache hit     ', hitRun);
  console.log(`hit/static ratio: ${(hitRun.requests.average / staticRun.requests.average).toFixed(2)} (target ≥ 0.7)`);

  await warmRecords(async (i) => {
    const answer = await request(`${base}/i/${template}.jpg?${query(300_000 + i)}`);
    await answer.body.arrayBuffer();
  });
  let next = 0;
  const misses: Record<number, { p50: number; p95: number; bad: number; fallbacks: number }> = {};
  for (const [concurrency, count] of [[1, 40], [4, 40], [16, 64]] as const) {
    const latencies: number[] = [];
    let bad = 0;
    let fallbacks = 0;
    let remaining = count;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (remaining-- > 0) {
          const started = performance.now();
          const answer = await request(`${base}/i/${template}.jpg?${query(1 + next++)}`);
          await answer.body.arrayBuffer();
          latencies.push(performance.now() - started);
          if (answer.statusCode !== 200) bad += 1;
          if (answer.headers['x-mergeshot-fallback']) fallbacks += 1;
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    misses[concurrency] = { p50: percentile(latencies, 50), p95: percentile(latencies, 95), bad, fallbacks };
    console.log(`cache miss c=${String(concurrency).padEnd(2)}: p50 ${misses[concurrency]!.p50.toFixed(0)} ms, p95 ${misses[concurrency]!.p95.toFixed(0)} ms, ${count} distinct records, ${bad} non-200, ${fallbacks} fallbacks`);
  }
  console.log(`pooled render p50 ${ready.renderP50Ms.toFixed(0)} ms; miss p50 at c=1 is ${(misses[1]!.p50 / ready.renderP50Ms).toFixed(2)}× (target ≤ 1.5×)`);

  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const peakRssMb = await rss.stop();
  console.log(`peak RSS (server + Chromium): ${peakRssMb} MB (target < 1536)`);
  console.log(
    JSON.stringify({
      hitRps: Math.round(hitRun.requests.average),
      staticRps: Math.round(staticRun.requests.average),
      missP50Ms: Math.round(misses[1]!.p50),
      missP95Ms: Math.round(misses[16]!.p95),
      renderP50Ms: Math.round(ready.renderP50Ms),
      peakRssMb,
    }),
  );
}
