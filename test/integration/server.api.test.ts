import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meanColour } from '../support/pipeline.js';
import { createWorkspace, metricValue, pollUntil, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

const apiKey = 'test-api-key-0123456789';
let workspace: TestWorkspace;
let server: TestServer;

beforeAll(async () => {
  // Purge needs `admin`, which implies every other scope.
  workspace = await createWorkspace({ server: { apiKeys: ['other-api-key-0123456789', { name: 'admin', key: apiKey, scopes: ['admin'] }], bodyMaxBytes: 4096 } });
  server = await startServer(workspace.pipeline, workspace.config);
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

const api = (method: 'get' | 'post', path: string) => request(server.url)[method](path).set('Authorization', `Bearer ${apiKey}`);

async function renders(): Promise<number> {
  return metricValue((await request(server.url).get('/metrics')).text, 'mergeshot_renders_total', { template: 'mini' });
}

describe('/api', () => {
  it('needs a known API key', async () => {
    const missing = await request(server.url).get('/api/templates').expect(401);
    expect(missing.body).toEqual({ error: { code: 'UNAUTHORIZED', message: 'A valid API key is required: Authorization: Bearer <key>.' } });
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    await request(server.url).get('/api/templates').set('Authorization', 'Bearer wrong-key-0123456789').expect(401);
    await request(server.url).get('/api/templates').set('Authorization', apiKey).expect(401);
  });

  it('limits requests per key', async () => {
    const limited = await startServer(workspace.pipeline, { ...workspace.config, server: { ...workspace.config.server, apiRequestsPerMinute: 2 } });
    try {
      for (let i = 0; i < 2; i++) await request(limited.url).get('/api/templates').set('Authorization', `Bearer ${apiKey}`).expect(200);
      const refused = await request(limited.url).get('/api/templates').set('Authorization', `Bearer ${apiKey}`).expect(429);
      expect(refused.body.error.code).toBe('RATE_LIMITED');
      expect(refused.headers['retry-after']).toBeTruthy();
      await request(limited.url).get('/api/templates').set('Authorization', 'Bearer other-api-key-0123456789').expect(200);
    } finally {
      await limited.close();
    }
  });

  it('POST /api/render names characters no font can draw in the warnings header', async () => {
    const answer = await api('post', '/api/render').send({ template: 'mini', data: { name: 'Ada \u{10FFFD}' }, preset: 'original' }).expect(200);
    expect(answer.headers['x-mergeshot-warnings']!.split(',')).toContain('missing-glyph:name');
    const clean = await api('post', '/api/render').send({ template: 'mini', data: { name: 'தமிழ்செல்வி' }, preset: 'original' }).expect(200);
    expect(clean.headers['x-mergeshot-warnings']!.split(',')).not.toContain('missing-glyph:name');
  });

  it('POST /api/render answers image bytes with the warnings', async () => {
    const answer = await api('post', '/api/render').send({ template: 'mini', data: { name: '*|FNAME|*', color: 'not a colour' }, preset: 'web', size: 'square' }).expect(200);
    expect(answer.headers['content-type']).toBe('image/webp');
    expect(answer.headers['x-mergeshot-warnings']!.split(',')).toEqual(expect.arrayContaining(['unreplaced-merge-tag:name', 'fallback:name', 'invalid:color', 'fallback:color']));
    expect(answer.headers['x-mergeshot-cache']).toBe('miss');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    const meta = await sharp(answer.body as Buffer).metadata();
    expect([meta.width, meta.height]).toEqual([300, 300]);
    const again = await api('post', '/api/render').send({ template: 'mini', data: { name: '*|FNAME|*', color: 'not a colour' }, preset: 'web', size: 'square' }).expect(200);
    expect(again.headers['x-mergeshot-cache']).toBe('hit');
    expect(again.headers['x-mergeshot-warnings']).toBe(answer.headers['x-mergeshot-warnings']);
  });

  it('answers errors as JSON with a code, never a stack', async () => {
    const unknownKey = await api('post', '/api/render').send({ template: 'mini', data: {}, colour: 'red' }).expect(400);
    expect(unknownKey.body.error.code).toBe('USAGE');
    expect(unknownKey.body.error.message).toContain('unknown key "colour"');
    expect(JSON.stringify(unknownKey.body)).not.toMatch(/at .*\.ts:\d+/);
    const badJson = await api('post', '/api/render').set('Content-Type', 'application/json').send('{"template":').expect(400);
    expect(badJson.body).toEqual({ error: { code: 'USAGE', message: 'The request body is not valid JSON.' } });
    const tooLarge = await api('post', '/api/render').send({ template: 'mini', data: { name: 'x'.repeat(10_000) } }).expect(413);
    expect(tooLarge.body.error.code).toBe('USAGE');
    expect((await api('post', '/api/render').send({ template: 'nope' }).expect(404)).body.error).toEqual({ code: 'TEMPLATE_NOT_FOUND', message: 'No such template.' });
    expect((await api('post', '/api/render').send({ template: '../etc' }).expect(400)).body.error.field).toBe('template');
    expect((await api('post', '/api/render').send({ template: 'mini', preset: 'nope' }).expect(400)).body.error.code).toBe('PRESET_UNKNOWN');
    await api('get', '/api/nothing').expect(404);
  });

  it('POST /api/render refuses data nested deeper than 32 levels with 400, naming the limit, and accepts 32', async () => {
    // Arrays keep a 1,000-level body under this server's 4 KiB body cap.
    const nested = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
    const send = (levels: number) => api('post', '/api/render').set('Content-Type', 'application/json').send(`{"template":"mini","preset":"original","data":{"name":"Ada","photo":${nested(levels)}}}`);
    const message = 'body: data.photo nests objects or arrays more than 32 levels deep (the limit). Record values are text, numbers or booleans: send flat values.';
    expect((await send(1_000).expect(400)).body.error).toEqual({ code: 'USAGE', field: 'data.photo', message });
    expect((await send(33).expect(400)).body.error.message).toBe(message);
    // At the limit the value is merely not an image: the field falls back, the render succeeds.
    expect((await send(32).expect(200)).headers['x-mergeshot-warnings']!.split(',')).toContain('invalid:photo');
  });

  it('GET /api/templates and /api/templates/:id describe the templates', async () => {
    const list = await api('get', '/api/templates').expect(200);
    expect(list.body.templates).toEqual([expect.objectContaining({ id: 'mini', name: 'Mini', width: 400, height: 200, access: 'open', fields: ['name', 'vip', 'photo', 'color'] })]);
    const detail = await api('get', '/api/templates/mini').expect(200);
    expect(detail.body.fields.name).toEqual({ type: 'text', fallback: 'Friend', maxLength: 60 });
    expect(detail.body.sizes).toEqual({ square: { width: 300, height: 300 } });
    expect(detail.body.samples.typical.name).toBe('Ada Lovelace');
    expect(detail.body.presets.email).toMatchObject({ format: 'jpeg' });
    await api('get', '/api/templates/nope').expect(404);
  });

  it('POST /api/purge drops cached images so the next request renders again', async () => {
    const first = await request(server.url).get('/i/mini.png').query({ name: 'Purged Paula' }).expect(200);
    const before = await renders();
    await request(server.url).get('/i/mini.png').query({ name: 'Purged Paula' }).expect(200);
    expect(await renders()).toBe(before);
    const purged = await api('post', '/api/purge').send({ template: 'mini' }).expect(200);
    expect(purged.body.purged).toBeGreaterThan(0);
    const after = await request(server.url).get('/i/mini.png').query({ name: 'Purged Paula' }).expect(200);
    expect(await renders()).toBe(before + 1);
    expect(after.headers.etag).toBe(first.headers.etag);
    expect((await api('post', '/api/purge').send({}).expect(200)).body.template).toBeNull();
    await api('post', '/api/purge').send({ template: 'nope' }).expect(404);
  });

  it('a template edit changes the version, the key and the image', async () => {
    const before = await request(server.url).get('/i/mini.png').query({ name: 'Edited Ed' }).expect(200);
    expect(await meanColour(before.body as Buffer, { left: 150, top: 100, width: 20, height: 20 })).toEqual([255, 255, 255]);
    const htmlPath = join(workspace.templatesDir, 'mini', 'template.html');
    const html = await readFile(htmlPath, 'utf8');
    await writeFile(htmlPath, html.replace('background: #ffffff;', 'background: #000000;'));
    const after = await pollUntil(
      'the edited template to give a new ETag',
      async () => {
        const answer = await request(server.url).get('/i/mini.png').query({ name: 'Edited Ed' }).expect(200);
        return { etag: String(answer.headers.etag), body: answer.body as Buffer };
      },
      (answer) => answer.etag !== before.headers.etag,
      { timeoutMs: 5_000, intervalMs: 100 },
    );
    expect(await meanColour(after.body, { left: 150, top: 100, width: 20, height: 20 })).toEqual([0, 0, 0]);
  });
});
