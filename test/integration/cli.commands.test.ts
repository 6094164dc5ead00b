import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureTemplates, repoRoot } from '../support/pipeline.js';
import { unreadableCsv, unreadableReason } from '../support/data.js';
import { pollUntil } from '../support/server.js';

const bin = join(repoRoot, 'bin/mergeshot.js');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mergeshot-cli-cmd-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const env = { ...process.env, MERGESHOT_PAGES: '2' };

async function mergeshot(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { cwd: work, env }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

function chromiumChildren(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) === pid) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

describe('mergeshot commands', () => {
  it('reads NDJSON from standard input', async () => {
    const out = join(work, 'stdin');
    const lines = ['{"name":"Ada","vip":true,"color":"#000000"}', '{"name":"Grace","vip":false,"color":"#000000"}'].join('\n');
    const result = await mergeshot(['--templates', fixtureTemplates, 'render', 'mini', '--data', '-', '--out', out, '--preset', 'email'], lines);
    expect(result.code, result.stderr).toBe(0);
    const files = (await readdir(out)).filter((f) => f.endsWith('.jpg')).sort();
    expect(files).toEqual(['00001.jpg', '00002.jpg']);
    const meta = await sharp(join(out, files[0]!)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1200, 600]);
  });

  it('Ctrl-C finishes renders in flight, writes the manifest, exits 130 and leaves no Chromium behind', async () => {
    const data = join(work, 'many.ndjson');
    await writeFile(data, Array.from({ length: 400 }, (_, i) => JSON.stringify({ name: `Guest ${i}`, vip: i % 2 === 0, color: '#123456' })).join('\n'));
    const out = join(work, 'interrupted');
    const child = spawn(process.execPath, [bin, '--templates', fixtureTemplates, 'render', 'mini', '--data', data, '--out', out], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const browsers = new Set<number>();
    // Interrupt once a few images exist.
    await pollUntil(
      'five images written by the batch',
      async () => {
        for (const pid of chromiumChildren(child.pid!)) browsers.add(pid);
        return existsSync(out) ? (await readdir(out)).filter((f) => f.endsWith('.png')).length : 0;
      },
      (images) => images >= 5,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(browsers.size).toBeGreaterThan(0);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(130);
    const manifest = parse(await readFile(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[];
    const images = (await readdir(out)).filter((f) => f.endsWith('.png'));
    expect(manifest.length).toBeGreaterThanOrEqual(5);
    expect(manifest.length).toBeLessThan(400);
    expect(manifest.map((m) => m.file).sort()).toEqual(images.sort());
    expect(manifest.every((m) => m.status !== 'failed')).toBe(true);
    expect((await readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const pid of browsers) expect(existsSync(`/proc/${pid}`), `Chromium ${pid} still running`).toBe(false);
  });

  it('new copies the starter into a template folder that renders every sample cleanly, and lists only real ids', async () => {
    const templates = join(work, 'new-templates');
    const created = await mergeshot(['--templates', templates, 'new', 'spring-sale']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`created ${join(templates, 'spring-sale')}`);
    const manifest = JSON.parse(await readFile(join(templates, 'spring-sale', 'template.json'), 'utf8')) as { name: string };
    expect(manifest.name).toBe('Spring sale');
    expect(await readFile(join(templates, 'spring-sale', 'template.html'), 'utf8')).toContain('{{fit "headline"');
    const again = await mergeshot(['--templates', templates, 'new', 'spring-sale']);
    expect([again.code, again.stderr]).toEqual([2, `error USAGE: ${join(templates, 'spring-sale')} already exists: pick another id, or remove the folder first.\n`]);
    expect((await mergeshot(['--templates', templates, 'new', '_hidden'])).code).toBe(2);
    const copy = await mergeshot(['--templates', templates, 'new', 'autumn', '--from', 'spring-sale', '--name', 'Autumn']);
    expect(copy.code, copy.stderr).toBe(0);
    // The starter's samples are its own QA: every one renders, the missing one with its fallbacks only.
    const sheet = join(work, 'spring.png');
    const preview = await mergeshot(['--templates', templates, 'preview', 'spring-sale', '--out', sheet]);
    expect(preview.code, preview.stderr).toBe(0);
    const rendered = await mergeshot(['--templates', templates, 'render', 'autumn', '--data', '-', '--out', join(work, 'autumn')], 'headline,subline,accent\nHello Ada,Fresh picks,#2f6f4e\n');
    expect(rendered.code, rendered.stderr).toBe(0);
    // The data has no photo column: the photo's fallback "" is used, and every fallback used is a warning.
    expect(rendered.stderr).toContain('1 rows rendered (0 ok, 1 with warnings, 0 failed)');
    // The bundled starter is a folder whose name is not an id: never listed, never served.
    const example = await mergeshot(['--templates', join(repoRoot, 'templates'), 'url', '_starter', '--esp', 'mailchimp']);
    expect(example.code).toBe(2);
  }, 180_000); // six CLI processes, two with a Chromium: a functional test, not a timed one

  it('preview writes a contact sheet of every sample', async () => {
    const out = join(work, 'sheet.png');
    const result = await mergeshot(['--templates', fixtureTemplates, 'preview', 'mini', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const meta = await sharp(out).metadata();
    expect(meta.width).toBeGreaterThan(600);
    expect(meta.height).toBeGreaterThan(300);
  });

  it('doctor reports the bundled browser and a working render, exit 0', async () => {
    const result = await mergeshot(['--templates', fixtureTemplates, 'doctor']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/browser: +Chromium \d+\.\d+\.\d+\.\d+ \(bundled\)/);
    expect(result.stdout).toContain('render:    mini ok');
    expect(result.stdout).toContain('noto-color-emoji');
  });

  it('doctor exits 1 when the browser cannot start', async () => {
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [bin, '--templates', fixtureTemplates, 'doctor'], { cwd: work, env: { ...env, MERGESHOT_CHROMIUM: '/nonexistent/chrome' } }, (error, stdout) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('NOT AVAILABLE');
  });

  it('urls writes cells a spreadsheet would run as formulas as text, and keeps the values themselves in the URLs', async () => {
    const data = join(work, 'formulas.csv');
    await writeFile(data, 'name,note\r\n"=HYPERLINK(""http://x"",""y"")",@SUM(A1:A2)\r\n"+cmd|\' /C calc\'!A0",-2+3\r\nAda,\tx\r\n');
    const result = await mergeshot(['--templates', fixtureTemplates, 'urls', 'mini', '--data', data, '--base', 'https://img.example.com']);
    expect(result.code, result.stderr).toBe(0);
    const rows = parse(result.stdout) as string[][];
    expect(rows.map((row) => row.slice(0, 2))).toEqual([
      ['name', 'note'],
      [`'=HYPERLINK("http://x","y")`, "'@SUM(A1:A2)"],
      [`'+cmd|' /C calc'!A0`, "'-2+3"],
      ['Ada', "'\tx"],
    ]);
    expect(rows[0]![2]).toBe('image_url');
    // Only the spreadsheet cell is neutralized: the image still shows the name as written.
    expect(new URL(rows[1]![2]!).searchParams.get('name')).toBe('=HYPERLINK("http://x","y")');
    expect(new URL(rows[2]![2]!).searchParams.get('name')).toBe("+cmd|' /C calc'!A0");
  });
  it('urls keeps an unreadable row in place with an empty URL, names it on stderr and exits 1', async () => {
    const data = join(work, 'urls-unreadable.csv');
    await writeFile(data, unreadableCsv);
    const result = await mergeshot(['--templates', fixtureTemplates, 'urls', 'mini', '--data', data, '--base', 'https://img.example.com']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(`failed: ${unreadableReason}; its URL is left empty`);
    expect(result.stderr).toContain('3 URLs written (1 rows unreadable, their URLs empty)');
    const rows = parse(result.stdout) as string[][];
    expect(rows.map((row) => [row[0], row[2] ? 'url' : ''])).toEqual([['name', 'url'], ['Ada', 'url'], ['Grace', 'url'], ['', '']]);
  });
});
