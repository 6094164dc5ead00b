import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { RenderError } from '../errors/index.js';
import { chromiumArgs, findLaunchedPid, resolveExecutable, type ExecutableChoice } from './browser.js';
import { writeFontconfig } from './systemFonts.js';

export interface BrowserSupervisorOptions {
  readonly executablePath?: string | undefined;
  readonly launchTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly onWarning?: (message: string) => void;
}

export interface BrowserStats {
  readonly launches: number;
  readonly restarts: number;
}

/**
 * Owns the one Chromium process: lazy first start (a failed start can be retried by the next
 * call), relaunch after a crash or disconnect, and a close that kills the pid we launched if
 * Chromium does not exit in time. Also owns the folder of Chromium's own fontconfig (see
 * systemFonts.ts), made at the first launch and removed at close.
 */
export class BrowserSupervisor {
  readonly #options: BrowserSupervisorOptions;
  #browser: Browser | undefined;
  #launching: Promise<Browser> | undefined;
  #instanceTag = '';
  #choice: ExecutableChoice | undefined;
  #launches = 0;
  #closed = false;
  #fontconfigDir: string | undefined;
  #fontconfigFile: string | undefined;

  constructor(options: BrowserSupervisorOptions) {
    this.#options = options;
  }

  get stats(): BrowserStats {
    return { launches: this.#launches, restarts: Math.max(0, this.#launches - 1) };
  }

  get executable(): ExecutableChoice | undefined {
    return this.#choice;
  }

  /** The running browser, launching it first if needed. */
  async browser(): Promise<Browser> {
    if (this.#closed) throw new RenderError('BROWSER_UNAVAILABLE', 'the browser supervisor is closed');
    if (this.#browser?.isConnected()) return this.#browser;
    this.#launching ??= this.#launch().finally(() => {
      this.#launching = undefined;
    });
    return this.#launching;
  }

  /** The pid of the running Chromium (Linux), for diagnostics and crash tests. */
  async pid(): Promise<number | undefined> {
    return this.#browser ? findLaunchedPid(this.#instanceTag) : undefined;
  }

  async #launch(): Promise<Browser> {
    this.#choice ??= await resolveExecutable(this.#options.executablePath);
    if (this.#choice.warning) this.#options.onWarning?.(this.#choice.warning);
    this.#instanceTag = `--mergeshot-instance=${randomUUID()}`;
    if (!this.#fontconfigFile) {
      this.#fontconfigDir ??= await mkdtemp(join(tmpdir(), 'mergeshot-fontconfig-'));
      this.#fontconfigFile = await writeFontconfig(this.#fontconfigDir);
    }
    let browser: Browser;
    try {
      browser = await chromium.launch({
        executablePath: this.#choice.path,
        args: [...chromiumArgs, this.#instanceTag],
        env: { ...process.env, FONTCONFIG_FILE: this.#fontconfigFile },
        timeout: this.#options.launchTimeoutMs,
        // Signals belong to the front end: it finishes in-flight renders before closing us.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
    } catch (error) {
      throw new RenderError('BROWSER_UNAVAILABLE', `Chromium failed to start from ${this.#choice.path}: ${(error as Error).message.split('\n')[0]}`, {}, { cause: error });
    }
    if (this.#closed) {
      await browser.close().catch(() => undefined);
      throw new RenderError('BROWSER_UNAVAILABLE', 'the browser supervisor closed during launch');
    }
    this.#launches += 1;
    this.#browser = browser;
    browser.on('disconnected', () => {
      if (this.#browser === browser) this.#browser = undefined;
    });
    return browser;
  }

  /** Closes Chromium; kills the process we launched if it has not exited in time. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const browser = this.#browser ?? (await this.#launching?.catch(() => undefined));
    this.#browser = undefined;
    try {
      if (browser) await this.#closeBrowser(browser);
    } finally {
      const dir = this.#fontconfigDir;
      this.#fontconfigDir = undefined;
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  async #closeBrowser(browser: Browser): Promise<void> {
    const pid = await findLaunchedPid(this.#instanceTag);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#options.closeTimeoutMs);
    });
    try {
      const outcome = await Promise.race([browser.close().then(() => 'closed' as const, () => 'closed' as const), timedOut]);
      if (outcome === 'timeout' && pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
