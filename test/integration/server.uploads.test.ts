import { request as httpRequest } from 'node:http';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, pollUntil, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

/**
 * Limits on studio uploads (issue 18, item 6): a row cap, one upload read at a time per client,
 * a disk quota for the studio's data folder, and an expiry that deletes old uploads with what
 * was made from them. Each refusal names its setting. (Latency while a large upload is read is
 * measured by `npm run bench:uploads`, not here.)
 */

const keyA = 'uploads-key-a-0123456789abcdef';
const keyB = 'uploads-key-b-0123456789abcdef';
const header = 'Name;VIP;Email;Colour\r\n';
const hostile = ['"Zoë ""Ω"" O\'Brien";yes;zoe@example.com;#1d4ed8', 'محمد بن موسى;no;m@example.com;', '山田 太郎 🎉;yes;;#000000', ' Ω ;;;', '"Ana María, ""La""";no;ana@example.com;#ff0000', 'שרה 🇮🇱;yes;s@example.com;#00ff00'];
const csvOf = (rows: number, pad = 0) => header + Array.from({ length: rows }, (_, i) => `${hostile[i % hostile.length]}${pad ? `;${'x'.repeat(pad)}` : ''}`).join('\r\n') + '\r\n';

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('upload limits', () => {
  let workspace: TestWorkspace;
  let server: TestServer;
  const api = (method: 'get' | 'post' | 'delete', path: string, key = keyA) => request(server.url)[method](path).set('Authorization', `Bearer ${key}`);
  const uploadsDir = () => join(workspace.config.studio.dataDir, 'uploads');

  beforeAll(async () => {
    workspace = await createWorkspace({ server: { apiKeys: [{ name: 'a', key: keyA, scopes: ['campaigns'] }, { name: 'b', key: keyB, scopes: ['campaigns'] }], watchTemplates: false, uploadMaxBytes: 500_000 }, studio: { uploadMaxRows: 6, dataMaxBytes: 1_048_576 } });
    server = await startServer(workspace.pipeline, workspace.config);
  });

  afterAll(async () => {
    await server?.close();
    await workspace?.close();
  });

  it('refuses a CSV with more rows than studio.uploadMaxRows, naming the cap and the setting, and keeps nothing of it', async () => {
    const before = await readdir(uploadsDir());
    const refused = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(csvOf(7)).expect(413);
    expect(refused.body.error).toEqual({
      code: 'UPLOAD_TOO_LARGE',
      field: 'body',
      message: 'the CSV has more than 6 rows, the most one upload may hold (studio.uploadMaxRows). Split the list into smaller files, or raise studio.uploadMaxRows.',
    });
    expect(await readdir(uploadsDir())).toEqual(before);
    const kept = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(csvOf(6)).expect(201);
    expect(kept.body).toMatchObject({ rows: 6, columns: ['Name', 'VIP', 'Email', 'Colour'] });
    await api('delete', `/api/uploads/${kept.body.id}`).expect(204);
  });

  it('streams the body to disk: one over server.uploadMaxBytes is refused naming the setting, another charset is stored as UTF-8', async () => {
    const before = await readdir(uploadsDir());
    const refused = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(csvOf(5, 120_000)).expect(413);
    expect(refused.body.error).toEqual({ code: 'UPLOAD_TOO_LARGE', field: 'body', message: 'the upload is larger than 0.5 MB, the most the server accepts (server.uploadMaxBytes). Split the list into smaller files, or raise server.uploadMaxBytes.' });
    expect(await readdir(uploadsDir())).toEqual(before);

    const text = csvOf(3);
    const utf16 = Buffer.from(text, 'utf16le');
    const created = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv; charset=utf-16le').send(utf16).expect(201);
    expect(created.body).toMatchObject({ rows: 3, columns: ['Name', 'VIP', 'Email', 'Colour'] });
    expect(await readFile(join(uploadsDir(), created.body.id as string, 'data.csv'), 'utf8')).toBe(text);
    await api('delete', `/api/uploads/${created.body.id as string}`).expect(204);
  });

  it('refuses an upload that would pass studio.dataMaxBytes, naming the quota and the setting, until space is freed', async () => {
    // Two uploads of ~400 KB fit 1 MiB; the third does not.
    const big = csvOf(4, 100_000);
    const first = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(big).expect(201);
    const second = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(big).expect(201);
    const before = await readdir(uploadsDir());
    const refused = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(big).expect(507);
    expect(refused.body.error.code).toBe('DATA_QUOTA_EXCEEDED');
    expect(refused.body.error.message).toMatch(/^this upload \(0\.4 MB\) would take the studio's data folder past its quota: 0\.8 MB of 1\.0 MB are used \(studio\.dataMaxBytes\)\. Delete uploads you no longer need, or raise studio\.dataMaxBytes\.$/);
    // No server path in the answer, and nothing written.
    expect(JSON.stringify(refused.body)).not.toContain(workspace.root);
    expect(await readdir(uploadsDir())).toEqual(before);
    await api('delete', `/api/uploads/${first.body.id}`).expect(204);
    const third = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(big).expect(201);
    for (const id of [second.body.id, third.body.id]) await api('delete', `/api/uploads/${id}`).expect(204);
  });

  it('reads one upload at a time per client: a second from the same key is refused with 429, another key is not', async () => {
    // The first upload's body is still arriving: its client holds the one reading slot.
    const { url } = server;
    const first = httpRequest(`${url}/api/uploads?template=mini`, { method: 'POST', headers: { authorization: `Bearer ${keyA}`, 'content-type': 'text/csv' } });
    const firstAnswer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      first.once('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      first.once('error', reject);
    });
    first.write(header);
    await new Promise((resolve) => first.once('socket', (socket) => socket.once('connect', resolve)));
    // The headers reach the router well within this; the body stays open until first.end().
    await new Promise((resolve) => setTimeout(resolve, 500));

    const second = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(csvOf(2)).expect(429);
    expect(second.headers['retry-after']).toBe('5');
    expect(second.body.error).toEqual({ code: 'UPLOAD_PARSING', message: 'an upload from this session is still being read: one upload at a time per session or API key. Wait for it to finish, then send the next.' });
    const other = await api('post', '/api/uploads?template=mini', keyB).set('Content-Type', 'text/csv').send(csvOf(2)).expect(201);

    first.end(csvOf(3).slice(header.length));
    const answered = await firstAnswer;
    expect(answered.status).toBe(201);
    expect((JSON.parse(answered.body) as { rows: number }).rows).toBe(3);
    // The slot is free again once the first is answered.
    const next = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(csvOf(2)).expect(201);
    for (const id of [other.body.id as string, (JSON.parse(answered.body) as { id: string }).id, next.body.id as string]) await api('delete', `/api/uploads/${id}`).expect(204);
  });
});

