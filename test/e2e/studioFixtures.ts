import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test as base, chromium, type Browser, type BrowserContext } from '@playwright/test';
import { chromiumArgs, resolveExecutable } from '../../src/render/index.js';
import { bundledTemplates, fixtureTemplates, repoRoot } from '../support/pipeline.js';

/**
 * The studio's end-to-end tests: a real `mergeshot serve` child process (the command a user
 * runs) on a free port, over a templates folder of its own that tests may edit, driven by a
 * real Chromium. Playwright's own `browser` fixture is replaced by mergeshot's Chromium (the
 * build inside @sparticuz/chromium), so nothing is ever downloaded.
 *
 * The studio asks for a login on every bind: the server gets a studio password
 * (`studioPassword`), and each test's browser context logs in with it before the test starts,
 * unless the test sets `loggedIn: false` (a test of the login itself).
 */

export interface StudioServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly root: string;
  readonly templatesDir: string;
  /** The studio's data folder (uploads, campaigns, preflight reports). */
  readonly dataDir: string;
  /** Everything the server printed (JSON log lines and the terminal text), for asserting what it logged. */
  readonly output: string[];
  /** Only the JSON log lines (stdout). */
  readonly logLines: string[];
  /** Only what it told the person at the terminal (stderr): the studio URL, the one-time login link. */
  readonly terminal: string[];
  /** The studio password it was started with, if any. */
  readonly password: string | undefined;
}

export interface StudioOptions {
  /** Template folders copied into the server's templates folder: bundled ids or test/fixtures/templates ids. */
  readonly templates: readonly string[];
  /** `--host` of the server; loopback by default. */
  readonly host: string;
  /** Extra environment, e.g. MERGESHOT_API_KEYS. */
  readonly serverEnv: Readonly<Record<string, string>>;
  /** MERGESHOT_STUDIO_PASSWORD; null → none, the server prints a one-time login URL (undefined would mean the default). */
  readonly studioPassword: string | null;
}

interface StudioWorkerFixtures {
  studio: StudioServer;
  browser: Browser;
}

interface StudioTestOptions {
  /** The context logs in with the studio password before the test (default). */
  loggedIn: boolean;
}

/** The password the studio tests' servers get unless a test file says otherwise. */
export const studioPassword = 'e2e studio password · «ключ» 🔑';

export const test = base.extend<StudioTestOptions, StudioOptions & StudioWorkerFixtures>({
  templates: [['mini'], { option: true, scope: 'worker' }],
  host: ['127.0.0.1', { option: true, scope: 'worker' }],
  serverEnv: [{}, { option: true, scope: 'worker' }],
  studioPassword: [studioPassword, { option: true, scope: 'worker' }],
  loggedIn: [true, { option: true }],
  context: async ({ context, studio, loggedIn }, use) => {
    if (loggedIn) await logIn(context, studio);
    await use(context);
  },
  studio: [
    async ({ templates, host, serverEnv, studioPassword: password }, use) => {
      const root = await mkdtemp(join(tmpdir(), 'mergeshot-studio-'));
      const templatesDir = join(root, 'templates');
      for (const id of templates) {
        const from = id.startsWith('fixture:') ? join(fixtureTemplates, id.slice('fixture:'.length)) : join(bundledTemplates, id);
        await cp(from, join(templatesDir, id.replace(/^fixture:/, '')), { recursive: true });
      }
      // The renderer fingerprint the bundled goldens were accepted with (copied with them), so their
      // visual review and the template suite run on this folder see them as accepted.
      if (templates.some((id) => !id.startsWith('fixture:'))) await cp(join(bundledTemplates, '__golden__/renderer.json'), join(templatesDir, '__golden__/renderer.json'));
      const server = await startServe(root, templatesDir, host, { ...serverEnv, ...(password === null ? {} : { MERGESHOT_STUDIO_PASSWORD: password }) }, password ?? undefined);
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

/** Logs the context in with the studio password: its pages and its `request` then carry the session cookie. */
export async function logIn(context: BrowserContext, studio: StudioServer): Promise<void> {
  if (studio.password === undefined) throw new Error('this studio has no password: log in with the one-time URL in studio.terminal');
  const answer = await context.request.post(`${studio.url}/login`, { form: { secret: studio.password, next: '/' }, maxRedirects: 0 });
  if (answer.status() !== 303) throw new Error(`logging in to the studio answered ${answer.status()}: ${await answer.text()}`);
}

async function startServe(root: string, templatesDir: string, host: string, env: Readonly<Record<string, string>>, password: string | undefined): Promise<{ studio: StudioServer; stop(): Promise<void> }> {
  const output: string[] = [];
  const logLines: string[] = [];
  const terminal: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'bin/mergeshot.js'), '--templates', templatesDir, 'serve', '--port', '0', '--host', host], {
    cwd: root,
    // No password from the caller's own environment either, when the test wants none.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'MERGESHOT_STUDIO_PASSWORD')), MERGESHOT_PAGES: '2', MERGESHOT_CACHE_DIR: join(root, 'cache'), MERGESHOT_STYLES: join(repoRoot, 'styles'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: child.stdout! });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    output.push(line);
    terminal.push(line);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mergeshot serve did not start in 60 s:\n${output.join('\n')}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`mergeshot serve exited with ${code}:\n${output.join('\n')}`)));
    lines.on('line', (line) => {
      output.push(line);
      logLines.push(line);
      const message = parseLine(line);
      if (message?.msg === 'listening' && typeof message.port === 'number') {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${message.port}`);
      }
    });
  });
  return {
    studio: { url, root, templatesDir, dataDir: join(root, '.mergeshot-cache/studio'), output, logLines, terminal, password },
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
