import { readdir, readFile } from 'node:fs/promises';

/**
 * Peak resident memory of a process (this one by default) plus every descendant (Chromium and its renderers),
 * sampled from /proc: what the machine actually pays for a render pool.
 */
export function sampleTreeRss(root: number = process.pid, intervalMs = 250): { stop(): Promise<number> } {
  let peak = 0;
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(async () => {
      peak = Math.max(peak, await treeRss(root));
    });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await sampling;
      return Math.round(Math.max(peak, await treeRss(root)) / 1024 / 1024);
    },
  };
}

async function treeRss(root: number): Promise<number> {
  const parents = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const ppid = /^PPid:\s+(\d+)/m.exec(status)?.[1];
    const kb = /^VmRSS:\s+(\d+)/m.exec(status)?.[1];
    if (ppid) parents.set(Number(entry), Number(ppid));
    if (kb) rss.set(Number(entry), Number(kb) * 1024);
  }
  let total = 0;
  for (const [pid, bytes] of rss) {
    let cursor: number | undefined = pid;
    while (cursor !== undefined && cursor !== root && cursor > 1) cursor = parents.get(cursor);
    if (cursor === root) total += bytes;
  }
  return total;
}
