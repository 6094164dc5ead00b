import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, pollUntil, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

/**
 * The studio's server side over real HTTP (supertest) with a real pipeline: pages and their
 * guards, the browser modules served from source, the one-time login, the hot-reload stream,
 * and the API calls the template page makes (problem, cases, inspect, check, url).
 */
let workspace: TestWorkspace;
let server: TestServer;
const password = 'a studio password: «Ünïcødé» 密码 🔑';

beforeAll(async () => {
  workspace = await createWorkspace({ server: { host: '127.0.0.1', tokenKey: randomBytes(32).toString('base64') }, studio: { password } });
  server = await startServer(workspace.pipeline, workspace.config);
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

/** A studio session: logged in with the password, its cookie and the CSRF token the gallery page hands out. */
async function session(): Promise<{ cookie: string; csrf: string }> {
  const login = await request(server.url).post('/login').type('form').send({ secret: password, next: '/' }).expect(303);
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  const page = await request(server.url).get('/').set('Cookie', cookie).expect(200);
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(page.text)![1]!;
  return { cookie, csrf };
}

describe('studio pages', () => {
  it('serves the gallery after a login, with a session cookie named for the port, a CSRF token and a strict CSP', async () => {
    await request(server.url).get('/').expect(303).expect('Location', '/login?next=%2F');
    const login = await request(server.url).post('/login').type('form').send({ secret: password, next: '/' }).expect(303);
    const port = new URL(server.url).port;
    expect(String(login.headers['set-cookie'])).toMatch(new RegExp(`^mergeshot_studio_${port}=[\\w-]{43}; Max-Age=\\d+; Path=/; HttpOnly; SameSite=Strict$`));
    const page = await request(server.url).get('/').set('Cookie', String(login.headers['set-cookie']).split(';')[0]!).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['set-cookie']).toBeUndefined();
    expect(page.text).toMatch(/<meta name="csrf-token" content="[\w-]{43}">/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('refuses a loopback studio page asked for under another host name (DNS rebinding)', async () => {
    const page = await request(server.url).get('/templates/mini').set('Host', 'rebind.example:3000').expect(421);
    expect(page.headers['set-cookie']).toBeUndefined();
  });

  it('serves the browser modules transpiled from their TypeScript source, and nothing else from disk', async () => {
    const main = await request(server.url).get('/studio/ui/main.js').expect(200);
    expect(main.headers['content-type']).toMatch(/^text\/javascript/);
    expect(main.text).toContain('connectEvents');
    expect(main.text).not.toMatch(/document\.getElementById\("main"\)!/); // the non-null assertion is TypeScript
    await request(server.url).get('/studio/ui/studio.css').expect(200).expect('Content-Type', /text\/css/);
    await request(server.url).get('/studio/ui/nothing.js').expect(404);
    await request(server.url).get('/studio/ui/..%2Faccess.js').expect(404);
    await request(server.url).get('/studio/ui/access.ts').expect(404);
  });

  it('logs in once with the one-time URL on a loopback bind without a password', async () => {
    const firstRun = await startServer(workspace.pipeline, { ...workspace.config, studio: { ...workspace.config.studio, password: undefined } });
    try {
      const token = firstRun.server.studioLoginToken()!;
      expect(token).toMatch(/^[\w-]{32}$/);
      await request(firstRun.url).get('/').expect(303).expect('Location', '/login?next=%2F');
      const login = await request(firstRun.url).get(`/login?token=${token}&next=/templates/mini`).expect(303);
      expect(login.headers.location).toBe('/templates/mini');
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      await request(firstRun.url).get('/api/templates').set('Cookie', cookie).expect(200);
      expect(firstRun.server.studioLoginToken()).toBeUndefined();
      await request(firstRun.url).get(`/login?token=${token}`).expect(401);
      // `next` never leaves the server: no open redirect through the login.
      await request(firstRun.url).post('/login').type('form').send({ secret: 'wrong', next: '//evil.example/' }).expect(401);
    } finally {
      await firstRun.close();
    }
  });
});

describe('studio API', () => {
  it('announces a template edit on /api/events with the template id', async () => {
    const { cookie } = await session();
    const events: string[] = [];
    const url = new URL('/api/events', server.url);
    const stream = httpRequest(url, { headers: { Cookie: cookie } });
    stream.end();
    const response = await new Promise<import('node:http').IncomingMessage>((resolve) => stream.once('response', resolve));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream');
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => events.push(chunk));
    try {
      await pollUntil('the stream to open', async () => events.join(''), (text) => text.includes(': connected'));
      const css = join(workspace.templatesDir, 'mini', 'template.html');
      await writeFile(css, `${await readFile(css, 'utf8')}\n<!-- edited -->\n`);
      const text = await pollUntil('a templates event', async () => events.join(''), (all) => all.includes('event: templates'));
      expect(text).toContain('data: {"ids":["mini"]}');
    } finally {
      stream.destroy();
    }
  });

  it('describes a broken template with its file, line and excerpt', async () => {
    const { cookie, csrf } = await session();
    const file = join(workspace.templatesDir, 'mini', 'template.html');
    const original = await readFile(file, 'utf8');
    try {
      await request(server.url).get('/api/templates/mini/problem').set('Cookie', cookie).expect(200, { problem: null });
      const broken = original.replace('{{name}}</div>', '{{name}</div>');
      await writeFile(file, broken);
      // Re-read now rather than wait for the watcher.
      await request(server.url).post('/api/purge').set('Cookie', cookie).set('X-CSRF-Token', csrf).send({}).expect(200);
      const line = broken.split('\n').findIndex((text) => text.includes('{{name}</div>')) + 1;
      const { body } = await request(server.url).get('/api/templates/mini/problem').set('Cookie', cookie).expect(200);
      expect(body.problem).toMatchObject({ file: 'template.html', line });
      expect(body.problem.message).toMatch(/^template\.html: Parse error on line \d+/);
      expect(body.problem.message).not.toContain(workspace.root);
      expect(body.problem.excerpt).toContain(`${String(line).padStart(4)} |`);
      expect(body.problem.excerpt).toContain('{{name}</div>');
    } finally {
      await writeFile(file, original);
    }
  });

  it('lists the samples and generated edge cases, and the fields used but not declared', async () => {
    const { cookie } = await session();
    const { body } = await request(server.url).get('/api/templates/mini/cases').set('Cookie', cookie).expect(200);
    const names = (body.records as { name: string }[]).map((r) => r.name);
    expect(names.slice(0, 3)).toEqual(['typical', 'generated:max-length', 'generated:missing']);
    expect(names).toContain('generated:image-failed');
    expect(body.undeclared).toEqual([]);
  });

  it('inspects one record: a lossless image and the rendered rules found on it', async () => {
    const { cookie, csrf } = await session();
    const { body } = await request(server.url).post('/api/templates/mini/inspect').set('Cookie', cookie).set('X-CSRF-Token', csrf).send({ name: 'broken photo', data: { name: 'Ada', photo: 'data:image/png;base64,bm90IGFuIGltYWdl' } }).expect(200);
    expect(body.image).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
    expect([body.width, body.height]).toEqual([400, 200]);
    expect(body.warnings.map((w: { code: string; field: string }) => `${w.code}:${w.field}`)).toContain('image-failed:photo');
  });

  it('builds merge-tag, signed and token URLs, and says what is missing for signing', async () => {
    const { cookie, csrf } = await session();
    const post = (body: object) => request(server.url).post('/api/templates/mini/url').set('Cookie', cookie).set('X-CSRF-Token', csrf).send(body);
    const tags = (await post({ esp: 'mailchimp', base: 'https://img.example.com' }).expect(200)).body;
    expect(tags.url).toBe('https://img.example.com/i/mini.jpg?name=*|URL:NAME|*&vip=*|URL:VIP|*&photo=*|URL:PHOTO|*&color=*|URL:COLOR|*');
    expect(tags.length).toBe(tags.url.length);
    expect(tags.img).toMatch(/^<img src="https:\/\/img\.example\.com\/i\/mini\.jpg\?name=\*\|URL:NAME\|\*&amp;vip=/);

    const signed = await post({ mode: 'signed', data: { name: 'Ada' } }).expect(400);
    expect(signed.body.error.message).toContain('MERGESHOT_SIGNING_KEYS');

    const token = (await post({ mode: 'token', data: { name: 'Ada Lovelace' } }).expect(200)).body;
    expect(token.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/t\/[\w-]+\.png$/);
    const image = await request(server.url).get(new URL(token.url).pathname).expect(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect((await request(server.url).get('/api/platforms').set('Cookie', cookie).expect(200)).body.platforms).toContainEqual({ id: 'klaviyo', label: 'Klaviyo' });
  });

  it('runs mergeshot check for the gallery and the grid, once per template version', async () => {
    const { cookie } = await session();
    const [first, second] = await Promise.all([request(server.url).get('/api/templates/mini/check').set('Cookie', cookie), request(server.url).get('/api/templates/mini/check').set('Cookie', cookie)]);
    expect(first.status).toBe(200);
    expect(first.body.template).toBe('mini');
    expect(first.body.records).toContain('generated:rtl');
    expect(first.body.dir).toBeUndefined();
    // The second asked while the first ran: the same run answered both.
    expect(second.body.durationMs).toBe(first.body.durationMs);
  });
});
