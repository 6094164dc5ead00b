import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenderError } from '../../src/errors/index.js';
import type { Pipeline } from '../../src/pipeline/index.js';
import { createWorkspace, metricValue, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

const apiKey = 'test-api-key-0123456789';
let workspace: TestWorkspace;
let server: TestServer;
let fallbackBytes: Buffer;

beforeAll(async () => {
  // One page and no waiting room: the second concurrent render overflows the queue.
  workspace = await createWorkspace({ render: { pages: 1, maxQueue: 0 }, server: { apiKeys: [apiKey] } });
  await mkdir(join(workspace.templatesDir, 'strict'), { recursive: true });
  await writeFile(join(workspace.templatesDir, 'strict', 'template.html'), '<!doctype html><html><body>{{code}}</body></html>');
  await writeFile(join(workspace.templatesDir, 'strict', 'template.json'), JSON.stringify({ name: 'Strict', width: 320, height: 100, fields: { code: { type: 'text', required: true } } }));
  const real = workspace.pipeline;
  // A render that fails on demand, the way a timeout or a crash would.
  const failing: Pipeline = {
    ...real,
    renderOne: (req) => ((req.prepared?.record.name ?? req.data?.name) === 'boom' ? Promise.reject(new RenderError('RENDER_TIMEOUT', 'forced by the test')) : real.renderOne(req)),
  };
  server = await startServer(failing, workspace.config);
  fallbackBytes = (await request(server.url).get('/i/mini.png').expect(200)).body as Buffer;
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

describe('never a broken image', () => {
  it('answers a failed render with the fallback image, no-store and the reason', async () => {
    const answer = await request(server.url).get('/i/mini.png').query({ name: 'boom' }).expect(200);
    expect(answer.headers['x-mergeshot-fallback']).toBe('RENDER_TIMEOUT');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers.etag).toBeUndefined();
    expect(answer.headers['content-type']).toBe('image/png');
    expect(Buffer.compare(answer.body as Buffer, fallbackBytes)).toBe(0);
    const text = (await request(server.url).get('/metrics')).text;
    expect(metricValue(text, 'mergeshot_fallbacks_total', { reason: 'RENDER_TIMEOUT' })).toBe(1);
    expect(metricValue(text, 'mergeshot_renders_total', { outcome: 'failed' })).toBe(1);
    // The failure is not cached: the same URL is tried again next time.
    expect((await request(server.url).get('/i/mini.png').query({ name: 'boom' })).headers['x-mergeshot-fallback']).toBe('RENDER_TIMEOUT');
  });

  it('answers a blank image of the right size when even the fallback cannot render', async () => {
    const answer = await request(server.url).get('/i/strict.png').expect(200);
    expect(answer.headers['x-mergeshot-fallback']).toBe('FIELD_REQUIRED');
    expect(answer.headers['cache-control']).toBe('no-store');
    const meta = await sharp(answer.body as Buffer).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 320, 100]);
    const jpeg = await request(server.url).get('/i/strict.jpg').expect(200);
    expect(jpeg.headers['content-type']).toBe('image/jpeg');
    expect((await sharp(jpeg.body as Buffer).metadata()).width).toBe(1200);
  });

  it('answers overflow of the render queue with the fallback image on image routes', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => request(server.url).get('/i/mini.png').query({ name: `Queue ${i}` })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(200));
    const overflowed = answers.filter((answer) => answer.headers['x-mergeshot-fallback'] === 'POOL_QUEUE_FULL');
    expect(overflowed.length).toBeGreaterThan(0);
    for (const answer of overflowed) {
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(Buffer.compare(answer.body as Buffer, fallbackBytes)).toBe(0);
    }
    expect(answers.some((answer) => answer.headers['x-mergeshot-fallback'] === undefined)).toBe(true);
  });

  it('answers overflow with 503 and Retry-After on the API', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => request(server.url).post('/api/render').set('Authorization', `Bearer ${apiKey}`).send({ template: 'mini', data: { name: `Api ${i}` } })),
    );
    const overloaded = answers.filter((answer) => answer.status === 503);
    expect(overloaded.length).toBeGreaterThan(0);
    for (const answer of overloaded) {
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.body).toEqual({ error: { code: 'POOL_QUEUE_FULL', message: 'Too many renders are waiting.' } });
    }
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThan(0);
  });

  it('limits cache misses per address with the fallback image, never hits', async () => {
    const limited = await startServer(workspace.pipeline, { ...workspace.config, server: { ...workspace.config.server, missesPerMinute: 2 } });
    try {
      const first = await request(limited.url).get('/i/mini.png').query({ name: 'Limit 1' });
      await request(limited.url).get('/i/mini.png').query({ name: 'Limit 2' });
      const third = await request(limited.url).get('/i/mini.png').query({ name: 'Limit 3' }).expect(200);
      expect(third.headers['x-mergeshot-fallback']).toBe('RATE_LIMITED');
      const hit = await request(limited.url).get('/i/mini.png').query({ name: 'Limit 1' }).expect(200);
      expect(hit.headers['x-mergeshot-fallback']).toBeUndefined();
      expect(hit.headers.etag).toBe(first.headers.etag);
    } finally {
      await limited.close();
    }
  });
});
