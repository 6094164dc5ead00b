import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNew } from '../../src/cli/commands/new.js';
import { createWorkspace, startServer, type TestServer, type TestWorkspace } from '../support/server.js';
import { fixtureTemplates, meanColour, repoRoot } from '../support/pipeline.js';

/**
 * Issue 18, items 2 and 3: a template folder is a git checkout anyone with commit rights fills,
 * so links committed to it must never make the server read, render, serve or write a file
 * outside it. Real files in a temp dir, a real server (in this process, and `mergeshot serve` in
 * a child for the environment), real Chromium.
 */
const apiKey = `symlinks-api-key-${randomBytes(8).toString('hex')}`;
let workspace: TestWorkspace;
let server: TestServer;
/** A folder beside the templates: what a link must never reach. */
let outside: string;

const api = (method: 'get' | 'post', path: string) => request(server.url)[method](path).set('Authorization', `Bearer ${apiKey}`);

/** A GET whose body is kept as bytes (an image, or the JSON error instead of one). */
async function getBytes(path: string): Promise<{ status: number; fallback: string | null; body: Buffer }> {
  const response = await fetch(new URL(path, server.url), { headers: { Authorization: `Bearer ${apiKey}` } });
  return { status: response.status, fallback: response.headers.get('x-mergeshot-fallback'), body: Buffer.from(await response.arrayBuffer()) };
}

/** A small template of its own: text, an image beside it, and nothing else. */
async function addTemplate(id: string, html: string): Promise<string> {
  const dir = join(workspace.templatesDir, id);
  await mkdir(join(dir, 'assets'), { recursive: true });
  await writeFile(join(dir, 'template.json'), JSON.stringify({ name: `Probe ${id}`, width: 300, height: 120, fields: { name: { type: 'text', fallback: 'Zoë «Ünïcødé» O\'Brien' } }, alt: 'Probe' }, null, 2));
  await writeFile(join(dir, 'template.html'), html);
  return dir;
}

/** A square of one colour, as PNG bytes. */
function square(r: number, g: number, b: number): Promise<Buffer> {
  return sharp({ create: { width: 100, height: 100, channels: 3, background: { r, g, b } } }).png().toBuffer();
}

