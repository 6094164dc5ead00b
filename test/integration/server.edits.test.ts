import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meanColour } from '../support/pipeline.js';
import { createWorkspace, pollUntil, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

/**
 * A designer edits a template's stylesheet or image while the server runs: the next image
 * shows the edit (the template gets a new version, and no stale copy of the file is served to
 * Chromium from the static-file cache).
 */
let workspace: TestWorkspace;
let server: TestServer;
let dir: string;

const html = `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="style.css"></head>
<body style="margin:0"><div class="box"></div><img src="assets/dot.png" alt="" style="position:absolute;left:100px;top:0;width:100px;height:100px"></body></html>`;
const solid = (hex: string) => sharp({ create: { width: 10, height: 10, channels: 3, background: hex } }).png().toBuffer();

beforeAll(async () => {
  workspace = await createWorkspace();
  dir = join(workspace.templatesDir, 'edits');
  await mkdir(join(dir, 'assets'), { recursive: true });
  await writeFile(join(dir, 'template.json'), JSON.stringify({ name: 'Edits', width: 200, height: 100, fields: { name: { type: 'text', fallback: '' } } }));
  await writeFile(join(dir, 'template.html'), html);
  await writeFile(join(dir, 'style.css'), '.box { width: 100px; height: 100px; background: #dc2626; }');
  await writeFile(join(dir, 'assets/dot.png'), await solid('#2563eb'));
  server = await startServer(workspace.pipeline, workspace.config);
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

async function colours(): Promise<{ box: number[]; image: number[]; etag: string }> {
  const answer = await request(server.url).get('/i/edits.png?name=x').expect(200);
  const bytes = answer.body as Buffer;
  return { box: await meanColour(bytes, { left: 20, top: 20, width: 60, height: 60 }), image: await meanColour(bytes, { left: 120, top: 20, width: 60, height: 60 }), etag: String(answer.headers.etag) };
}

/** Waits for the server's watcher to say it saw the edit (an event, not a sleep). */
const watcherLines = () => server.logs.filter((line) => line.includes('template files changed')).length;

async function edited(before: number): Promise<void> {
  await pollUntil('the template watcher to log the edit', async () => watcherLines(), (lines) => lines > before, { timeoutMs: 10_000, intervalMs: 25 });
}

describe('editing a template under a running server', () => {
  it('shows an edited stylesheet and an edited image at the next request', async () => {
    const first = await colours();
    expect(first.box).toEqual([220, 38, 38]);
    expect(first.image).toEqual([37, 99, 235]);

    let seen = watcherLines();
    await writeFile(join(dir, 'style.css'), '.box { width: 100px; height: 100px; background: #16a34a; }');
    await edited(seen);
    const second = await colours();
    expect(second.box).toEqual([22, 163, 74]);
    expect(second.etag).not.toBe(first.etag);

    seen = watcherLines();
    await writeFile(join(dir, 'assets/dot.png'), await solid('#f59e0b'));
    await edited(seen);
    const third = await colours();
    expect(third.image).toEqual([245, 158, 11]);
    expect(third.box).toEqual([22, 163, 74]);
  });
});
