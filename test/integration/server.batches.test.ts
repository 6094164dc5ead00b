import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRender } from '../../src/cli/commands/render.js';
import { binaryParser, createWorkspace, metricValue, pollUntil, startServer, type TestServer, type TestWorkspace } from '../support/server.js';
import { unreadableCsv, unreadableReason } from '../support/data.js';
import { zipEntry } from '../support/zip.js';

const apiKey = 'test-api-key-0123456789';
let workspace: TestWorkspace;
let server: TestServer;

beforeAll(async () => {
  workspace = await createWorkspace({ server: { apiKeys: [apiKey] } });
  // mini with the bare name as alt text, so a name can start a manifest cell.
  await cp(join(workspace.templatesDir, 'mini'), join(workspace.templatesDir, 'mini-alt'), { recursive: true });
  const manifestPath = join(workspace.templatesDir, 'mini-alt', 'template.json');
  await writeFile(manifestPath, JSON.stringify({ ...(JSON.parse(await readFile(manifestPath, 'utf8')) as object), alt: '{{name}}' }, null, 2));
  server = await startServer(workspace.pipeline, workspace.config);
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

const api = (target: TestServer, method: 'get' | 'post', path: string) => request(target.url)[method](path).set('Authorization', `Bearer ${apiKey}`);

const batchStatus = async (target: TestServer, id: string) => (await api(target, 'get', `/api/batches/${id}`).expect(200)).body as Record<string, unknown>;

async function waitForDone(target: TestServer, id: string): Promise<Record<string, unknown>> {
  return pollUntil(`batch ${id} to finish`, () => batchStatus(target, id), (status) => status.status === 'done');
}

/** Waits for the batch, downloads its zip and returns manifest.csv as records. */
async function batchManifest(id: string): Promise<Record<string, string>[]> {
  await waitForDone(server, id);
  const zip = await api(server, 'get', `/api/batches/${id}/download`).buffer(true).parse(binaryParser as never).expect(200);
  return parse(zipEntry(zip.body as Buffer, 'manifest.csv'), { columns: true }) as Record<string, string>[];
}

/** Line 2 is blank (counted, as a spreadsheet counts it); the quote opened in row 4 never closes. */

describe('/api/batches', () => {
  it('renders a CSV upload and serves a zip with manifest.csv', async () => {
    // Jobs run one at a time: behind a 30-row job, the upload is certainly not finished yet.
    const ahead = await api(server, 'post', '/api/batches').send({ template: 'mini', rows: Array.from({ length: 30 }, (_, i) => ({ name: `Ahead ${i}` })) }).expect(202);
    const csv = 'Name;VIP\r\nAda;yes\r\n*|FNAME|*;no\r\nGrace;\r\n';
    const created = await api(server, 'post', '/api/batches?template=mini&preset=web').set('Content-Type', 'text/csv').send(csv).expect(202);
    expect(created.body).toMatchObject({ template: 'mini', preset: 'web', total: 3 });
    expect(created.headers.location).toBe(`/api/batches/${created.body.id}`);
    expect((await api(server, 'get', `/api/batches/${created.body.id}/download`).expect(409)).body.error.code).toBe('BATCH_NOT_READY');
    await waitForDone(server, ahead.body.id as string);
    const status = await waitForDone(server, created.body.id as string);
    expect(status).toMatchObject({ done: 3, failed: 0, download: `/api/batches/${created.body.id}/download` });
    const zip = await api(server, 'get', `/api/batches/${created.body.id}/download`).buffer(true).parse(binaryParser as never).expect(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    const bytes = zip.body as Buffer;
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    for (const name of ['00001.webp', '00002.webp', '00003.webp', 'manifest.csv']) expect(bytes.includes(Buffer.from(name))).toBe(true);
  });

  it('refuses bad batches up front and unknown ids', async () => {
    expect((await api(server, 'post', '/api/batches').send({ template: 'nope', rows: [{}] }).expect(404)).body.error.code).toBe('TEMPLATE_NOT_FOUND');
    expect((await api(server, 'post', '/api/batches').send({ template: 'mini', rows: [] }).expect(400)).body.error.code).toBe('USAGE');
    expect((await api(server, 'post', '/api/batches').send({ template: 'mini', preset: 'nope', rows: [{}] }).expect(400)).body.error.code).toBe('PRESET_UNKNOWN');
    expect((await api(server, 'get', '/api/batches/not-an-id').expect(404)).body.error.code).toBe('BATCH_NOT_FOUND');
    await api(server, 'get', '/api/batches/00000000-0000-0000-0000-000000000000').expect(404);
  });

  it('survives a restart and resumes where it stopped, rendering no row twice', async () => {
    const first = await startServer(workspace.pipeline, workspace.config);
    const rows = Array.from({ length: 12 }, (_, i) => ({ name: `Resume ${i}` }));
    const created = await api(first, 'post', '/api/batches').send({ template: 'mini', rows }).expect(202);
    const id = created.body.id as string;
    // Stop while the job is running: rows in flight finish, the rest wait for the next start.
    // Polled every 20 ms, not 50: the sooner the first row is seen, the surer the job is still mid-run at close.
    try {
      await pollUntil(`batch ${id} to finish its first row`, () => batchStatus(first, id), (status) => (status.done as number) > 0, { intervalMs: 20 });
    } finally {
      await first.close();
    }
    const stopped = (await api(server, 'get', `/api/batches/${id}`).expect(200)).body as { done: number; status: string };
    expect(stopped.status).not.toBe('done');
    expect(stopped.done).toBeLessThan(12);
    const second = await startServer(workspace.pipeline, workspace.config);
    try {
      const status = await waitForDone(second, id);
      expect(status).toMatchObject({ total: 12, done: 12, failed: 0 });
      const text = (await request(second.url).get('/metrics')).text;
      expect(metricValue(text, 'mergeshot_renders_total', { template: 'mini' })).toBe(12 - stopped.done);
    } finally {
      await second.close();
    }
  });

  it('keeps input row numbers and fails an unreadable CSV row with its number and reason, as mergeshot render does', async () => {
    const created = await api(server, 'post', '/api/batches?template=mini').set('Content-Type', 'text/csv').send(unreadableCsv).expect(202);
    expect(created.body).toMatchObject({ total: 3 });
    const manifest = await batchManifest(created.body.id as string);
    expect(manifest.map((m) => [m.row, m.status, m.file])).toEqual([
      ['1', 'warning', '00001.png'],
      ['3', 'warning', '00003.png'],
      ['4', 'failed', ''],
    ]);
    expect(manifest[2]!.error).toBe(unreadableReason);
    expect((await api(server, 'get', `/api/batches/${created.body.id}`).expect(200)).body).toMatchObject({ done: 3, failed: 1 });

    // The CLI on the same CSV, with the same pipeline: the same rows, statuses and reasons.
    const data = join(workspace.root, 'unreadable.csv');
    await writeFile(data, unreadableCsv);
    const out = join(workspace.root, 'unreadable-cli');
    await runRender(workspace.pipeline, 'mini', { data, out, name: '{{row}}', map: {}, resume: false, signal: new AbortController().signal, preset: 'original' });
    const cli = parse(await readFile(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[];
    expect(cli.map((m) => [m.row, m.status, m.error])).toEqual(manifest.map((m) => [m.row, m.status, m.error]));
    // One manifest schema for every front end: same columns, same sizes.
    expect(Object.keys(manifest[0]!)).toEqual(Object.keys(cli[0]!));
    expect(Object.keys(manifest[0]!)).toEqual(['row', 'file', 'bytes', 'width', 'height', 'status', 'warnings', 'error', 'alt']);
    expect(manifest.map((m) => [m.width, m.height])).toEqual(cli.map((m) => [m.width, m.height]));
  });

  it('writes manifest cells a spreadsheet would run as formulas as text', async () => {
    const rows = [{ name: '=HYPERLINK("http://x","y")' }, { name: "+cmd|' /C calc'!A0" }, { name: 'Ada' }];
    const created = await api(server, 'post', '/api/batches').send({ template: 'mini-alt', preset: 'web', rows }).expect(202);
    const manifest = await batchManifest(created.body.id as string);
    expect(manifest.map((m) => m.alt)).toEqual([`'=HYPERLINK("http://x","y")`, `'+cmd|' /C calc'!A0`, 'Ada']);
  });

  it('reads a Windows-1252 CSV upload right and says so once in the batch status', async () => {
    const csv = Buffer.from('name;vip\r\nJos\u00e9;yes\r\nFran\u00e7oise M\u00fcller;no\r\n', 'latin1');
    const created = await api(server, 'post', '/api/batches?template=mini&preset=web').set('Content-Type', 'text/csv').send(csv).expect(202);
    expect(created.body.notes).toEqual([
      'the data is not valid UTF-8 and has no byte order mark, so it was read as Windows-1252 (Latin-1). If accented letters look wrong, save the file as "CSV UTF-8" and run again.',
    ]);
    const manifest = await batchManifest(created.body.id as string);
    expect(manifest.map((m) => m.alt)).toEqual(['Card for José', 'Card for Françoise Müller']);
  });

  it('refuses a row nested thousands of levels deep with 400, naming the limit, and logs no error', async () => {
    const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const refused = await api(server, 'post', '/api/batches').set('Content-Type', 'application/json').send(`{"template":"mini","rows":[{"name":"Ada"},{"name":${deep}}]}`).expect(400);
    expect(refused.body.error).toEqual({
      code: 'USAGE',
      field: 'rows.1.name',
      message: 'body: rows.1.name nests objects or arrays more than 32 levels deep (the limit). Record values are text, numbers or booleans: send flat values.',
    });
    expect(server.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50)).toEqual([]);
  });
});