beforeAll(async () => {
  workspace = await createWorkspace({ server: { apiKeys: [{ name: 'ops', key: apiKey, scopes: ['admin'] }] } });
  outside = join(workspace.root, 'outside');
  await mkdir(outside);
  const page = (body: string) => `<!doctype html><html><head><style>body{margin:0;background:#fff}img{position:absolute;top:10px;width:100px;height:100px}</style></head><body>${body}</body></html>`;
  await addTemplate('probe', page('<p>{{name}}</p>'));
  const assets = await addTemplate('probe-assets', page('<img src="outside.png" style="left:10px" alt=""><img src="inside.png" style="left:150px" alt="">'));
  await writeFile(join(outside, 'red.png'), await square(255, 0, 0));
  await writeFile(join(assets, 'assets', 'blue.png'), await square(0, 0, 255));
  // Links in the template folder: one to a file outside it, one to a file inside it.
  await symlink(join(outside, 'red.png'), join(assets, 'outside.png'));
  await symlink('assets/blue.png', join(assets, 'inside.png'));
  server = await startServer(workspace.pipeline, workspace.config);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

/** Replaces a file of a template by a link, and has the server re-read the templates now. */
async function linkInstead(path: string, target: string): Promise<void> {
  await rm(path, { force: true, recursive: true });
  await symlink(target, path);
  await api('post', '/api/purge').send({}).expect(200);
}

describe('reads stay inside their folder', () => {
  it('never renders /etc/passwd behind template.html into an image', async () => {
    const passwd = await readFile('/etc/passwd', 'utf8');
    const html = join(workspace.templatesDir, 'probe', 'template.html');
    const original = await readFile(html);
    try {
      await linkInstead(html, '/etc/passwd');
      const response = await getBytes('/i/probe.png?name=Ada');
      // The render fails or falls back: never an image made from the file.
      expect(response.status === 200 && response.fallback === null, `status ${response.status}`).toBe(false);
      expect(response.body.toString('latin1')).not.toContain(passwd.split('\n')[0]!);
      await expect(workspace.pipeline.renderOne({ template: 'probe', data: { name: 'Ada' } })).rejects.toMatchObject({ code: 'FILE_OUTSIDE_ROOT' });
    } finally {
      await unlink(html);
      await writeFile(html, original);
      await api('post', '/api/purge').send({}).expect(200);
    }
  }, 120_000);

  it('blocks an asset linked outside the templates folder (with a warning) and serves one linked inside', async () => {
    const result = await workspace.pipeline.renderOne({ template: 'probe-assets', data: {} });
    expect(result.warnings.map((warning) => warning.code)).toContain('request-blocked');
    const [r, g, b] = await meanColour(result.bytes, { left: 30, top: 30, width: 60, height: 60 });
    expect(r - Math.max(g, b), `the outside image was drawn: rgb(${r}, ${g}, ${b})`).toBeLessThan(50);
    expect(await meanColour(result.bytes, { left: 170, top: 30, width: 60, height: 60 })).toEqual([0, 0, 255]);
  }, 120_000);

  it('refuses a golden that is a link out of the template, without serving its bytes', async () => {
    const dir = join(workspace.templatesDir, 'probe-golden');
    await cp(join(fixtureTemplates, 'mini'), dir, { recursive: true });
    const planted = Buffer.concat([await square(255, 0, 0), Buffer.from('PLANTED-GOLDEN')]);
    await writeFile(join(outside, 'golden.png'), planted);
    await mkdir(join(dir, '__golden__'));
    await symlink(join(outside, 'golden.png'), join(dir, '__golden__', 'typical.default.original.png'));
    const response = await getBytes('/api/templates/probe-golden/visual/typical.default.original/expected.png');
    expect(response.body.includes('PLANTED-GOLDEN')).toBe(false);
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body.toString('utf8'))).toEqual({ error: { code: 'FILE_OUTSIDE_ROOT', message: expect.any(String), field: '__golden__/typical.default.original.png' } });
    // Accepting through it is refused too, and the file it points at keeps its bytes.
    await api('post', '/api/templates/probe-golden/visual/accept').send({ all: true }).expect(500);
    expect(await readFile(join(outside, 'golden.png'))).toEqual(planted);
  }, 120_000);
});

