import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/pipeline.js';
import { binaryParser, createWorkspace, pollUntil, startServer, type TestServer, type TestWorkspace } from '../support/server.js';
import { zipEntry, zipNames } from '../support/zip.js';

/**
 * The studio's campaign API (server/campaigns/ and the batch extensions): upload a CSV, map a
 * column by hand, preflight it, render it as a batch, read its rows and images, delete it all.
 * campaign-guests.csv: `;`-separated with a BOM and CRLF, a "Guest" column that no field
 * matches by name (the template's field is `name`), and a last row whose quote never closes.
 */

const apiKey = 'test-api-key-0123456789';
const unreadableRow6 = 'row 6: a quoted field opens in this row and is never closed, so this row and every line after it could not be read. Close the quote or remove it.';
let workspace: TestWorkspace;
let server: TestServer;
let csv: Buffer;

beforeAll(async () => {
  // The campaign routes need the `campaigns` scope (server.scopes.test.ts checks a render key is refused).
  workspace = await createWorkspace({ server: { apiKeys: [{ name: 'campaigns', key: apiKey, scopes: ['render', 'campaigns'] }] } });
  server = await startServer(workspace.pipeline, workspace.config);
  csv = await readFile(join(repoRoot, 'test/fixtures/data/campaign-guests.csv'));
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

const api = (method: 'get' | 'post' | 'delete', path: string) => request(server.url)[method](path).set('Authorization', `Bearer ${apiKey}`);

const getBytes = async (path: string) => (await api('get', path).buffer(true).parse(binaryParser as never).expect(200)).body as Buffer;

async function upload(): Promise<Record<string, unknown> & { id: string }> {
  // As a browser labels a .csv file on Windows: not text/csv.
  const created = await api('post', '/api/uploads?template=mini').set('Content-Type', 'application/vnd.ms-excel').send(csv).expect(201);
  return created.body as Record<string, unknown> & { id: string };
}

const waitForDone = (id: string) =>
  pollUntil(`batch ${id} to finish`, async () => (await api('get', `/api/batches/${id}`).expect(200)).body as Record<string, unknown>, (status) => status.status === 'done');

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('/api/uploads and batches made from them', () => {
  it('stores an upload under the studio data folder and describes it: columns, rows, the unreadable row, the automatic mapping', async () => {
    const created = await upload();
    expect(created).toMatchObject({
      template: 'mini',
      columns: ['Guest', 'VIP', 'Email', 'Colour'],
      rows: 6,
      unreadable: [{ row: 6, reason: unreadableRow6 }],
      unreadableCount: 1,
      fields: ['name', 'vip', 'photo', 'color'],
      mapping: { name: null, vip: 'VIP', photo: null, color: null },
      unusedColumns: ['Guest', 'Email', 'Colour'],
    });
    const folder = join(workspace.config.studio.dataDir, 'uploads', created.id);
    expect((await readFile(join(folder, 'data.csv'))).equals(csv)).toBe(true);
    expect((await api('get', `/api/uploads/${created.id}`).expect(200)).body).toEqual(created);
    // Personal data never reaches the logs: not a name, not an address.
    expect(server.logs.join('\n')).not.toMatch(/Ada Lovelace|ada@example\.com|Nwosu/);
  });

  it('refuses what is not an upload, a file without rows, and a mapping that cannot apply, naming the field', async () => {
    expect((await api('get', '/api/uploads/not-an-id').expect(404)).body.error.code).toBe('UPLOAD_NOT_FOUND');
    expect((await api('get', '/api/uploads/00000000-0000-4000-8000-000000000000').expect(404)).body.error.code).toBe('UPLOAD_NOT_FOUND');
    expect((await api('post', '/api/uploads?template=nope').set('Content-Type', 'text/csv').send(csv).expect(404)).body.error.code).toBe('TEMPLATE_NOT_FOUND');
    const empty = await api('post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send('Guest;VIP\r\n').expect(400);
    expect(empty.body.error).toMatchObject({ code: 'DATA_UNREADABLE', message: 'the CSV has a header but no rows.' });
    const before = await readdir(join(workspace.config.studio.dataDir, 'uploads'));

    const { id } = await upload();
    const noField = await api('post', `/api/uploads/${id}/preflight`).send({ template: 'mini', map: { fullName: 'Guest' } }).expect(400);
    expect(noField.body.error).toMatchObject({ code: 'USAGE', field: 'map.fullName', message: 'map.fullName: the template has no field "fullName". Fields: name, vip, photo, color.' });
    const noColumn = await api('post', '/api/batches').send({ template: 'mini', upload: id, map: { name: 'Full name' } }).expect(400);
    expect(noColumn.body.error).toMatchObject({ code: 'USAGE', field: 'map.name', message: 'map.name: the upload has no column "Full name". Columns: Guest, VIP, Email, Colour.' });
    expect((await api('post', '/api/batches').send({ template: 'mini', upload: 'x', map: {} }).expect(400)).body.error.field).toBe('upload');
    // The refused empty file left nothing behind; the good one is there.
    expect(await readdir(join(workspace.config.studio.dataDir, 'uploads'))).toEqual(expect.arrayContaining([...before, id]));
    expect((await readdir(join(workspace.config.studio.dataDir, 'uploads'))).length).toBe(before.length + 1);
  });

  it('preflights an upload with a hand mapping: counts, the rows with findings, and the full report served with the session', async () => {
    const { id } = await upload();
    const summary = (await api('post', `/api/uploads/${id}/preflight`).send({ template: 'mini', map: { name: 'Guest' } }).expect(200)).body as Record<string, unknown> & { counts: Record<string, number>; findings: { row: number; codes: string[] }[]; report: string };
    expect(summary).toMatchObject({ template: 'mini', rows: 6, failed: 1, mapping: { name: 'Guest', vip: 'VIP', photo: null, color: null }, unusedColumns: ['Email', 'Colour'], report: `/api/uploads/${id}/preflight/report.html` });
    expect(summary.counts['unreadable-row']).toBe(1);
    // Row 5 holds an unreplaced merge tag in the hand-mapped column: found only because the mapping applied.
    expect(summary.counts['unreplaced-merge-tag']).toBe(1);
    expect(summary.findings).toContainEqual({ row: 6, codes: ['unreadable-row'] });
    expect(summary.findings.find((f) => f.row === 5)?.codes).toContain('unreplaced-merge-tag');

    const report = await api('get', summary.report).expect(200);
    expect(report.headers['content-type']).toMatch(/^text\/html/);
    const image = /<img src="(images\/[^"]+)"/.exec(report.text)?.[1];
    expect(image).toBeDefined();
    const png = await getBytes(`/api/uploads/${id}/preflight/${image}`);
    expect((await sharp(png).metadata()).width).toBe(400);
    expect((await api('get', `/api/uploads/${id}/preflight/summary.json`).expect(200)).body.rows).toBe(6);
    await api('get', `/api/uploads/${id}/preflight/..%2Fdata.csv`).expect(404);
    await request(server.url).get(summary.report).expect(401);
  });

  it('renders a batch from an upload with a hand-mapped column: one image per good row, the bad row failed in manifest.csv, rows and images readable', async () => {
    const { id: uploadId } = await upload();
    const created = await api('post', '/api/batches').send({ template: 'mini', upload: uploadId, map: { name: 'Guest', color: 'Colour' } }).expect(202);
    expect(created.body).toMatchObject({ template: 'mini', total: 6, upload: uploadId });
    const batchId = created.body.id as string;
    const status = await waitForDone(batchId);
    expect(status).toMatchObject({ done: 6, failed: 1 });

    const zip = await getBytes(`/api/batches/${batchId}/download`);
    expect(zipNames(zip).sort()).toEqual(['00001.png', '00002.png', '00003.png', '00004.png', '00005.png', 'manifest.csv']);
    const manifest = parse(zipEntry(zip, 'manifest.csv'), { columns: true }) as Record<string, string>[];
    // Every good row warns: mini's photo field has no column and no fallback.
    expect(manifest.map((m) => [m.row, m.status])).toEqual([['1', 'warning'], ['2', 'warning'], ['3', 'warning'], ['4', 'warning'], ['5', 'warning'], ['6', 'failed']]);
    expect(manifest[5]).toMatchObject({ file: '', error: unreadableRow6 });
    // The hand mapping fed `name`: the alt text carries the Guest column, not the fallback.
    expect(manifest[0]!.alt).toBe('Card for Ada Lovelace');
    expect(manifest[4]!.warnings).toContain('unreplaced-merge-tag:name');
    // And `color` from Colour: row 1 has one, row 3's cell is empty and takes the fallback.
    expect([manifest[0]!.warnings, manifest[2]!.warnings]).toEqual(['missing:photo', 'missing:photo;fallback:color']);

    const manifestCsv = await api('get', `/api/batches/${batchId}/manifest.csv`).expect(200);
    expect(manifestCsv.headers['content-type']).toMatch(/^text\/csv/);
    expect(manifestCsv.text).toBe(zipEntry(zip, 'manifest.csv').toString('utf8'));

    type RowsPage = { total: number; rows: { row: number; status: string; error: string; image: string | null }[] };
    const failed = (await api('get', `/api/batches/${batchId}/rows?status=failed`).expect(200)).body as RowsPage;
    expect(failed.rows.map((r) => [r.row, r.status, r.error, r.image])).toEqual([[6, 'failed', unreadableRow6, null]]);
    const flagged = (await api('get', `/api/batches/${batchId}/rows?status=failed,warning&limit=2&offset=3`).expect(200)).body as RowsPage;
    expect(flagged.total).toBe(6);
    expect(flagged.rows.map((r) => [r.row, r.image])).toEqual([
      [4, `/api/batches/${batchId}/images/00004.png`],
      [5, `/api/batches/${batchId}/images/00005.png`],
    ]);
    expect(((await api('get', `/api/batches/${batchId}/rows?status=ok`).expect(200)).body as RowsPage).total).toBe(0);
    expect((await api('get', `/api/batches/${batchId}/rows?status=broken`).expect(400)).body.error.field).toBe('status');

    const image = await getBytes(`/api/batches/${batchId}/images/00003.png`);
    expect(image.equals(zipEntry(zip, '00003.png'))).toBe(true);
    await api('get', `/api/batches/${batchId}/images/00006.png`).expect(404);
    await api('get', `/api/batches/${batchId}/images/job.json`).expect(404);

    // The rendered campaign is stored with the upload, under the studio's data folder.
    expect(await exists(join(workspace.config.studio.dataDir, 'campaigns', batchId, 'images', '00001.png'))).toBe(true);
    expect(await exists(join(workspace.config.server.batchesDir, batchId))).toBe(false);
    expect(server.logs.join('\n')).not.toMatch(/Ada Lovelace|ada@example\.com/);
  });

  it('maps a CSV body batch by hand with map=field=Column, as mergeshot render --map does', async () => {
    const created = await api('post', `/api/batches?template=mini&map=${encodeURIComponent('name=Guest')}`).set('Content-Type', 'text/csv').send(csv).expect(202);
    await waitForDone(created.body.id as string);
    const manifest = parse(await api('get', `/api/batches/${created.body.id}/manifest.csv`).expect(200).then((r) => r.text), { columns: true }) as Record<string, string>[];
    expect(manifest.map((m) => m.alt)).toEqual(['Card for Ada Lovelace', 'Card for Zoë "Zo" Ñúñez', 'Card for محمد عبد الرحمن', 'Card for 山田 太郎', 'Card for Friend', '']);
    const wrong = await api('post', '/api/batches?template=mini&map=name=Nobody').set('Content-Type', 'text/csv').send(csv).expect(400);
    expect(wrong.body.error.message).toMatch(/^--map name=Nobody: the data has no column "Nobody"/);
    const halfMap = await api('post', '/api/batches?template=mini&map=name').set('Content-Type', 'text/csv').send(csv).expect(400);
    expect(halfMap.body.error).toMatchObject({ field: 'map', message: 'query: map must be field=Column, e.g. map=firstName=First%20Name; got "name". Put a field of the template left of "=" and a column of the CSV right of it.' });
  });

  it('deletes an upload with its preflight report and its batches, from disk', async () => {
    const { id: uploadId } = await upload();
    await api('post', `/api/uploads/${uploadId}/preflight`).send({ template: 'mini', map: { name: 'Guest' } }).expect(200);
    const batchId = (await api('post', '/api/batches').send({ template: 'mini', upload: uploadId, map: { name: 'Guest' } }).expect(202)).body.id as string;
    await waitForDone(batchId);
    const uploadDir = join(workspace.config.studio.dataDir, 'uploads', uploadId);
    const batchDir = join(workspace.config.studio.dataDir, 'campaigns', batchId);
    expect([await exists(join(uploadDir, 'preflight', 'report.html')), await exists(batchDir)]).toEqual([true, true]);

    await api('delete', `/api/uploads/${uploadId}`).expect(204);
    expect([await exists(uploadDir), await exists(batchDir)]).toEqual([false, false]);
    expect((await api('get', `/api/uploads/${uploadId}`).expect(404)).body.error.code).toBe('UPLOAD_NOT_FOUND');
    expect((await api('get', `/api/batches/${batchId}`).expect(404)).body.error.code).toBe('BATCH_NOT_FOUND');
    await api('delete', `/api/uploads/${uploadId}`).expect(404);
  });

  it('removes an upload cut short by a crash (no upload.json) when the server starts, and lists the complete ones', async () => {
    const { id } = await upload();
    const partial = join(workspace.config.studio.dataDir, 'uploads', '11111111-2222-4333-8444-555555555555');
    await mkdir(partial, { recursive: true });
    await writeFile(join(partial, 'data.csv'), csv);
    const second = await startServer(workspace.pipeline, workspace.config);
    await second.close();
    expect(await exists(partial)).toBe(false);
    const listed = (await api('get', '/api/uploads?template=mini').expect(200)).body as { uploads: { id: string; rows: number }[] };
    expect(listed.uploads).toContainEqual(expect.objectContaining({ id, rows: 6 }));
    expect(Object.keys(listed.uploads[0]!).sort()).toEqual(['bytes', 'createdAt', 'id', 'rows', 'template', 'unreadableCount']);
  });

  it('resumes a campaign batch after a restart: its folder under the data folder is found again', async () => {
    const first = await startServer(workspace.pipeline, workspace.config);
    const long = Buffer.from(`Guest;VIP\r\n${Array.from({ length: 24 }, (_, i) => `Guest ${i};yes`).join('\r\n')}\r\n`);
    const at = (target: TestServer, method: 'get' | 'post', path: string) => request(target.url)[method](path).set('Authorization', `Bearer ${apiKey}`);
    const uploadId = (await at(first, 'post', '/api/uploads?template=mini').set('Content-Type', 'text/csv').send(long).expect(201)).body.id as string;
    const batchId = (await at(first, 'post', '/api/batches').send({ template: 'mini', upload: uploadId, map: { name: 'Guest' } }).expect(202)).body.id as string;
    try {
      await pollUntil(`batch ${batchId} to finish its first row`, async () => (await at(first, 'get', `/api/batches/${batchId}`).expect(200)).body as { done: number }, (s) => s.done > 0, { intervalMs: 20 });
    } finally {
      await first.close();
    }
    const stopped = JSON.parse(await readFile(join(workspace.config.studio.dataDir, 'campaigns', batchId, 'job.json'), 'utf8')) as { status: string };
    expect(stopped.status).not.toBe('done');
    const second = await startServer(workspace.pipeline, workspace.config);
    try {
      const done = await pollUntil(`batch ${batchId} to finish`, async () => (await at(second, 'get', `/api/batches/${batchId}`).expect(200)).body as Record<string, unknown>, (s) => s.status === 'done');
      expect(done).toMatchObject({ total: 24, done: 24, failed: 0, upload: uploadId });
      expect((await readdir(join(workspace.config.studio.dataDir, 'campaigns', batchId, 'images'))).length).toBe(24);
    } finally {
      await second.close();
    }
  });

  it('deletes a running batch: it stops, its folder goes, and the next job still runs', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ name: `Guest ${i}` }));
    const running = (await api('post', '/api/batches').send({ template: 'mini', rows }).expect(202)).body.id as string;
    const next = (await api('post', '/api/batches').send({ template: 'mini', rows: [{ name: 'After' }] }).expect(202)).body.id as string;
    const started = await pollUntil(`batch ${running} to start`, async () => (await api('get', `/api/batches/${running}`).expect(200)).body as { done: number; status: string }, (s) => s.done > 0, { intervalMs: 20 });
    // Seen after its first row of 40, so the delete below lands while it runs.
    expect(started.status).toBe('running');
    await api('delete', `/api/batches/${running}`).expect(204);
    expect(await exists(join(workspace.config.server.batchesDir, running))).toBe(false);
    await api('get', `/api/batches/${running}`).expect(404);
    expect(await waitForDone(next)).toMatchObject({ done: 1, failed: 0 });
    // Nothing wrote into the deleted folder after the delete answered.
    expect(await exists(join(workspace.config.server.batchesDir, running))).toBe(false);
  });
});
