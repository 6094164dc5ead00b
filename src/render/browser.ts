import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RenderError } from '../errors/index.js';

export interface ExecutableChoice {
  readonly path: string;
  readonly source: 'explicit' | 'bundled' | 'system';
  /** Set when the choice is a fallback the user should know about. */
  readonly warning?: string;
}

/**
 * Headless screens, one per whole device scale factor, side by side. A page that renders at
 * scale 2 moves its window onto the 2× screen (renderPage), so Chromium's own scale factor is
 * the emulated one. With emulation alone, every Page.captureScreenshot re-rasters the whole page
 * at another scale and back; measured at 2×: welcome-banner 55 → 30 ms of renderer CPU a render,
 * certificate 139 → 25 ms. Other scales (a preset's `"scale": 1.5`) keep emulation alone: an
 * image of the same size and layout (glyph edges may fall a subpixel apart), only slower.
 */
const screenWidth = 10_000; // DIP; only the window's origin matters, pages size their own viewport
const screenScales: readonly number[] = [1, 2, 3, 4];

/** Where a window goes to render at `scale`, or undefined when no screen has that scale. */
export function screenOrigin(scale: number): { readonly left: number; readonly top: number } | undefined {
  const index = screenScales.indexOf(scale);
  return index < 0 ? undefined : { left: index * screenWidth + 10, top: 10 };
}

/**
 * Chromium switches, each with the reason it is here. Web security stays on, and there is no
 * --single-process: @sparticuz/chromium's serverless defaults trade isolation for Lambda limits.
 */
export const chromiumArgs: readonly string[] = [
  '--disable-gpu', // no GPU on these machines; software raster gives the same pixels everywhere
  '--disable-background-networking', // no update pings, safe-browsing or field trials: the page never reaches the network
  '--disable-component-update', // component updater would fetch from the network
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-extensions',
  '--mute-audio',
  '--font-render-hinting=none', // hinting differs by platform; none keeps glyph pixels identical across machines
  '--force-color-profile=srgb', // captures are sRGB whatever the host's display profile
  '--hide-scrollbars', // an overflowing template must not gain a scrollbar in the capture
  // A render must be a pure function of its document. With partial raster, a tile whose content
  // changed is re-rastered only inside the changed rect, into the pixels the previous record
  // left; Skia's anti-aliasing of curves (rounded corners, rings, shadows) depends on that clip,
  // so the same document came out up to 56 levels apart depending on what the page showed before.
  // Whole-tile raster makes every tile's pixels depend on the current display list alone.
  '--disable-partial-raster',
  `--screen-info=${screenScales.map((scale, index) => `{${index * screenWidth},0 ${screenWidth}x${screenWidth} devicePixelRatio=${scale}}`).join('')}`, // see screenOrigin
  // Defence in depth: every request is answered by our route handler, but if one ever slipped
  // past it, no host name would resolve.
  '--host-resolver-rules=MAP * ~NOTFOUND',
];

const bundledDir = join(tmpdir(), 'chromium');
const unpackLock = join(tmpdir(), 'mergeshot-chromium-unpack.lock');
const unpackMarker = join(tmpdir(), 'mergeshot-chromium-unpacked');
const systemCandidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/**
 * Picks the Chromium to run: an explicit path wins; else the build pinned inside
 * @sparticuz/chromium (same pixels on every machine); a system Chromium only where the bundled
 * one cannot run, with a warning.
 */
export async function resolveExecutable(explicitPath: string | undefined): Promise<ExecutableChoice> {
  if (explicitPath) {
    if (!existsSync(explicitPath)) {
      throw new RenderError('BROWSER_UNAVAILABLE', `Chromium executable not found at ${explicitPath} (from MERGESHOT_CHROMIUM or render.chromiumPath). Fix the path or unset it to use the bundled Chromium.`);
    }
    return { path: explicitPath, source: 'explicit' };
  }
  let bundledError: unknown;
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    try {
      return { path: await unpackBundledChromium(), source: 'bundled' };
    } catch (error) {
      bundledError = error;
    }
  }
  const system = systemCandidates.find((path) => existsSync(path));
  if (system) {
    const why = bundledError ? `the bundled Chromium failed to unpack (${(bundledError as Error).message})` : `the bundled Chromium does not run on ${process.platform}/${process.arch}`;
    return { path: system, source: 'system', warning: `using system Chromium ${system} because ${why}; pixels may differ from other machines` };
  }
  throw new RenderError('BROWSER_UNAVAILABLE', `no Chromium found: the bundled one could not be used${bundledError ? ` (${(bundledError as Error).message})` : ''} and none of ${systemCandidates.join(', ')} exists. Set MERGESHOT_CHROMIUM to a Chromium executable.`, {}, { cause: bundledError });
}

/**
 * Unpacks the bundled Chromium once per machine. Parallel processes (vitest workers, several
 * CLIs) racing the unpack fail with `spawn ETXTBSY` or run a half-written binary, so the unpack
 * runs under a lock directory and is marked complete only after it finished.
 */
export async function unpackBundledChromium(): Promise<string> {
  if (await isUnpacked()) return bundledDir;
  await acquireLock();
  try {
    if (await isUnpacked()) return bundledDir;
    // A binary without our marker may be a crashed unpack: start again from nothing.
    await rm(bundledDir, { force: true });
    const { default: Chromium } = await import('@sparticuz/chromium');
    Chromium.setGraphicsMode = false; // no SwiftShader: we never need WebGL
    const path = await Chromium.executablePath();
    const { size } = await stat(path);
    await writeFile(unpackMarker, String(size));
    return path;
  } finally {
    await rm(unpackLock, { recursive: true, force: true });
  }
}

async function isUnpacked(): Promise<boolean> {
  try {
    const [marker, info] = await Promise.all([readFile(unpackMarker, 'utf8'), stat(bundledDir)]);
    return Number(marker) === info.size;
  } catch {
    return false;
  }
}

async function acquireLock(): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(unpackLock);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than two minutes belongs to a process that died mid-unpack.
      const age = Date.now() - (await stat(unpackLock).then((s) => s.mtimeMs, () => Date.now()));
      if (age > 120_000) await rm(unpackLock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new RenderError('BROWSER_UNAVAILABLE', `timed out waiting for another process to unpack Chromium (lock ${unpackLock}). Remove the lock if no mergeshot is running.`);
      await sleep(200);
    }
  }
}

/**
 * Finds the pid of the Chromium we launched, by the instance tag we put on its command line and
 * our own pid as its parent. Only that process is ever killed: never a user's browser or
 * another mergeshot's.
 */
export async function findLaunchedPid(instanceTag: string): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  const entries = await readdir('/proc').catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      if (ppid !== process.pid) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(instanceTag)) return Number(entry);
    } catch {
      // The process ended while we looked: not ours to worry about.
    }
  }
  return undefined;
}