describe('the problem route and the environment (mergeshot serve in a child process)', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('refuses template.html -> /proc/self/environ with no excerpt and none of the server\'s secrets', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mergeshot-environ-'));
    // An admin key (purge), written in the env's scoped form: the key itself must never show.
    const apiKey = `key-${randomBytes(12).toString('hex')}`;
    const secrets = { MERGESHOT_STUDIO_PASSWORD: `pw-${randomBytes(12).toString('hex')}`, MERGESHOT_API_KEYS: `ops:admin:${apiKey}`, PLANTED_SECRET: `planted-${randomBytes(12).toString('hex')}` };
    try {
      await cp(join(fixtureTemplates, 'mini'), join(root, 'templates', 'mini'), { recursive: true });
      const child = spawn(process.execPath, [join(repoRoot, 'bin/mergeshot.js'), 'serve', '--port', '0', '--host', '127.0.0.1'], {
        cwd: root,
        env: { ...process.env, ...secrets, MERGESHOT_STYLES: join(repoRoot, 'styles'), MERGESHOT_PAGES: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'listening') resolve(entry.port!);
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      const headers = { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' };
      // Made a link after the start: the boot check would refuse it otherwise.
      const html = join(root, 'templates', 'mini', 'template.html');
      await unlink(html);
      await symlink('/proc/self/environ', html);
      expect((await fetch(`${base}/api/purge`, { method: 'POST', headers, body: '{}' })).status).toBe(200);

      const problem = await fetch(`${base}/api/templates/mini/problem`, { headers });
      const text = await problem.text();
      expect(problem.status, text).toBe(200);
      expect(JSON.parse(text)).toEqual({ problem: { file: 'template.html', message: 'template.html is a link that leads outside its folder (mini/): refused, files are read only inside their folder. Replace the link with a copy of the file.' } });
      const image = await fetch(`${base}/i/mini.png?name=Ada`, { headers });
      const bytes = Buffer.from(await image.arrayBuffer()).toString('latin1');
      const check = await fetch(`${base}/api/templates/mini/check`, { headers });
      const checkText = await check.text();
      for (const value of [...Object.values(secrets), apiKey]) {
        expect(text).not.toContain(value);
        expect(bytes).not.toContain(value);
        expect(checkText).not.toContain(value);
      }
      expect(image.status === 200 && image.headers.get('x-mergeshot-fallback') === null).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('Accept never writes through a link', () => {
  const id = 'probe-accept';
  let dir: string;
  let golden: string;
  const name = 'typical.default.original';
  const accept = (body: object) => api('post', `/api/templates/${id}/visual/accept`).send(body);

  beforeAll(async () => {
    dir = join(workspace.templatesDir, id);
    golden = join(dir, '__golden__');
    await cp(join(fixtureTemplates, 'mini'), dir, { recursive: true });
    await accept({ all: true }).expect(200);
  }, 120_000);

  it('replaces a sidecar linked to template.json by a sidecar of its own; template.json keeps its bytes', async () => {
    const manifest = await readFile(join(dir, 'template.json'));
    await linkInstead(join(golden, `${name}.json`), '../template.json');
    const response = await accept({ cases: [name] }).expect(200);
    expect(response.body.sidecars).toEqual([name]);
    expect(await readFile(join(dir, 'template.json'))).toEqual(manifest);
    expect((await lstat(join(golden, `${name}.json`))).isFile()).toBe(true);
    expect(JSON.parse(await readFile(join(golden, `${name}.json`), 'utf8'))).toMatchObject({ image: expect.stringMatching(/^[0-9a-f]{16}$/), inputs: { template: { 'template.html': expect.any(String) } } });
  }, 120_000);

  it('never creates the file an absolute sidecar link points at', async () => {
    await linkInstead(join(golden, `${name}.json`), join(outside, 'created-by-accept.json'));
    const before = (await readdir(outside)).sort();
    await accept({ cases: [name] }).expect(200);
    expect((await readdir(outside)).sort()).toEqual(before);
    expect((await lstat(join(golden, `${name}.json`))).isFile()).toBe(true);
  }, 120_000);

  // The template's own __golden__ (the PNGs and sidecars) and the templates folder's (renderer.json).
  it.each([
    ['the template\'s', () => golden],
    ['the templates folder\'s (renderer.json)', () => join(workspace.templatesDir, '__golden__')],
  ])('refuses %s __golden__ folder that is a link, writing nothing there', async (_which, folder) => {
    const linked = folder();
    const elsewhere = await mkdtemp(join(outside, 'goldens-'));
    const kept = `${linked}-kept`;
    await rename(linked, kept);
    try {
      await symlink(elsewhere, linked);
      const response = await accept({ all: true });
      expect(await readdir(elsewhere)).toEqual([]);
      expect(response.status).toBe(409);
      expect(response.body.error).toMatchObject({ code: 'FILE_IS_LINK', field: '__golden__' });
    } finally {
      await unlink(linked);
      await rename(kept, linked);
    }
  }, 120_000);
});

describe('mergeshot new --from a template with links', () => {
  it('never rewrites the file a copied template.json link points at', async () => {
    const templatesDir = join(workspace.root, 'new-templates');
    await cp(join(fixtureTemplates, 'mini'), join(templatesDir, 'linked'), { recursive: true });
    const target = join(outside, 'manifest.json');
    await rename(join(templatesDir, 'linked', 'template.json'), target);
    const before = await readFile(target);
    await symlink(target, join(templatesDir, 'linked', 'template.json'));
    const outcome = await runNew('copy', { templatesDir, from: 'linked', name: 'Çopy «1»' }).catch((error: unknown) => error);
    expect((await readFile(target)).toString()).toBe(before.toString());
    expect(outcome).toMatchObject({ code: 'FILE_OUTSIDE_ROOT' });
  });
});
