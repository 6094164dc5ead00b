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
    for (let i = 0; i < 300; i++) {
      for (const pid of chromiumChildren(child.pid!)) browsers.add(pid);
      const images = existsSync(out) ? (await readdir(out)).filter((f) => f.endsWith('.png')) : [];
      if (images.length >= 5) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
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
});