describe('upload expiry', () => {
  let workspace: TestWorkspace;
  let server: TestServer;
  const api = (method: 'get' | 'post' | 'delete', path: string) => request(server.url)[method](path).set('Authorization', `Bearer ${keyA}`);

  beforeAll(async () => {
    workspace = await createWorkspace({ server: { apiKeys: [{ name: 'a', key: keyA, scopes: ['campaigns'] }], watchTemplates: false }, studio: { uploadTtlMs: 1_500, sweepIntervalMs: 100 } });
    server = await startServer(workspace.pipeline, workspace.config);
  });

  afterAll(async () => {
    await server?.close();
    await workspace?.close();
  });

  it('deletes an upload studio.uploadTtlMs after it was made, with its batch, from disk', async () => {
    const created = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(csvOf(3)).expect(201);
    const id = created.body.id as string;
    const batch = await api('post', '/api/batches').send({ template: 'mini', upload: id, map: { name: 'Name' } }).expect(202);
    const uploadDir = join(workspace.config.studio.dataDir, 'uploads', id);
    const batchDir = join(workspace.config.studio.dataDir, 'campaigns', batch.body.id as string);
    expect(await exists(join(uploadDir, 'data.csv'))).toBe(true);
    expect(await exists(batchDir)).toBe(true);
    // Still there before its time.
    await api('get', `/api/uploads/${id}`).expect(200);

    await pollUntil('the expired upload to be deleted', () => exists(uploadDir), (present) => !present, { timeoutMs: 15_000 });
    expect(await exists(batchDir)).toBe(false);
    expect((await api('get', `/api/uploads/${id}`).expect(404)).body.error.code).toBe('UPLOAD_NOT_FOUND');
    expect((await api('get', `/api/batches/${batch.body.id as string}`).expect(404)).body.error.code).toBe('BATCH_NOT_FOUND');
    const expired = server.logs.map((line) => JSON.parse(line) as { msg: string; uploadId?: string }).filter((entry) => entry.msg.startsWith('upload expired'));
    expect(expired.map((entry) => entry.uploadId)).toEqual([id]);
  });
});
