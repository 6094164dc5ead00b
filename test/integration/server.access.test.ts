import { createHmac, randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { createPipeline } from '../../src/pipeline/index.js';
import { buildImageUrl, canonicalRequest, createServer, TokenCodec, UrlSigner } from '../../src/server/index.js';
import { bundledTemplates, repoRoot } from '../support/pipeline.js';
import { createWorkspace, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

const currentKey = 'current-signing-key-0123456789';
const previousKey = 'previous-signing-key-0123456789';
const tokenKey = randomBytes(32);
let workspace: TestWorkspace;
let server: TestServer;

beforeAll(async () => {
  workspace = await createWorkspace({ server: { signingKeys: [currentKey, previousKey], tokenKey: tokenKey.toString('base64') } }, { signed: true });
  server = await startServer(workspace.pipeline, workspace.config);
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

describe('signed templates', () => {
  it('answer a URL signed with the current key, or a previous one', async () => {
    const signed = buildImageUrl('http://x', 'mini-signed', 'png', [['name', 'Ada'], ['vip', 'yes']], new UrlSigner([currentKey]));
    const ok = await request(server.url).get(pathOf(signed)).expect(200);
    expect(ok.headers['content-type']).toBe('image/png');
    const old = buildImageUrl('http://x', 'mini-signed', 'png', [['name', 'Ada'], ['vip', 'yes']], new UrlSigner([previousKey]));
    expect((await request(server.url).get(pathOf(old)).expect(200)).headers.etag).toBe(ok.headers.etag);
    // Tracking parameters appended later do not break the signature.
    await request(server.url).get(`${pathOf(signed)}&utm_source=newsletter`).expect(200);
  });

  it('refuse tampered, missing and foreign signatures with 403 and no details', async () => {
    const signed = pathOf(buildImageUrl('http://x', 'mini-signed', 'png', [['name', 'Ada']], new UrlSigner([currentKey])));
    const tampered = await request(server.url).get(signed.replace('name=Ada', 'name=Eve')).expect(403);
    expect(tampered.body).toEqual({ error: { code: 'SIGNATURE_INVALID', message: 'Forbidden.' } });
    expect(tampered.headers['content-type']).toContain('application/json');
    await request(server.url).get('/i/mini-signed.png?name=Ada').expect(403);
    await request(server.url).get(`${signed}&vip=yes`).expect(403);
    await request(server.url).get(signed.replace('/i/mini-signed.png', '/i/mini-signed.jpg')).expect(403);
    const foreign = pathOf(buildImageUrl('http://x', 'mini-signed', 'png', [['name', 'Ada']], new UrlSigner(['some-other-key-0123456789'])));
    await request(server.url).get(foreign).expect(403);
    // Open templates need no signature.
    await request(server.url).get('/i/mini.png?name=Ada').expect(200);
  });

  it('refuse a parameter given twice, which a reordering could otherwise turn into another image', async () => {
    // What an attacker holding the key could not do but a careless signer might: sign a query
    // with a name twice. The signature covers the sorted pairs, so every order of them verifies.
    const signRaw = (query: string): string => {
      const pairs = [...new URLSearchParams(query)];
      const s = createHmac('sha256', currentKey).update(canonicalRequest('/i/mini-signed.png', pairs)).digest('base64url');
      return `/i/mini-signed.png?${query}&s=${s}`;
    };
    const tries = [
      signRaw('name=Ada&name=Eve'),
      signRaw('name=Eve&name=Ada'),
      signRaw('Name=Eve&name=Ada'),
      signRaw('first_name=Eve&name=Ada&NAME=Ada'),
      signRaw('preset=original&preset=og&name=Ada'),
      signRaw('preset=og&preset=original&name=Ada'),
      signRaw('size=square&size=default&name=Ada'),
    ];
    for (const url of tries) {
      const refused = await request(server.url).get(url).expect(400);
      expect(refused.body.error.code).toBe('PARAM_REPEATED');
      expect(refused.body.error.message).toMatch(/^\/i\/mini-signed\.png: parameter "[^"]+" appears more than once; a signed URL carries each parameter once/);
      expect(refused.headers['content-type']).toContain('application/json');
    }
    // A second `s` does not sneak through either, nor does a repeat under a valid signature.
    const valid = pathOf(buildImageUrl('http://x', 'mini-signed', 'png', [['name', 'Ada']], new UrlSigner([currentKey])));
    expect((await request(server.url).get(`${valid}&s=junk`).expect(400)).body.error.field).toBe('s');
    await request(server.url).get(`${valid}&name=Eve`).expect(400);
    // Tracking parameters may repeat: they are outside the signature and fill no field.
    await request(server.url).get(`${valid}&utm_source=a&utm_source=b`).expect(200);
    // Open templates keep answering repeats (the first value wins): there is no signature to bend.
    await request(server.url).get('/i/mini.png?name=Ada&name=Eve').expect(200);
  });

  it('keep tracking parameters, which the signature does not cover, out of the fields', async () => {
    // A field that utm_source folds onto: the unsigned parameter must not fill it.
    await mkdir(join(workspace.templatesDir, 'tracked'), { recursive: true });
    await writeFile(join(workspace.templatesDir, 'tracked', 'template.html'), '<!doctype html><html><body>{{utmSource}}</body></html>');
    await writeFile(join(workspace.templatesDir, 'tracked', 'template.json'), JSON.stringify({ name: 'Tracked', width: 120, height: 40, access: 'signed', fields: { utmSource: { type: 'text', fallback: 'none' } } }));
    const signed = pathOf(buildImageUrl('http://x', 'tracked', 'png', [], new UrlSigner([currentKey])));
    const plain = await request(server.url).get(signed).expect(200);
    const tracked = await request(server.url).get(`${signed}&utm_source=Eve`).expect(200);
    expect(tracked.headers['x-mergeshot-fallback']).toBeUndefined();
    expect(tracked.headers.etag).toBe(plain.headers.etag);
  });

  it('accept one spelling of a signature only', async () => {
    // Find a signature using "-" and "_", so the standard-alphabet spelling really differs.
    let signed = '';
    let signature = '';
    for (let i = 0; !/-/.test(signature) || !/_/.test(signature); i += 1) {
      signed = pathOf(buildImageUrl('http://x', 'mini-signed', 'png', [['name', `Spelling ${i}`]], new UrlSigner([currentKey])));
      signature = new URL(`http://x${signed}`).searchParams.get('s')!;
    }
    const unsigned = signed.slice(0, signed.indexOf('&s='));
    const ok = await request(server.url).get(signed).expect(200);
    expect(ok.headers['content-type']).toBe('image/png');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const lastChar = alphabet[alphabet.indexOf(signature.at(-1)!) ^ 1]!;
    const spellings = [
      encodeURIComponent(signature.replaceAll('-', '+').replaceAll('_', '/')),
      `${signature}%3D`,
      `${signature}.`,
      `${signature}%20`,
      `${signature.slice(0, 10)}.${signature.slice(10)}`,
      `${signature.slice(0, 10)}%20${signature.slice(10)}`,
      `${signature.slice(0, -1)}${lastChar}`,
    ];
    for (const spelling of spellings) {
      const refused = await request(server.url).get(`${unsigned}&s=${spelling}`);
      expect(refused.status, spelling).toBe(403);
      expect(refused.body).toEqual({ error: { code: 'SIGNATURE_INVALID', message: 'Forbidden.' } });
    }
    // The canonical URL still answers, from the cache.
    expect((await request(server.url).get(signed).expect(200)).headers.etag).toBe(ok.headers.etag);
  });

  it('stop a strict server at start when no signing key is configured', async () => {
    const config = { ...workspace.config, server: { ...workspace.config.server, signingKeys: [], strict: true } };
    await expect(createServer(workspace.pipeline, config, { logger: pino({ level: 'silent' }), metricsRegistry: new Registry() })).rejects.toThrow(
      'template "mini-signed" has "access": "signed" but no signing key is configured: set MERGESHOT_SIGNING_KEYS',
    );
  });
});

describe('boot', () => {
  it('accepts the bundled templates', async () => {
    const pipeline = createPipeline(parseConfig({ templatesDir: bundledTemplates, stylesDir: join(repoRoot, 'styles'), server: { cacheDir: join(workspace.root, 'bundled-cache'), batchesDir: join(workspace.root, 'bundled-batches') } }, 'test', repoRoot));
    try {
      const bundled = await createServer(pipeline, pipeline.config, { logger: pino({ level: 'silent' }), metricsRegistry: new Registry() });
      await bundled.close();
    } finally {
      await pipeline.close();
    }
  });
});

describe('GET /t/<token>.<ext>', () => {
  it('renders what the token carries, with no field value in the URL', async () => {
    const codec = new TokenCodec(tokenKey);
    const token = codec.encode({ template: 'mini-signed', data: { name: 'Ada Lovelace', vip: 'yes' }, size: 'square' });
    const url = `/t/${token}.png`;
    expect(url).not.toMatch(/Ada|Lovelace/);
    const answer = await request(server.url).get(url).expect(200);
    expect(answer.headers['content-type']).toBe('image/png');
    // The same record through a signed /i/ URL is the same cache entry.
    const signed = buildImageUrl('http://x', 'mini-signed', 'png', [['name', 'Ada Lovelace'], ['vip', 'yes'], ['size', 'square']], new UrlSigner([currentKey]));
    expect((await request(server.url).get(pathOf(signed)).expect(200)).headers.etag).toBe(answer.headers.etag);
    expect(server.logs.join('\n')).not.toContain(token);
    expect(server.logs.join('\n')).toContain('/t/[token].png');
  });

  it('refuses tampered and foreign tokens with 403 and no details', async () => {
    const token = new TokenCodec(tokenKey).encode({ template: 'mini', data: { name: 'Ada' } });
    const tampered = `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
    const answer = await request(server.url).get(`/t/${tampered}.png`).expect(403);
    expect(answer.body).toEqual({ error: { code: 'TOKEN_INVALID', message: 'Forbidden.' } });
    await request(server.url).get(`/t/${new TokenCodec(randomBytes(32)).encode({ template: 'mini', data: {} })}.png`).expect(403);
    await request(server.url).get('/t/not-a-token.png').expect(403);
    await request(server.url).get(`/t/${token}.gif`).expect(404);
  });
});
