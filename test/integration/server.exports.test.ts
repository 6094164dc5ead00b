import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportFixture, expectedAlt, expectedExport, failedReason, longDate, type ExpectedExport } from '../support/exports.js';
import { bundledTemplates } from '../support/pipeline.js';
import { binaryParser, createWorkspace, pollUntil, startServer, type TestServer, type TestWorkspace } from '../support/server.js';
import { zipEntry } from '../support/zip.js';

/**
 * Platform exports through the server, as `mergeshot render` reads them (cli.exports.test.ts):
 * POST /api/batches with a CSV body, and a studio upload → preflight → batch. Every row renders
 * with the date its column's format gives (checked in manifest.csv's alt text, built from the
 * merged values), the row with an unquoted delimiter fails with the reason, the reader's row
 * warnings (stray quote, short row) reach the preflight and the manifest, and a date column
 * that reads two ways is refused with 422 and the question, then accepted with `formats`.
 */

const apiKey = 'test-exports-key-0123456789';
let workspace: TestWorkspace;
let server: TestServer;

beforeAll(async () => {
  // Uploads and batches made from them need `campaigns` (server.scopes.test.ts checks a render key is refused).
  workspace = await createWorkspace({ server: { apiKeys: [{ name: 'exports', key: apiKey, scopes: ['render', 'campaigns'] }] } });
  await cp(join(bundledTemplates, 'event-invite'), join(workspace.templatesDir, 'event-invite'), { recursive: true });
  server = await startServer(workspace.pipeline, workspace.config);
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

const api = (method: 'get' | 'post', path: string) => request(server.url)[method](path).set('Authorization', `Bearer ${apiKey}`);

const mapQuery = (map: Readonly<Record<string, string>>) => Object.entries(map).map(([field, column]) => `&map=${encodeURIComponent(`${field}=${column}`)}`).join('');

async function manifestOf(id: string): Promise<Record<string, string>[]> {
  await pollUntil(`batch ${id} to finish`, async () => (await api('get', `/api/batches/${id}`).expect(200)).body as { status: string }, (status) => status.status === 'done', { timeoutMs: 300_000 });
  const zip = await api('get', `/api/batches/${id}/download`).buffer(true).parse(binaryParser as never).expect(200);
  return parse(zipEntry(zip.body as Buffer, 'manifest.csv'), { columns: true }) as Record<string, string>[];
}

/** Every row as the sidecar says: the right alt text (date, name, event), its warnings, or failed with the reason. */
function expectRows(manifest: readonly Record<string, string>[], expected: ExpectedExport): void {
  expect(manifest.map((entry) => entry.row)).toEqual(Object.keys(expected.rows));
  for (const entry of manifest) {
    const want = expected.rows[entry.row!]!;
    const where = `row ${entry.row}: ${entry.status} ${entry.warnings} ${entry.error}`;
    if (want.status === 'failed') {
      expect(entry.status, where).toBe('failed');
      expect(entry.error, where).toMatch(failedReason(entry.row!, want.error!));
      continue;
    }
    expect(entry.status, where).not.toBe('failed');
    expect(entry.alt, where).toBe(expectedAlt(want));
    for (const warning of want.warnings ?? []) expect(entry.warnings!.split(';'), where).toContain(warning);
  }
}

/** The question FORMAT_AMBIGUOUS carries for ambiguous-dates.csv's Date column. */
const dateQuestion = {
  field: 'date',
  column: 'Date',
  kind: 'date',
  formats: ['DD/MM/YYYY', 'MM/DD/YYYY'],
  samples: [
    { value: '06/12/2025', readings: [{ format: 'DD/MM/YYYY', value: '2025-12-06' }, { format: 'MM/DD/YYYY', value: '2025-06-12' }] },
    { value: '07/11/2025', readings: [{ format: 'DD/MM/YYYY', value: '2025-11-07' }, { format: 'MM/DD/YYYY', value: '2025-07-11' }] },
  ],
};

/** The sample values are personal data: they go to the client in the answer, never into a log line. */
function expectNotLogged(values: readonly string[]): void {
  for (const value of values) expect(server.logs.filter((line) => line.includes(value))).toEqual([]);
}

describe('platform exports through the server', () => {
  it('POST /api/batches with the Mailchimp export: every row has its MM/DD/YYYY date, the unquoted-comma row fails with the reason', async () => {
    const expected = await expectedExport('mailchimp-audience');
    const csv = await readFile(exportFixture('mailchimp-audience.csv'));
    const created = await api('post', `/api/batches?template=event-invite&preset=email${mapQuery(expected.map)}`).set('Content-Type', 'text/csv').send(csv).expect(202);
    expectRows(await manifestOf(created.body.id as string), expected);
    expect(created.body.notes).toContain('column "Event Date" (field "date") read as MM/DD/YYYY, decided from all its values; "formats": {"date": "…"} says otherwise');
  }, 400_000);

  it('refuses an ambiguous date column with 422 and the question, then renders it with the declared format', async () => {
    const expected = await expectedExport('ambiguous-dates');
    const csv = await readFile(exportFixture('ambiguous-dates.csv'));
    const refused = await api('post', '/api/batches?template=event-invite&preset=email').set('Content-Type', 'text/csv').send(csv).expect(422);
    expect(refused.body.error).toMatchObject({ code: 'FORMAT_AMBIGUOUS', field: 'date', columns: [dateQuestion] });
    expect(refused.body.error.message).toContain('column "Date" (field "date"): the dates can be read two ways, DD/MM/YYYY or MM/DD/YYYY');
    expect(refused.body.error.hint).toBe('Send the request again with "formats": {"date":"DD/MM/YYYY"} (or "date": "MM/DD/YYYY"), or set "input" on the field in template.json.');
    expectNotLogged(['06/12/2025', '07/11/2025']);
    // Refused before a job was made: nothing was queued with a guessed date.
    expect((await api('get', '/api/batches').expect(200)).body.batches.filter((batch: { total: number }) => batch.total === 8)).toEqual([]);

    // A declared format that no field or no reading fits is a 400 naming the field, the value and the valid forms.
    const badFormat = await api('post', `/api/batches?template=event-invite&formats=${encodeURIComponent('date=sometime')}`).set('Content-Type', 'text/csv').send(csv).expect(400);
    expect(badFormat.body.error).toMatchObject({ code: 'USAGE', field: 'formats.date' });
    expect(badFormat.body.error.message).toContain('formats.date "sometime" is not a date format. Use a pattern like "DD/MM/YYYY", "MM/DD/YYYY"');
    const badField = await api('post', `/api/batches?template=event-invite&formats=${encodeURIComponent('when=DD/MM/YYYY')}`).set('Content-Type', 'text/csv').send(csv).expect(400);
    expect(badField.body.error.message).toContain('formats.when is not a date or number field of the template. Date and number fields: date.');

    const accepted = await api('post', `/api/batches?template=event-invite&preset=email&formats=${encodeURIComponent('date=DD/MM/YYYY')}`).set('Content-Type', 'text/csv').send(csv).expect(202);
    const manifest = await manifestOf(accepted.body.id as string);
    expect(manifest.map((entry) => entry.alt!.match(/ on (.+?) at /u)?.[1])).toEqual(Object.values(expected.rows).map((row) => (row.date ? longDate(row.date) : undefined)));
    expect(manifest.map((entry) => entry.alt!.match(/ on (.+?) at /u)?.[1])).toEqual(['December 6, 2025', 'November 7, 2025', 'February 1, 2026', 'June 12, 2025', 'December 6, 2025', 'April 3, 2026', undefined, 'October 10, 2025']);
  }, 400_000);

  it('a studio upload of the HubSpot export: the upload, the preflight and the batch carry the reader warnings; the short row stays readable', async () => {
    const expected = await expectedExport('hubspot-contacts');
    const csv = await readFile(exportFixture('hubspot-contacts.csv'));
    const uploaded = await api('post', '/api/uploads?template=event-invite').set('Content-Type', 'text/csv').send(csv).expect(201);
    expect(uploaded.body).toMatchObject({ rows: 27, unreadableCount: 1, formatQuestions: [] });
    expect(uploaded.body.unreadable[0].reason).toMatch(failedReason('7', expected.rows['7']!.error!));
    // Read against the automatic mapping (no field is called "First Name"): the short row is a warning at upload already.
    expect(uploaded.body.warned).toContainEqual({ row: 21, warnings: expect.arrayContaining(['short-row:']) as unknown });
    const id = uploaded.body.id as string;

    const preflight = await api('post', `/api/uploads/${id}/preflight`).send({ template: 'event-invite', preset: 'email', map: expected.map }).expect(200);
    expect(preflight.body.counts).toMatchObject({ 'stray-quote': 1, 'short-row': 1 });
    expect(preflight.body.findings).toEqual(expect.arrayContaining([{ row: 16, codes: expect.arrayContaining(['stray-quote']) as unknown }, { row: 21, codes: expect.arrayContaining(['short-row']) as unknown }]));
    expect(preflight.body.notes).toEqual(expect.arrayContaining([expect.stringContaining('read as DD.MM.YYYY') as unknown]));

    const batch = await api('post', '/api/batches').send({ template: 'event-invite', preset: 'email', upload: id, map: expected.map }).expect(202);
    expectRows(await manifestOf(batch.body.id as string), expected);
  }, 400_000);

  it('a studio upload of an ambiguous date column asks at upload, refuses the preflight with the question, then takes `formats`', async () => {
    const csv = await readFile(exportFixture('ambiguous-dates.csv'));
    const uploaded = await api('post', '/api/uploads?template=event-invite').set('Content-Type', 'text/csv').send(csv).expect(201);
    // Asked at upload, with two values read both ways; the rows are still counted.
    expect(uploaded.body).toMatchObject({ rows: 8, unreadableCount: 0, formatQuestions: [dateQuestion] });
    expect((await api('get', `/api/uploads/${uploaded.body.id}`).expect(200)).body.formatQuestions).toEqual([dateQuestion]);
    const preflightPath = `/api/uploads/${uploaded.body.id}/preflight`;
    const refused = await api('post', preflightPath).send({ template: 'event-invite', preset: 'email' }).expect(422);
    expect(refused.body.error).toMatchObject({ code: 'FORMAT_AMBIGUOUS', columns: [dateQuestion] });
    const bad = await api('post', preflightPath).send({ template: 'event-invite', formats: { date: 'sometime' } }).expect(400);
    expect(bad.body.error).toMatchObject({ code: 'USAGE', field: 'formats.date' });
    const batchRefused = await api('post', '/api/batches').send({ template: 'event-invite', preset: 'email', upload: uploaded.body.id }).expect(422);
    expect(batchRefused.body.error.columns).toEqual([dateQuestion]);
    expectNotLogged(['06/12/2025', '07/11/2025']);

    const preflight = await api('post', preflightPath).send({ template: 'event-invite', preset: 'email', formats: { date: 'MM/DD/YYYY' } }).expect(200);
    expect(preflight.body).toMatchObject({ rows: 8, failed: 0 });
    const batch = await api('post', '/api/batches').send({ template: 'event-invite', preset: 'email', upload: uploaded.body.id, formats: { date: 'MM/DD/YYYY' } }).expect(202);
    const manifest = await manifestOf(batch.body.id as string);
    expect(manifest.map((entry) => entry.alt!.match(/ on (.+?) at /u)?.[1])).toEqual(['June 12, 2025', 'July 11, 2025', 'January 2, 2026', 'December 6, 2025', 'June 12, 2025', 'March 4, 2026', undefined, 'October 10, 2025']);
  }, 400_000);
});
