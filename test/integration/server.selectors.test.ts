import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/pipeline/index.js';
import { createServer } from '../../src/server/index.js';
import { createWorkspace, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

/**
 * Names from a request select a preset or a size. Object.prototype's members ("constructor",
 * "__proto__", "toString"…) are names too: each must be as unknown as any other. (Fields: the
 * mapping's own tests, test/unit/data/columns.test.ts.)
 */
const builtInNames = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
const apiKey = 'test-api-key-0123456789';
let workspace: TestWorkspace;
let server: TestServer;

beforeAll(async () => {
  workspace = await createWorkspace({ server: { apiKeys: [apiKey] } });
  server = await startServer(workspace.pipeline, workspace.config);
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

const api = (path: string) => request(server.url).post(path).set('Authorization', `Bearer ${apiKey}`);

/** The error body for an unknown name, as answered for `known` with that name put in. */
function asFor(body: unknown, known: string, name: string): unknown {
  return JSON.parse(JSON.stringify(body).replaceAll(`\\"${known}\\"`, JSON.stringify(JSON.stringify(name)).slice(1, -1)));
}

describe('built-in property names', () => {
  it('are unknown sizes on /i/: 400 with the same error as any unknown size', async () => {
    const unknown = (await request(server.url).get('/i/mini.png').query({ size: 'huge' }).expect(400)).body;
    expect(unknown.error).toMatchObject({ code: 'SIZE_UNKNOWN', field: 'size' });
    for (const name of builtInNames) {
      const answer = await request(server.url).get('/i/mini.png').query({ size: name });
      expect(answer.status, name).toBe(400);
      expect(answer.headers['x-mergeshot-fallback'], name).toBeUndefined();
      expect(answer.body, name).toEqual(asFor(unknown, 'huge', name));
    }
  });

  it('are unknown presets on /i/: 400 with the same error as any unknown preset', async () => {
    const unknown = (await request(server.url).get('/i/mini.png').query({ preset: 'nope' }).expect(400)).body;
    expect(unknown.error).toMatchObject({ code: 'PRESET_UNKNOWN', field: 'preset' });
    for (const name of builtInNames) {
      const answer = await request(server.url).get('/i/mini.png').query({ preset: name });
      expect(answer.status, name).toBe(400);
      expect(answer.body, name).toEqual(asFor(unknown, 'nope', name));
    }
  });

  it('are unknown presets and sizes on /api/render and /api/batches', async () => {
    for (const name of builtInNames) {
      expect((await api('/api/render').send({ template: 'mini', preset: name }).expect(400)).body.error.code, name).toBe('PRESET_UNKNOWN');
      expect((await api('/api/render').send({ template: 'mini', size: name }).expect(400)).body.error.code, name).toBe('SIZE_UNKNOWN');
      expect((await api('/api/batches').send({ template: 'mini', preset: name, rows: [{ name: 'Ada' }] }).expect(400)).body.error.code, name).toBe('PRESET_UNKNOWN');
      expect((await api('/api/batches').send({ template: 'mini', size: name, rows: [{ name: 'Ada' }] }).expect(400)).body.error.code, name).toBe('SIZE_UNKNOWN');
    }
  });

  it('are not a defaultPreset: a strict server refuses to start', async () => {
    const dir = join(workspace.templatesDir, 'proto-default');
    await mkdir(dir, { recursive: true });
    const manifest = JSON.parse(await readFile(join(workspace.templatesDir, 'mini', 'template.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'template.html'), await readFile(join(workspace.templatesDir, 'mini', 'template.html'), 'utf8'));
    await writeFile(join(dir, 'template.json'), JSON.stringify({ ...manifest, defaultPreset: 'constructor' }));
    const strict = { ...workspace.config, server: { ...workspace.config.server, strict: true } };
    const boot = (pipeline: Pipeline) => createServer(pipeline, strict, { logger: pino({ level: 'silent' }), metricsRegistry: new Registry() });
    try {
      workspace.pipeline.registry.invalidate();
      const expected = 'templates/proto-default/template.json: defaultPreset "constructor" is not a preset. Presets: email, email-png, whatsapp, og, web, original.';
      await expect(boot(workspace.pipeline)).rejects.toThrow(expected);
      // The server checks own presets itself, whatever table the pipeline hands it.
      await expect(boot({ ...workspace.pipeline, presets: { ...workspace.pipeline.presets } })).rejects.toThrow(expected);
    } finally {
      await writeFile(join(dir, 'template.json'), JSON.stringify(manifest));
    }
  });
});
