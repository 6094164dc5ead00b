import { createHmac, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig, type MergeshotConfig } from '../../src/config/index.js';
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

/**
 * The studio's login over real HTTP, on a loopback bind (startServer listens on 127.0.0.1),
 * including requests shaped like the ones nginx sends (`Host: 127.0.0.1:<port>`,
 * X-Forwarded-For, X-Forwarded-Proto).
 */
describe('studio login', () => {
  const password = 'correct horse · 电池 · 🐎 "staple"';
  type StudioOverrides = Partial<MergeshotConfig['studio']>;
  const studioServer = (studio: StudioOverrides, serverOverrides: Partial<MergeshotConfig['server']> = {}) =>
    startServer(workspace.pipeline, { ...workspace.config, server: { ...workspace.config.server, host: '127.0.0.1', ...serverOverrides }, studio: { ...workspace.config.studio, ...studio } });
  const cookieOf = (answer: request.Response) => String(answer.headers['set-cookie']).split(';')[0]!;
  const login = async (url: string, secret = password) => cookieOf(await request(url).post('/login').type('form').send({ secret, next: '/' }).expect(303));
  const csrfOf = async (url: string, cookie: string) => /name="csrf-token" content="([^"]+)"/.exec((await request(url).get('/').set('Cookie', cookie).expect(200)).text)![1]!;

  it('asks a request that came through a proxy on the same host (Host 127.0.0.1:<port>, X-Forwarded-For) to log in', async () => {
    const studio = await studioServer({ password: undefined });
    try {
      const hostHeader = new URL(studio.url).host;
      const proxied = { Host: hostHeader, 'X-Forwarded-For': '203.0.113.50', 'X-Forwarded-Proto': 'http' };
      const page = await request(studio.url).get('/').set(proxied).expect(303);
      expect(page.headers.location).toBe('/login?next=%2F');
      expect(page.headers['set-cookie']).toBeUndefined();
      await request(studio.url).get('/api/templates').set(proxied).expect(401);
      await request(studio.url).get('/api/batches').set(proxied).expect(401);
      // Not even a direct loopback request is let in without a login any more.
      await request(studio.url).get('/templates/mini').expect(303);
    } finally {
      await studio.close();
    }
  });

  it('asks for a login on a loopback bind with a studio password, and takes the password from a form only', async () => {
    const studio = await studioServer({ password });
    try {
      await request(studio.url).get('/').expect(303).expect('Location', '/login?next=%2F');
      await request(studio.url).get('/api/templates').expect(401);
      expect(studio.server.studioLoginToken()).toBeUndefined();
      // The password (or a key) in a URL is refused: URLs end up in history, logs and Referer.
      const inUrl = await request(studio.url).get(`/login?token=${encodeURIComponent(password)}`).expect(401);
      expect(inUrl.headers['set-cookie']).toBeUndefined();
      const cookie = await login(studio.url);
      await request(studio.url).get('/api/templates').set('Cookie', cookie).expect(200);
    } finally {
      await studio.close();
    }
  });

  it('refuses an API key in the login URL, and accepts it in the form', async () => {
    const apiKey = 'an-api-key-0123456789-abcdef';
    const studio = await studioServer({ password }, { apiKeys: [{ name: 'studio-key', key: apiKey, scopes: ['render'] }] });
    try {
      expect((await request(studio.url).get(`/login?token=${apiKey}`).expect(401)).headers['set-cookie']).toBeUndefined();
      await request(studio.url).get('/api/templates').set('Cookie', await login(studio.url, apiKey)).expect(200);
    } finally {
      await studio.close();
    }
  });

  it('refuses the one-time token after its lifetime, unused', async () => {
    const studio = await studioServer({ password: undefined, loginLinkMs: 300 });
    try {
      const token = studio.server.studioLoginToken()!;
      expect(token).toMatch(/^[\w-]{32}$/);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const refused = await request(studio.url).get(`/login?token=${token}`).expect(401);
      expect(refused.headers['set-cookie']).toBeUndefined();
      await request(studio.url).post('/login').type('form').send({ secret: token }).expect(401);
      expect(studio.server.studioLoginToken()).toBeUndefined();
    } finally {
      await studio.close();
    }
  });

  it('behind a declared proxy (trustProxy) over HTTPS: a __Host- Secure cookie, and the client address is the forwarded one', async () => {
    const studio = await studioServer({ password }, { trustProxy: 1 });
    try {
      const nginx = { Host: new URL(studio.url).host, 'X-Forwarded-For': '203.0.113.51', 'X-Forwarded-Proto': 'https' };
      const answer = await request(studio.url).post('/login').set(nginx).type('form').send({ secret: password }).expect(303);
      const port = new URL(studio.url).port;
      expect(String(answer.headers['set-cookie'])).toMatch(new RegExp(`^__Host-mergeshot_studio_${port}=[\\w-]{43}; Max-Age=43200; Path=/; HttpOnly; Secure; SameSite=Strict$`));
      await request(studio.url).get('/api/templates').set(nginx).set('Cookie', cookieOf(answer)).expect(200);
      // The same cookie without its __Host- prefix is not this studio's over HTTPS.
      await request(studio.url).get('/api/templates').set(nginx).set('Cookie', cookieOf(answer).replace('__Host-', '')).expect(401);
      // Caddy keeps the public Host: accepted from the declared proxy…
      await request(studio.url).get('/').set({ ...nginx, Host: 'studio.example.com' }).expect(303);
    } finally {
      await studio.close();
    }
    const undeclared = await studioServer({ password });
    try {
      // …but refused (421, DNS rebinding) when no proxy was declared: a page can add X-Forwarded-For itself.
      const refused = await request(undeclared.url).get('/').set({ Host: 'studio.example.com', 'X-Forwarded-For': '203.0.113.51' }).expect(421);
      expect(refused.text).toContain('server.trustProxy');
    } finally {
      await undeclared.close();
    }
  });

  it('names the session cookie per port: a second studio on the same host does not log the first out', async () => {
    const [first, second] = await Promise.all([studioServer({ password }), studioServer({ password })]);
    try {
      const [a, b] = [await login(first.url), await login(second.url)];
      expect(a.split('=')[0]).toBe(`mergeshot_studio_${new URL(first.url).port}`);
      expect(b.split('=')[0]).toBe(`mergeshot_studio_${new URL(second.url).port}`);
      // A browser sends both cookies to both ports (cookies ignore ports): each studio finds its own.
      await request(first.url).get('/api/templates').set('Cookie', `${b}; ${a}`).expect(200);
      await request(second.url).get('/api/templates').set('Cookie', `${a}; ${b}`).expect(200);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('creates no session before a login: 1,001 requests without a cookie leave a real session in place', async () => {
    const studio = await studioServer({ password });
    try {
      const cookie = await login(studio.url);
      for (let i = 0; i < 1_001; i += 50) {
        const answers = await Promise.all(Array.from({ length: Math.min(50, 1_001 - i) }, (_, j) => request(studio.url).get((i + j) % 2 ? '/' : '/templates/mini')));
        for (const answer of answers) expect([answer.status, answer.headers['set-cookie']]).toEqual([303, undefined]);
      }
      await request(studio.url).get('/api/templates').set('Cookie', cookie).expect(200);
    } finally {
      await studio.close();
    }
  });

  /** An open GET /api/events stream with this cookie; `ended` settles when the server ends it. */
  async function openEvents(url: string, cookie: string): Promise<{ ended: Promise<void>; text: () => string; close(): void }> {
    const stream = httpRequest(new URL('/api/events', url), { headers: { Cookie: cookie } });
    stream.end();
    const response = await new Promise<IncomingMessage>((resolve, reject) => stream.once('response', resolve).once('error', reject));
    expect(response.statusCode).toBe(200);
    const chunks: string[] = [];
    response.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
    return { ended: new Promise((resolve) => response.once('end', resolve)), text: () => chunks.join(''), close: () => stream.destroy() };
  }
  const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise.then(() => 'ended' as const), new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), ms))]);

  it('ends an open event stream at logout, and leaves another session\'s stream open', async () => {
    const studio = await studioServer({ password });
    try {
      const [mine, other] = [await login(studio.url), await login(studio.url)];
      const [stream, otherStream] = [await openEvents(studio.url, mine), await openEvents(studio.url, other)];
      try {
        await request(studio.url).post('/logout').set('Cookie', mine).type('form').send({ csrf: await csrfOf(studio.url, mine) }).expect(303).expect('Location', '/login');
        expect(await within(stream.ended, 5_000)).toBe('ended');
        expect(stream.text()).toMatch(/event: session-ended\ndata: \{\}\n\n$/);
        expect(await within(otherStream.ended, 300)).toBe('open');
        await request(studio.url).get('/api/templates').set('Cookie', mine).expect(401);
      } finally {
        stream.close();
        otherStream.close();
      }
    } finally {
      await studio.close();
    }
  });

  it('ends an open event stream when its session has been idle too long', async () => {
    const studio = await studioServer({ password, sessionIdleMs: 600 });
    try {
      const stream = await openEvents(studio.url, await login(studio.url));
      try {
        expect(await within(stream.ended, 5_000)).toBe('ended');
      } finally {
        stream.close();
      }
    } finally {
      await studio.close();
    }
  });

  it('ends a session and its event stream at its absolute lifetime, however much it is used', async () => {
    const studio = await studioServer({ password, sessionIdleMs: 60_000, sessionMaxMs: 1_500 });
    try {
      const started = Date.now();
      const cookie = await login(studio.url);
      const stream = await openEvents(studio.url, cookie);
      try {
        let status = 200;
        while (status === 200 && Date.now() - started < 5_000) {
          status = (await request(studio.url).get('/api/templates').set('Cookie', cookie)).status;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(status).toBe(401);
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
        expect(await within(stream.ended, 2_000)).toBe('ended');
      } finally {
        stream.close();
      }
    } finally {
      await studio.close();
    }
  });

  describe('throttling', () => {
    const attempt = (url: string, address: string, secret: string) => request(url).post('/login').set('X-Forwarded-For', address).type('form').send({ secret });

    it('locks a failing address out briefly (429, Retry-After), never another address, and takes the right password after the lock', async () => {
      const studio = await studioServer({ password }, { trustProxy: true });
      try {
        for (let i = 0; i < 6; i += 1) await attempt(studio.url, '203.0.113.60', `wrong password ${i}`).expect(401);
        const locked = await attempt(studio.url, '203.0.113.60', password).expect(429);
        expect(locked.headers['retry-after']).toBe('1');
        expect(locked.headers['set-cookie']).toBeUndefined();
        expect(locked.text).toContain('try again in 1 s');
        // Someone else (another address) with the right password is let in meanwhile.
        await attempt(studio.url, '203.0.113.61', password).expect(303);
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        await attempt(studio.url, '203.0.113.60', password).expect(303);
        // Loading the login page costs nothing: no lock for a shared address that only reads it.
        for (let i = 0; i < 30; i += 1) await request(studio.url).get('/login').set('X-Forwarded-For', '203.0.113.62').expect(200);
      } finally {
        await studio.close();
      }
    });

    it('counts the socket address, not X-Forwarded-For, when no proxy is declared', async () => {
      const studio = await studioServer({ password });
      try {
        for (let i = 0; i < 6; i += 1) await attempt(studio.url, `198.51.100.${i}`, 'wrong password').expect(401);
        await attempt(studio.url, '198.51.100.99', password).expect(429);
      } finally {
        await studio.close();
      }
    });

    it('under a guess from many addresses, locks each failing address at its first failure and still lets the right password in', async () => {
      const studio = await studioServer({ password }, { trustProxy: true });
      try {
        for (let i = 0; i < 101; i += 1) await attempt(studio.url, `198.51.100.${i}`, `guess ${i}`).expect(401);
        await attempt(studio.url, '192.0.2.10', 'one more guess').expect(401);
        await attempt(studio.url, '192.0.2.10', 'and another').expect(429);
        await attempt(studio.url, '192.0.2.11', password).expect(303);
        // The one-time token in a URL is throttled the same way.
        await request(studio.url).get('/login?token=guessed-token').set('X-Forwarded-For', '192.0.2.12').expect(401);
        await request(studio.url).get('/login?token=guessed-token-2').set('X-Forwarded-For', '192.0.2.12').expect(429);
      } finally {
        await studio.close();
      }
    });
  });
});
