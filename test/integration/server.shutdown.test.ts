import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureTemplates, repoRoot } from '../support/pipeline.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('mergeshot serve', () => {
  it('drains requests in flight on SIGTERM, closes Chromium and exits 0', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mergeshot-serve-'));
    dirs.push(root);
    await cp(join(fixtureTemplates, 'mini'), join(root, 'templates', 'mini'), { recursive: true });
    const child = spawn(process.execPath, [join(repoRoot, 'bin/mergeshot.js'), 'serve', '--port', '0', '--host', '127.0.0.1'], {
      cwd: root,
      env: { ...process.env, MERGESHOT_STYLES: join(repoRoot, 'styles'), MERGESHOT_PAGES: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let firstAnswered!: () => void;
    const answered = new Promise<void>((resolve) => (firstAnswered = resolve));
    const listening = new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg === 'listening') resolve(entry.port as number);
        if (entry.msg === 'request completed') firstAnswered();
      });
      void exited.then((code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
    });
    const port = await listening;
    const base = `http://127.0.0.1:${port}`;

    // One page: four distinct images render one after another; SIGTERM once the first is
    // answered lands while the other three are queued or rendering.
    const inFlight = Array.from({ length: 4 }, (_, i) => fetch(`${base}/i/mini.png?name=Drain%20${i}`).then(async (response) => ({ status: response.status, fallback: response.headers.get('x-mergeshot-fallback'), bytes: (await response.arrayBuffer()).byteLength })));
    await answered;
    child.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    expect(answers.map((answer) => [answer.status, answer.fallback])).toEqual(Array(4).fill([200, null]));
    expect(answers.every((answer) => answer.bytes > 0)).toBe(true);
    expect(await exited).toBe(0);
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['listening', 'draining: no new connections, finishing requests in flight', 'stopped']));
    // Some images were still rendering when the drain began, and were answered after it.
    const draining = lines.findIndex((line) => typeof line.msg === 'string' && line.msg.startsWith('draining'));
    expect(lines.slice(draining).filter((line) => line.msg === 'request completed').length).toBeGreaterThan(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
