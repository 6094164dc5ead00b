import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, utimes, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meanColour } from '../support/pipeline.js';
import { createWorkspace, pollUntil, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

/**
 * Hot reload by content (server/templateWatcher.ts): however a designer's tools write
 * template.html (an editor's safe-write by rename, then an in-place save; `cp` over it; a git
 * checkout), the studio gets its reload event and the image URL answers the new version (new
 * ETag, other bytes) within 2 s. Before, an in-place save after one rename went unseen: Node's
 * recursive fs.watch on Linux had been watching the replaced file's inode.
 */
const run = promisify(execFile);
const password = 'reload «studio» password 🔁 密码';
let workspace: TestWorkspace;
let server: TestServer;
let dir: string;
let file: string;
let cookie: string;
let stream: ReturnType<typeof httpRequest>;
const events: string[] = [];

const page = (colour: string, note = '') => `<!doctype html><html><head><meta charset="utf-8"></head>
<body style="margin:0"><div style="width:200px;height:100px;background:${colour}">{{name}}</div><!-- ${note} --></body></html>`;

/** The `ids` of every `event: templates` received so far. */
const reloads = () => [...events.join('').matchAll(/event: templates\ndata: (.*)\n/g)].map((match) => (JSON.parse(match[1]!) as { ids: string[] }).ids);

async function image(): Promise<{ colour: number[]; etag: string; bytes: Buffer; cacheControl: string }> {
  const answer = await request(server.url).get('/i/reload.png?name=').expect(200);
  const bytes = answer.body as Buffer;
  return { colour: await meanColour(bytes, { left: 150, top: 20, width: 40, height: 60 }), etag: String(answer.headers.etag), bytes, cacheControl: String(answer.headers['cache-control']) };
}

/** Writes with `write`, then waits (2 s at most, no fixed sleep) for the reload event, and returns the image served after it. */
async function edit(write: () => Promise<unknown>, expectedIds: string[] = ['reload']) {
  const before = reloads().length;
  await write();
  const seen = await pollUntil('the studio reload event', async () => reloads(), (all) => all.length > before, { timeoutMs: 2_000, intervalMs: 20 });
  expect(seen.at(-1)).toEqual(expectedIds);
  return image();
}

beforeAll(async () => {
  workspace = await createWorkspace({ server: { host: '127.0.0.1', tokenKey: randomBytes(32).toString('base64'), templatePollMs: 500 }, studio: { password } });
  dir = join(workspace.templatesDir, 'reload');
  file = join(dir, 'template.html');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'template.json'), JSON.stringify({ name: 'Reload — «ünïcødé» 🔁', width: 200, height: 100, fields: { name: { type: 'text', fallback: '' } } }));
  await writeFile(file, page('#dc2626'));
  server = await startServer(workspace.pipeline, workspace.config);
  const login = await request(server.url).post('/login').type('form').send({ secret: password, next: '/' }).expect(303);
  cookie = String(login.headers['set-cookie']).split(';')[0]!;
  stream = httpRequest(new URL('/api/events', server.url), { headers: { Cookie: cookie } });
  stream.end();
  const response = await new Promise<IncomingMessage>((resolve) => stream.once('response', resolve));
  expect(response.statusCode).toBe(200);
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => events.push(chunk));
  await pollUntil('the event stream to open', async () => events.join(''), (text) => text.includes(': connected'));
}, 60_000);

afterAll(async () => {
  stream?.destroy();
  await server?.close();
  await workspace?.close();
});

describe('hot reload by content', () => {
  it('sees an in-place save after the file was once replaced by rename (safe-write, sed -i)', async () => {
    const first = await image();
    expect(first.colour).toEqual([220, 38, 38]);
    expect(first.cacheControl).toContain('max-age=86400');

    // An editor's safe-write: a temporary file renamed over template.html (a new inode).
    const renamed = await edit(async () => {
      await writeFile(`${file}.tmp-${process.pid}`, page('#16a34a'));
      await rename(`${file}.tmp-${process.pid}`, file);
    });
    expect(renamed.colour).toEqual([22, 163, 74]);
    expect(renamed.etag).not.toBe(first.etag);

    // Then a save in place on the same path: this is what went unseen.
    const inPlace = await edit(() => writeFile(file, page('#2563eb')));
    expect(inPlace.colour).toEqual([37, 99, 235]);
    expect(inPlace.etag).not.toBe(renamed.etag);
    expect(inPlace.bytes.equals(renamed.bytes)).toBe(false);

    // And once more in place: the watch still holds.
    const again = await edit(() => writeFile(file, page('#f59e0b')));
    expect(again.colour).toEqual([245, 158, 11]);
    expect(again.etag).not.toBe(inPlace.etag);
  });

  it('sees `cp` over the file', async () => {
    const before = await image();
    const source = join(workspace.root, 'from-elsewhere.html');
    await writeFile(source, page('#7c3aed', 'copied from a designer’s folder — “quotes” and 👩🏽‍🎨'));
    const copied = await edit(() => run('cp', [source, file]));
    expect(copied.colour).toEqual([124, 58, 237]);
    expect(copied.etag).not.toBe(before.etag);
  });

  it('sees a git checkout of an older version', async () => {
    // The repository lives outside the templates folder, as a checkout's .git would not be watched content.
    const gitDir = join(workspace.root, 'designs.git');
    const git = (...args: string[]) => run('git', ['-c', 'user.name=Désirée O’Neil', '-c', 'user.email=d@example.com', '-c', 'commit.gpgsign=false', `--git-dir=${gitDir}`, `--work-tree=${dir}`, ...args], { cwd: dir });
    await git('init', '-q');
    await git('add', '-A');
    await git('commit', '-q', '-m', 'purple');
    const purple = await image();
    const teal = await edit(() => writeFile(file, page('#0d9488')));
    expect(teal.colour).toEqual([13, 148, 136]);
    const checkedOut = await edit(() => git('checkout', '-q', '--', 'template.html'));
    expect(checkedOut.colour).toEqual([124, 58, 237]);
    expect(checkedOut.etag).not.toBe(teal.etag);
    // Same content as before the edit: the same version, so the same image is served again.
    expect(checkedOut.etag).toBe(purple.etag);
  });

  it('reloads by content: a touched file with the same bytes is not reported, an edit beside it is', async () => {
    const before = await image();
    const mini = join(workspace.templatesDir, 'mini', 'template.html');
    // Both in one go: the touch would name "reload" if events (or stats) alone decided.
    const after = await edit(async () => {
      const later = new Date(Date.now() + 5_000);
      await utimes(file, later, later);
      await writeFile(mini, page('#000000', 'mini edited'));
    }, ['mini']);
    expect(after.etag).toBe(before.etag);
  });
});
