import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryParser, createWorkspace, pollUntil, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

/**
 * API key scopes over real HTTP: a render key reads only the batches it made, never an upload
 * or another key's zip; `campaigns` reads every batch and upload; `admin` purges and accepts.
 * Wrong Bearer keys are throttled per address. Personal data is answered no-store.
 */

const keys = {
  /** Today's form, a plain string: render only. */
  legacy: 'legacy-plain-key-0123456789+/=',
  ci: 'ci-render-key-0123456789abcdef',
  marketing: 'marketing-campaigns-key-0123456789',
  ops: 'ops-admin-key-0123456789abcdef',
} as const;

let workspace: TestWorkspace;
let server: TestServer;

beforeAll(async () => {
  workspace = await createWorkspace({
    server: {
      apiKeys: [keys.legacy, { name: 'ci', key: keys.ci, scopes: ['render'] }, { name: 'marketing', key: keys.marketing, scopes: ['campaigns'] }, { name: 'ops', key: keys.ops, scopes: ['admin'] }],
    },
  });
  server = await startServer(workspace.pipeline, workspace.config);
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

type Who = keyof typeof keys;
const as = (who: Who, method: 'get' | 'post' | 'delete', path: string, target: TestServer = server) => request(target.url)[method](path).set('Authorization', `Bearer ${keys[who]}`);

/** Hostile, real-looking rows: RTL, CJK, emoji, stray quotes, an empty name. */
const rows = [{ name: 'أحمد "the \'quoted\'" Al-Sayed' }, { name: '山田 花子 🎉' }, { name: '' }];

async function batchOf(who: Who): Promise<string> {
  const created = await as(who, 'post', '/api/batches').send({ template: 'mini', rows }).expect(202);
  const id = created.body.id as string;
  await pollUntil(`batch ${id} to finish`, async () => (await as(who, 'get', `/api/batches/${id}`).expect(200)).body as { status: string }, (status) => status.status === 'done');
  return id;
}

function expectScopeMissing(res: request.Response, scope: string): void {
  expect(res.status).toBe(403);
  expect(res.body.error.code).toBe('SCOPE_MISSING');
  expect(res.body.error.message).toContain(`"${scope}" scope`);
  expect(res.headers['cache-control']).toBe('no-store');
}

describe('API key scopes', () => {
  it("refuses a render key every route of another key's batch, and serves the key that made it", async () => {
    const id = await batchOf('legacy');
    // The creating key reads its own batch: status, rows, image, manifest, zip.
    const own = await as('legacy', 'get', `/api/batches/${id}`).expect(200);
    expect(own.body).toMatchObject({ createdBy: expect.stringMatching(/^key-[0-9a-f]{8}$/), done: 3 });
    const zip = await as('legacy', 'get', `/api/batches/${id}/download`).buffer(true).parse(binaryParser as never).expect(200);
    expect((zip.body as Buffer).subarray(0, 2).toString()).toBe('PK');
    await as('legacy', 'get', `/api/batches/${id}/manifest.csv`).expect(200);
    const listed = await as('legacy', 'get', `/api/batches/${id}/rows`).expect(200);
    await as('legacy', 'get', listed.body.rows[0].image as string).expect(200);
    expect(((await as('legacy', 'get', '/api/batches').expect(200)).body.batches as { id: string }[]).map((b) => b.id)).toContain(id);

    // Another render key: refused on each, 403 naming the missing scope; nothing of the batch in the answer.
    for (const path of [`/api/batches/${id}`, `/api/batches/${id}/download`, `/api/batches/${id}/manifest.csv`, `/api/batches/${id}/rows`, listed.body.rows[0].image as string]) {
      const refused = await as('ci', 'get', path);
      expectScopeMissing(refused, 'campaigns');
      expect(JSON.stringify(refused.body)).not.toContain('山田');
    }
    expectScopeMissing(await as('ci', 'delete', `/api/batches/${id}`), 'campaigns');
    expect(((await as('ci', 'get', '/api/batches').expect(200)).body.batches as { id: string }[]).map((b) => b.id)).not.toContain(id);
    // Still there: the refused delete deleted nothing.
    await as('legacy', 'get', `/api/batches/${id}`).expect(200);
  });

  it('lets a campaigns key read, download and delete every batch', async () => {
    const id = await batchOf('ci');
    expect(((await as('marketing', 'get', '/api/batches').expect(200)).body.batches as { id: string; createdBy: string }[]).find((b) => b.id === id)?.createdBy).toBe('ci');
    const zip = await as('marketing', 'get', `/api/batches/${id}/download`).buffer(true).parse(binaryParser as never).expect(200);
    expect((zip.body as Buffer).subarray(0, 2).toString()).toBe('PK');
    await as('marketing', 'delete', `/api/batches/${id}`).expect(204);
    await as('ci', 'get', `/api/batches/${id}`).expect(404);
  });

  it('serves a batch made before batches recorded their key only with campaigns', async () => {
    const id = await batchOf('ci');
    const path = join(workspace.config.server.batchesDir, id, 'job.json');
    const { createdBy: _createdBy, ...job } = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(path, JSON.stringify(job));
    const refused = await as('ci', 'get', `/api/batches/${id}/download`);
    expectScopeMissing(refused, 'campaigns');
    expect(refused.body.error.message).toContain('made before batches recorded their key');
    await as('marketing', 'get', `/api/batches/${id}`).expect(200);
  });

  it('refuses a render key the uploads list, an upload, and a batch made from an upload', async () => {
    const csv = 'name,vip\r\n"O\'Brien, ""Jack""",yes\r\nزينب,no\r\n';
    const upload = await as('marketing', 'post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(csv).expect(201);
    const uploadId = upload.body.id as string;
    expectScopeMissing(await as('legacy', 'get', '/api/uploads'), 'campaigns');
    expectScopeMissing(await as('ci', 'get', '/api/uploads'), 'campaigns');
    expectScopeMissing(await as('ci', 'get', `/api/uploads/${uploadId}`), 'campaigns');
    expectScopeMissing(await as('ci', 'post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(csv), 'campaigns');
    expectScopeMissing(await as('ci', 'get', `/api/uploads/${uploadId}/preflight/report.html`), 'campaigns');
    expectScopeMissing(await as('ci', 'delete', `/api/uploads/${uploadId}`), 'campaigns');
    expectScopeMissing(await as('ci', 'post', '/api/batches').send({ template: 'mini', upload: uploadId }), 'campaigns');
    const list = await as('marketing', 'get', '/api/uploads').expect(200);
    expect((list.body.uploads as { id: string }[]).map((u) => u.id)).toContain(uploadId);
    // A campaigns key may make a batch from it (campaigns implies render).
    await as('marketing', 'post', '/api/batches').send({ template: 'mini', upload: uploadId }).expect(202);
    await as('marketing', 'delete', `/api/uploads/${uploadId}`).expect(204);
  });

  it('refuses purge and visual Accept without admin', async () => {
    for (const who of ['legacy', 'ci', 'marketing'] as const) {
      expectScopeMissing(await as(who, 'post', '/api/purge').send({}), 'admin');
      expectScopeMissing(await as(who, 'post', '/api/templates/mini/visual/accept').send({ all: true }), 'admin');
    }
    // Case and a trailing slash reach the same route, and need the same scope.
    expectScopeMissing(await as('ci', 'post', '/api/PURGE/').send({}), 'admin');
    expect((await as('ops', 'post', '/api/purge').send({ template: 'mini' }).expect(200)).body.template).toBe('mini');
    // Admin passes the scope check: what is left is the body's own validation.
    expect((await as('ops', 'post', '/api/templates/mini/visual/accept').send({}).expect(400)).body.error.code).toBe('USAGE');
    // Render rights stay: the render key renders.
    await as('ci', 'post', '/api/render').send({ template: 'mini', data: { name: '山田' } }).expect(200);
  });

  it('logs the key by its name, never the key', () => {
    const lines = server.logs.filter((line) => line.includes('"caller":"ci"'));
    expect(lines.length).toBeGreaterThan(0);
    for (const key of Object.values(keys)) expect(server.logs.some((line) => line.includes(key))).toBe(false);
  });
});

describe('studio sessions', () => {
  it('are the key they logged in with: a render key\'s session reads no uploads and no other key\'s batch; an admin key\'s session reads them', async () => {
    const bound = await startServer(workspace.pipeline, { ...workspace.config, server: { ...workspace.config.server, host: '0.0.0.0' } });
    const loginAs = async (who: keyof typeof keys) => {
      const login = await request(bound.url).post('/login').type('form').send({ secret: keys[who], next: '/' }).expect(303);
      return String(login.headers['set-cookie']).split(';')[0]!;
    };
    const batchOn = async (who: keyof typeof keys) => {
      const created = await request(bound.url).post('/api/batches').set('Authorization', `Bearer ${keys[who]}`).send({ template: 'mini', rows }).expect(202);
      const id = created.body.id as string;
      await pollUntil(`batch ${id} to finish`, async () => (await request(bound.url).get(`/api/batches/${id}`).set('Authorization', `Bearer ${keys[who]}`).expect(200)).body as { status: string }, (status) => status.status === 'done');
      return id;
    };
    try {
      const others = await batchOn('marketing');
      const ci = await loginAs('ci');
      expect((await request(bound.url).get('/api/uploads').set('Cookie', ci).expect(403)).body.error.code).toBe('SCOPE_MISSING');
      expect((await request(bound.url).get(`/api/batches/${others}/download`).set('Cookie', ci).expect(403)).body.error.code).toBe('SCOPE_MISSING');
      // The session's batches are the key's: what ci made over Bearer, its session reads.
      await request(bound.url).get(`/api/batches/${await batchOn('ci')}`).set('Cookie', ci).expect(200);
      const ops = await loginAs('ops');
      await request(bound.url).get('/api/uploads').set('Cookie', ops).expect(200);
      await request(bound.url).get(`/api/batches/${others}/download`).set('Cookie', ops).expect(200);
    } finally {
      await bound.close();
    }
  });
});

describe('personal data is never cached', () => {
  it('answers the zip, manifest, rows, batch list, uploads list and preflight report with Cache-Control: no-store', async () => {
    const id = await batchOf('ops');
    const zip = await as('ops', 'get', `/api/batches/${id}/download`).buffer(true).parse(binaryParser as never).expect(200);
    expect(zip.headers['cache-control']).toBe('no-store');
    for (const path of [`/api/batches/${id}`, `/api/batches/${id}/manifest.csv`, `/api/batches/${id}/rows`, '/api/batches', '/api/uploads']) {
      expect((await as('ops', 'get', path).expect(200)).headers['cache-control'], path).toBe('no-store');
    }
    const upload = await as('ops', 'post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send('name\r\nلينا\r\n').expect(201);
    expect(upload.headers['cache-control']).toBe('no-store');
    const preflight = await as('ops', 'post', `/api/uploads/${upload.body.id}/preflight`).send({ template: 'mini' }).expect(200);
    expect(preflight.headers['cache-control']).toBe('no-store');
    for (const file of ['report.html', 'summary.json']) {
      expect((await as('ops', 'get', `/api/uploads/${upload.body.id}/preflight/${file}`).expect(200)).headers['cache-control'], file).toBe('no-store');
    }
  });
});

describe('wrong Bearer keys', () => {
  it('are throttled per address with a growing Retry-After, and a right key gets in once the wait is over', async () => {
    // Its own server: the throttle counts per address, and every test here comes from 127.0.0.1.
    const own = await startServer(workspace.pipeline, workspace.config);
    try {
      const wrong = () => request(own.url).get('/api/templates').set('Authorization', 'Bearer not-a-key-0123456789');
      // Ten wrong keys are answered 401 like any; the eleventh too, and it starts a 1 s block.
      for (let i = 0; i < 11; i++) expect((await wrong()).status).toBe(401);
      const blocked = await wrong();
      expect(blocked.status).toBe(429);
      expect(blocked.body.error.code).toBe('RATE_LIMITED');
      expect(blocked.headers['retry-after']).toBe('1');
      // While blocked, a right key from the same address waits too (a guess is never checked then).
      expect((await as('ci', 'get', '/api/templates', own)).status).toBe(429);
      // No Bearer at all (a studio page without its session) is not a guess: 401, not 429.
      expect((await request(own.url).get('/api/templates')).status).toBe(401);
      await sleep(1_100);
      await as('ci', 'get', '/api/templates', own).expect(200);
      // The next wrong key doubles the block.
      expect((await wrong()).status).toBe(401);
      expect((await wrong()).headers['retry-after']).toBe('2');
      await sleep(2_100);
      await as('ci', 'get', '/api/templates', own).expect(200);
    } finally {
      await own.close();
    }
  });
});
