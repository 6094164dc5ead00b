import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test as base, chromium, type Browser } from '@playwright/test';
import { chromiumArgs, resolveExecutable } from '../../src/render/index.js';
import { bundledTemplates, fixtureTemplates, repoRoot } from '../support/pipeline.js';

/**
 * The studio's end-to-end tests: a real `mergeshot serve` child process (the command a user
 * runs) on a free port, over a templates folder of its own that tests may edit, driven by a
 * real Chromium. Playwright's own `browser` fixture is replaced by mergeshot's Chromium (the
 * build inside @sparticuz/chromium), so nothing is ever downloaded.
 */

export interface StudioServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly root: string;
  readonly templatesDir: string;
  /** The studio's data folder (uploads, campaigns, preflight reports). */
  readonly dataDir: string;
  /** Everything the server printed (JSON log lines), for asserting what it logged. */
  readonly output: string[];
}

export interface StudioOptions {
  /** Template folders copied into the server's templates folder: bundled ids or test/fixtures/templates ids. */
  readonly templates: readonly string[];
  /** `--host` of the server; loopback (open studio) by default. */
  readonly host: string;
  /** Extra environment, e.g. MERGESHOT_STUDIO_PASSWORD or MERGESHOT_API_KEYS. */
  readonly serverEnv: Readonly<Record<string, string>>;
}

interface StudioWorkerFixtures {
  studio: StudioServer;
  browser: Browser;
}

export const test = base.extend<object, StudioOptions & StudioWorkerFixtures>({
  templates: [['mini'], { option: true, scope: 'worker' }],
  host: ['127.0.0.1', { option: true, scope: 'worker' }],
  serverEnv: [{}, { option: true, scope: 'worker' }],
  studio: [
    async ({ templates, host, serverEnv }, use) => {
      const root = await mkdtemp(join(tmpdir(), 'mergeshot-studio-'));
      const templatesDir = join(root, 'templates');
      for (const id of templates) {
        const from = id.startsWith('fixture:') ? join(fixtureTemplates, id.slice('fixture:'.length)) : join(bundledTemplates, id);
        await cp(from, join(templatesDir, id.replace(/^fixture:/, '')), { recursive: true });
      }
      // The renderer fingerprint the bundled goldens were accepted with (copied with them), so their
      // visual review and the template suite run on this folder see them as accepted.
      if (templates.some((id) => !id.startsWith('fixture:'))) await cp(join(bundledTemplates, '__golden__/renderer.json'), join(templatesDir, '__golden__/renderer.json'));
      const server = await startServe(root, templatesDir, host, serverEnv);
      try {
        await use(server.studio);
      } finally {
        await server.stop();
        await rm(root, { recursive: true, force: true });
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  browser: [
    async ({}, use) => {
      const { path } = await resolveExecutable(process.env.MERGESHOT_CHROMIUM);
      const browser = await chromium.launch({ executablePath: path, args: [...chromiumArgs.filter((arg) => !arg.startsWith('--host-resolver-rules') && !arg.startsWith('--screen-info'))] });
      try {
        await use(browser);
      } finally {
        await browser.close();
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  baseURL: async ({ studio }, use) => use(studio.url),
});

export { expect } from '@playwright/test';

async function startServe(root: string, templatesDir: string, host: string, env: Readonly<Record<string, string>>): Promise<{ studio: StudioServer; stop(): Promise<void> }> {
  const output: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'bin/mergeshot.js'), '--templates', templatesDir, 'serve', '--port', '0', '--host', host], {
    cwd: root,
    env: { ...process.env, MERGESHOT_PAGES: '2', MERGESHOT_CACHE_DIR: join(root, 'cache'), MERGESHOT_STYLES: join(repoRoot, 'styles'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: child.stdout! });
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mergeshot serve did not start in 60 s:\n${output.join('\n')}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`mergeshot serve exited with ${code}:\n${output.join('\n')}`)));
    lines.on('line', (line) => {
      output.push(line);
      const message = parseLine(line);
      if (message?.msg === 'listening' && typeof message.port === 'number') {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${message.port}`);
      }
    });
  });
  return {
    studio: { url, root, templatesDir, dataDir: join(root, '.mergeshot-cache/studio'), output },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
