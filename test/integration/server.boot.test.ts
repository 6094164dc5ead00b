import { spawn } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../src/server/index.js';
import { repoRoot } from '../support/pipeline.js';
import { createWorkspace, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

/**
 * One template that does not parse must not stop the server (issue 18, item 11): it starts,
 * serves the good templates, answers the broken one as a template broken at run time, lists it
 * in /readyz, and warns once. `server.strict` / `--strict` refuses to start as before.
 */

const apiKey = 'boot-test-api-key-0123456789';
const bin = join(repoRoot, 'bin/mergeshot.js');
let workspace: TestWorkspace;
let server: TestServer;

/** A designer's commit: a long page whose {{#if}} is never closed, far down the file. */
function brokenHtml(): string {
  const filler = Array.from({ length: 190 }, (_, i) => `  <p class="l${i}">Ligne ${i} — «quote» "stray ' quote" 東京 שלום 🎉</p>`).join('\n');
  return `<!doctype html>\n<html><body>\n${filler}\n  {{#if vip}}<div>{{name}}</div>\n</body></html>\n`;
}

async function addTemplate(id: string, manifest: (mini: Record<string, unknown>) => Record<string, unknown>, html?: string): Promise<void> {
  const dir = join(workspace.templatesDir, id);
  await cp(join(workspace.templatesDir, 'mini'), dir, { recursive: true });
  const mini = JSON.parse(await readFile(join(dir, 'template.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(dir, 'template.json'), JSON.stringify(manifest(mini), null, 2));
  if (html !== undefined) await writeFile(join(dir, 'template.html'), html);
}

beforeAll(async () => {
  workspace = await createWorkspace({ render: { pages: 1 }, server: { apiKeys: [{ name: 'ops', key: apiKey, scopes: ['admin'] }], watchTemplates: false } });
  await addTemplate('broken', (mini) => mini, brokenHtml());
  // Loads, but its colour fallback breaks the field's own rule: the fallback image cannot render.
  await addTemplate('bad-fallback', (mini) => ({ ...mini, fields: { ...(mini.fields as object), color: { type: 'color', fallback: 'red' } } }));
  // Breaks after the server started: how a template broken at run time answers.
  await addTemplate('later', (mini) => mini);
  server = await startServer(workspace.pipeline, workspace.config);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

describe('a template that does not parse at boot', () => {
  it('does not stop the server: the good template renders', async () => {
    const answer = await request(server.url).get('/i/mini.png').query({ name: 'Zoë «Ω» 東京 مرحبا 🎉 "O\'Brien"', vip: 'true' }).expect(200);
    expect(answer.headers['content-type']).toBe('image/png');
    expect(answer.headers['x-mergeshot-fallback']).toBeUndefined();
    const meta = await sharp(answer.body as Buffer).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 400, 200]);
  });

  it('answers the broken template as a template broken at run time does', async () => {
    const atBoot = await request(server.url).get('/i/broken.png').query({ name: 'Ada' });
    expect(atBoot.status).toBe(500);
    expect(atBoot.body).toEqual({ error: { code: 'TEMPLATE_INVALID', message: 'The template cannot be compiled.' } });

    await request(server.url).get('/i/later.png').expect(200);
    await writeFile(join(workspace.templatesDir, 'later', 'template.html'), brokenHtml());
    await request(server.url).post('/api/purge').set('Authorization', `Bearer ${apiKey}`).send({}).expect(200);
    const atRunTime = await request(server.url).get('/i/later.png').query({ name: 'Ada' });
    expect([atRunTime.status, atRunTime.body]).toEqual([atBoot.status, atBoot.body]);
  });

  it('answers a template whose fallback is broken with an image and the reason, never a broken image', async () => {
    const answer = await request(server.url).get('/i/bad-fallback.png').expect(200);
    expect(answer.headers['x-mergeshot-fallback']).toBe('MANIFEST_INVALID');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect((await sharp(answer.body as Buffer).metadata()).width).toBe(400);
  });

  it('shows the reason in the studio: the file and the line', async () => {
    const listed = await request(server.url).get('/api/templates').set('Authorization', `Bearer ${apiKey}`).expect(200);
    expect((listed.body as { templates: { id: string; error?: { code: string } }[] }).templates.find((t) => t.id === 'broken')?.error).toEqual({ code: 'TEMPLATE_INVALID' });
    const problem = await request(server.url).get('/api/templates/broken/problem').set('Authorization', `Bearer ${apiKey}`).expect(200);
    expect(JSON.stringify(problem.body)).toMatch(/Parse error on line 19[0-9]/);
  });

  it('stays ready and lists the broken templates in /readyz, with their codes only', async () => {
    const ready = await request(server.url).get('/readyz').expect(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.broken).toEqual(expect.arrayContaining([
      { template: 'broken', code: 'TEMPLATE_INVALID' },
      { template: 'bad-fallback', code: 'MANIFEST_INVALID' },
    ]));
    expect(ready.body.broken.map((entry: { template: string }) => entry.template)).not.toContain('mini');
    // A public route: no server path, no excerpt of the template.
    expect(JSON.stringify(ready.body)).not.toContain(workspace.root);
    expect(JSON.stringify(ready.body)).not.toContain('Parse error');
  });

  it('warns once per broken template at boot, with its id and code', () => {
    const warnings = server.logs.map((line) => JSON.parse(line) as { level: number; msg: string; template?: string; code?: string }).filter((entry) => entry.level === 40 && entry.msg.startsWith('template not served'));
    expect(warnings.filter((entry) => entry.template === 'broken').map((entry) => entry.code)).toEqual(['TEMPLATE_INVALID']);
    expect(warnings.filter((entry) => entry.template === 'bad-fallback').map((entry) => entry.code)).toEqual(['MANIFEST_INVALID']);
    expect(warnings.some((entry) => entry.template === 'mini')).toBe(false);
  });
});

describe('server.strict', () => {
  it('refuses to start createServer with CONFIG_INVALID naming the broken file', async () => {
    const strict = { ...workspace.config, server: { ...workspace.config.server, strict: true } };
    await expect(createServer(workspace.pipeline, strict, { logger: pino({ level: 'silent' }), metricsRegistry: new Registry() })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/broken[/\\]template\.html: Parse error on line 19[0-9]/),
    });
  });

  it('mergeshot serve --strict exits 2; mergeshot serve without it listens', async () => {
    const strictRun = await run(['--templates', workspace.templatesDir, 'serve', '--port', '0', '--host', '127.0.0.1', '--strict']);
    expect(strictRun.code, strictRun.stderr).toBe(2);
    expect(strictRun.stderr).toContain('error CONFIG_INVALID');
    expect(strictRun.stderr).toMatch(/template\.html: Parse error on line 19[0-9]/);
    expect(strictRun.stdout).not.toContain('"msg":"listening"');

    const relaxed = await run(['--templates', workspace.templatesDir, 'serve', '--port', '0', '--host', '127.0.0.1'], (stdout) => stdout.includes('"msg":"listening"'));
    expect(relaxed.stdout).toContain('"msg":"listening"');
    expect(relaxed.code, relaxed.stderr).toBe(0);
  }, 60_000);

  it('mergeshot check --all exits non-zero (2, TEMPLATE_INVALID) for a template that does not parse', async () => {
    const ci = join(workspace.root, 'ci-templates');
    for (const id of ['mini', 'broken']) await cp(join(workspace.templatesDir, id), join(ci, id), { recursive: true });
    const checked = await run(['--templates', ci, 'check', '--all']);
    // What CI keys on: the exit code. check stops at the template that does not load.
    expect(checked.code, checked.stderr).toBe(2);
    expect(checked.stderr).toMatch(/error TEMPLATE_INVALID: .*template\.html: Parse error on line 19[0-9]/);
  }, 120_000);
});

/** Runs the CLI in the workspace; SIGTERM once `stopWhen` holds for stdout (a server that started). */
function run(args: string[], stopWhen?: (stdout: string) => boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: workspace.root, env: { ...process.env, MERGESHOT_PAGES: '1', MERGESHOT_CACHE_DIR: join(workspace.root, 'cli-cache') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    // Bounded: a server that never says "listening" is killed rather than left running.
    const deadline = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (!stopped && stopWhen?.(stdout)) {
        stopped = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout, stderr });
    });
  });
}
