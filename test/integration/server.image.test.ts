import request from 'supertest';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, metricValue, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

let workspace: TestWorkspace;
let server: TestServer;

beforeAll(async () => {
  workspace = await createWorkspace();
  server = await startServer(workspace.pipeline, workspace.config);
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

async function metrics(): Promise<string> {
  return (await request(server.url).get('/metrics').expect(200)).text;
}

describe('GET /i/<template>.<ext>', () => {
  it('renders the image with exact headers, then answers from the cache', async () => {
    const first = await request(server.url).get('/i/mini.png').query({ name: 'Ada Lovelace', vip: 'yes' }).expect(200);
    expect(first.headers['content-type']).toBe('image/png');
    expect(Number(first.headers['content-length'])).toBe(first.body.length);
    expect(first.headers['cache-control']).toBe('public, max-age=86400');
    expect(first.headers.etag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(first.headers['x-mergeshot-fallback']).toBeUndefined();
    expect(first.headers['x-request-id']).toBeTruthy();
    expect(first.headers['cross-origin-resource-policy']).toBe('cross-origin');
    const meta = await sharp(first.body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 400, 200]);

    const rendersBefore = metricValue(await metrics(), 'mergeshot_renders_total', { template: 'mini' });
    // Same record, other parameter order, tracking parameters added, field spelled like a CSV header.
    const again = await request(server.url).get('/i/mini.png?utm_source=newsletter&VIP=yes&Name=Ada%20Lovelace&mc_eid=123').expect(200);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(Buffer.compare(again.body, first.body)).toBe(0);
    const text = await metrics();
    expect(metricValue(text, 'mergeshot_renders_total', { template: 'mini' })).toBe(rendersBefore);
    expect(metricValue(text, 'mergeshot_cache_hits_total')).toBeGreaterThanOrEqual(1);
  });

  it('answers 304 to If-None-Match with the key', async () => {
    const first = await request(server.url).get('/i/mini.webp').query({ name: 'Grace' }).expect(200);
    expect(first.headers['content-type']).toBe('image/webp');
    const notModified = await request(server.url).get('/i/mini.webp').query({ name: 'Grace' }).set('If-None-Match', first.headers.etag!).expect(304);
    expect(notModified.headers.etag).toBe(first.headers.etag);
    expect(notModified.text ?? '').toBe('');
    await request(server.url).get('/i/mini.webp').query({ name: 'Grace' }).set('If-None-Match', '"something-else"').expect(200);
  });

  it('renders unreplaced merge tags of several platforms as the fallback values', async () => {
    const fallback = await request(server.url).get('/i/mini.jpg').expect(200);
    expect(fallback.headers['content-type']).toBe('image/jpeg');
    const tags = ['*|FNAME|*', '{{ first_name }}', '{{contact.FIRSTNAME}}', '{{${first_name}}}', '%%FirstName%%', '%FIRSTNAME%', '[FirstName]', '{{ person.first_name|default:"" }}'];
    for (const tag of tags) {
      const answer = await request(server.url).get('/i/mini.jpg').query({ name: tag, color: '*|COLOR|*', vip: '%%VIP%%' }).expect(200);
      expect(answer.headers.etag, tag).toBe(fallback.headers.etag);
      expect(answer.headers['x-mergeshot-fallback']).toBeUndefined();
    }
    // The fallback value spelled out is the same record, so the same image.
    const spelled = await request(server.url).get('/i/mini.jpg').query({ name: 'Friend' }).expect(200);
    expect(spelled.headers.etag).toBe(fallback.headers.etag);
  });

  it('treats values outside the field constraints as invalid, never as a crash', async () => {
    const long = await request(server.url).get('/i/mini.png').query({ name: 'x'.repeat(5000), color: 'javascript:alert(1)', vip: 'maybe' }).expect(200);
    expect(long.headers['x-mergeshot-fallback']).toBeUndefined();
    const repeated = await request(server.url).get('/i/mini.png?name=A&name=B&__proto__=x&constructor=y').expect(200);
    expect(repeated.headers['content-type']).toBe('image/png');
  });

  it('renders 20 identical concurrent requests once', async () => {
    const before = metricValue(await metrics(), 'mergeshot_renders_total', { template: 'mini' });
    const answers = await Promise.all(Array.from({ length: 20 }, () => request(server.url).get('/i/mini.png').query({ name: 'Concurrent Carla', size: 'square' })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((answer) => answer.headers.etag)).size).toBe(1);
    expect(metricValue(await metrics(), 'mergeshot_renders_total', { template: 'mini' })).toBe(before + 1);
    const meta = await sharp(answers[0]!.body).metadata();
    expect([meta.width, meta.height]).toEqual([300, 300]);
  });

  it('chooses the preset from the extension and refuses a mismatch', async () => {
    const email = await request(server.url).get('/i/mini.jpg').query({ name: 'Preset Pia', preset: 'email' }).expect(200);
    expect((await sharp(email.body).metadata()).width).toBe(1200);
    const mismatch = await request(server.url).get('/i/mini.png').query({ preset: 'email' }).expect(400);
    expect(mismatch.body.error.code).toBe('USAGE');
    expect(mismatch.body.error.hint).toContain('.jpg'); // the fix travels as the hint
    expect((await request(server.url).get('/i/mini.png').query({ preset: 'nope' }).expect(400)).body.error.code).toBe('PRESET_UNKNOWN');
    expect((await request(server.url).get('/i/mini.png').query({ size: 'huge' }).expect(400)).body.error.code).toBe('SIZE_UNKNOWN');
  });

  it('answers 404 for unknown templates, paths and extensions, without details', async () => {
    const unknown = await request(server.url).get('/i/nope.png').expect(404);
    expect(unknown.body).toEqual({ error: { code: 'TEMPLATE_NOT_FOUND', message: 'No such template.' } });
    await request(server.url).get('/i/..%2F..%2Fetc.png').expect(404);
    await request(server.url).get('/i/mini.gif').expect(404);
    await request(server.url).get('/nothing-here').expect(404);
  });

  it('keeps field values and query strings out of the logs', async () => {
    await request(server.url).get('/i/mini.png').query({ name: 'Secretive Sam', utm_campaign: 'spring' }).expect(200);
    const lines = server.logs.join('\n');
    expect(lines).toContain('"path":"/i/mini.png"');
    expect(lines).not.toContain('Secretive');
    expect(lines).not.toContain('utm_campaign');
    const requestLine = server.logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'request completed' && line.cache === 'miss');
    expect(requestLine).toMatchObject({ template: 'mini', preset: 'original', size: 'default' });
  });

  it('serves a restarted server from the cache on disk without rendering', async () => {
    const first = await request(server.url).get('/i/mini.png').query({ name: 'Persistent Pat' }).expect(200);
    await server.server.images.settled(); // the disk write does not hold up the response
    const second = await startServer(workspace.pipeline, workspace.config);
    try {
      const answer = await request(second.url).get('/i/mini.png').query({ name: 'Persistent Pat' }).expect(200);
      expect(answer.headers.etag).toBe(first.headers.etag);
      const text = (await request(second.url).get('/metrics')).text;
      expect(metricValue(text, 'mergeshot_renders_total')).toBe(0);
      expect(metricValue(text, 'mergeshot_cache_hits_total')).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('answers /healthz and /readyz', async () => {
    expect((await request(server.url).get('/healthz').expect(200)).body).toEqual({ status: 'ok' });
    expect((await request(server.url).get('/readyz').expect(200)).body.status).toBe('ready');
    const text = await metrics();
    for (const name of ['mergeshot_queue_depth', 'mergeshot_pool_pages_in_use', 'mergeshot_chromium_restarts_total', 'mergeshot_http_request_duration_seconds_count', 'mergeshot_render_duration_seconds_count', 'mergeshot_cache_misses_total']) {
      expect(text).toContain(name);
    }
  });
});
