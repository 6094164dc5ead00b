import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type MergeshotConfig } from '../../src/config/index.js';
import { repoRoot } from '../support/pipeline.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { createWorkspace, metricValue, pollUntil, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

/**
 * Two server nodes (createServer twice, each with its own memory and disk cache) over one real
 * Redis and one real S3 server, as two `mergeshot serve --redis --store` behind a load
 * balancer. They share one pipeline so "one render" can be counted across both; the sharing,
 * locking and purging under test is all in the nodes' own layers.
 */
let redis: TestRedis;
let s3: TestS3;
let workspace: TestWorkspace;
let a: TestServer;
let b: TestServer;

function nodeConfig(name: string): Readonly<MergeshotConfig> {
  return parseConfig(
    {
      templatesDir: workspace.templatesDir,
      stylesDir: join(repoRoot, 'styles'),
      render: { pages: 2 },
      server: { cacheDir: join(workspace.root, `cache-${name}`), batchesDir: join(workspace.root, `batches-${name}`), watchTemplates: false },
      distributed: { redisUrl: redis.url, storeUrl: s3.storeUrl('nodes'), endpoint: s3.endpoint, forcePathStyle: true, queuePrefix: 'nodes', storeRetryMs: 300, storeTimeoutMs: 2_000 },
    },
    'test',
    workspace.root,
  );
}

const renders = () => workspace.pipeline.stats().renders;

/** mergeshot_render_locks_total{outcome} summed over both nodes. */
async function lockOutcomes(outcome: string): Promise<number> {
  const texts = await Promise.all([a.server.metrics.registry.metrics(), b.server.metrics.registry.metrics()]);
  return texts.reduce((sum, text) => sum + metricValue(text, 'mergeshot_render_locks_total', { outcome }), 0);
}

beforeAll(async () => {
  redis = await startRedis();
  s3 = await startS3();
  // The AWS default credential chain reads these, as it would on a real node.
  Object.assign(process.env, s3.env);
  workspace = await createWorkspace();
  a = await startServer(workspace.pipeline, nodeConfig('a'));
  b = await startServer(workspace.pipeline, nodeConfig('b'));
  await workspace.pipeline.warm();
}, 120_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await workspace?.close();
  await s3?.close();
  await redis?.close();
});

describe('server nodes in distributed mode', () => {
  it('expose the queue on /metrics: jobs by state, depth, workers alive', async () => {
    const text = (await request(a.url).get('/metrics').expect(200)).text;
    expect(text).toMatch(/^mergeshot_distributed_workers_alive 0$/m);
    expect(text).toMatch(/^mergeshot_distributed_queue_depth 0$/m);
    expect(text).toMatch(/^mergeshot_distributed_jobs\{state="waiting"\} 0$/m);
  });

  it('share one cache: an image rendered on node A is a hit on node B', async () => {
    const before = renders();
    const first = await request(a.url).get('/i/mini.png').query({ name: 'Shared Cache' }).buffer(true);
    expect(first.status).toBe(200);
    expect(first.headers['x-mergeshot-fallback']).toBeUndefined();
    expect(renders() - before).toBe(1);
    const second = await request(b.url).get('/i/mini.png').query({ name: 'Shared Cache' }).buffer(true);
    expect(second.status).toBe(200);
    expect(second.headers['x-mergeshot-fallback']).toBeUndefined();
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(Buffer.compare(second.body as Buffer, first.body as Buffer)).toBe(0);
    expect(renders() - before).toBe(1);
    expect(b.logs.some((line) => line.includes('"cache":"hit"'))).toBe(true);
  });

  it('renders 20 identical concurrent requests split over two nodes once', async () => {
    const before = renders();
    const leadersBefore = await lockOutcomes('leader');
    const waitedBefore = await lockOutcomes('waited');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => request(i % 2 ? a.url : b.url).get('/i/mini.png').query({ name: 'Twenty At Once', vip: 'yes' }).buffer(true)));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.headers['x-mergeshot-fallback']).toBeUndefined();
      expect(Buffer.compare(answer.body as Buffer, answers[0]!.body as Buffer)).toBe(0);
    }
    expect(renders() - before).toBe(1);
    // One node took the lock, the other waited for its result in the store.
    expect((await lockOutcomes('leader')) - leadersBefore).toBe(1);
    expect((await lockOutcomes('waited')) - waitedBefore).toBe(1);
  });

  it('a purge on node A reaches node B: its memory and disk drop the template, the next request renders', async () => {
    await request(a.url).get('/i/mini.png').query({ name: 'Purge Me' }).expect(200);
    await request(b.url).get('/i/mini.png').query({ name: 'Purge Me' }).expect(200);
    expect(b.server.images.store.memoryStats().entries).toBeGreaterThan(0);
    await a.server.images.store.purge({ template: 'mini' });
    await pollUntil('node B to apply the purge', async () => b.server.images.store.memoryStats().entries, (entries) => entries === 0);
    expect(b.server.images.store.stats().entries).toBe(0);
    const before = renders();
    const again = await request(b.url).get('/i/mini.png').query({ name: 'Purge Me' }).buffer(true);
    expect(again.status).toBe(200);
    expect(again.headers['x-mergeshot-fallback']).toBeUndefined();
    // Not served from the shared store either: the purge marker covers the old object.
    expect(renders() - before).toBe(1);
  });

  it('store down: image URLs answer the fallback with the reason header, then real images once it is back', async () => {
    await s3.stop();
    try {
      const down = await request(a.url).get('/i/mini.png').query({ name: 'During The Outage' }).buffer(true);
      expect(down.status).toBe(200);
      expect(down.headers['x-mergeshot-fallback']).toBe('STORE_UNAVAILABLE');
      expect(down.headers['cache-control']).toBe('no-store');
      expect(down.headers['content-type']).toBe('image/png');
    } finally {
      await s3.start();
    }
    const back = await pollUntil(
      'node A to recover by itself',
      () => request(a.url).get('/i/mini.png').query({ name: 'During The Outage' }).buffer(true),
      (answer) => answer.headers['x-mergeshot-fallback'] === undefined,
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(back.status).toBe(200);
    expect(back.headers['cache-control']).toMatch(/max-age/);
    const metrics = await a.server.metrics.registry.metrics();
    expect(metricValue(metrics, 'mergeshot_store_errors_total')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'mergeshot_store_request_duration_seconds_count', { operation: 'get' })).toBeGreaterThan(0);
    // And the image really is in the shared store: node B answers it without a render.
    const before = renders();
    await request(b.url).get('/i/mini.png').query({ name: 'During The Outage' }).expect(200);
    expect(renders() - before).toBe(0);
  });
});
