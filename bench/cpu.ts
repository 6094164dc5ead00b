import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux on every common architecture). */
const ticksPerSecond = 100;

/**
 * CPU time (user + system, including reaped children) of a process and every descendant, from
 * /proc, in milliseconds: Chromium's renderers, workers, redis-server, all that a run made the
 * machine do. Take it before and after a run; the difference over the images is CPU-ms per image.
 */
export async function treeCpuMs(root: number = process.pid): Promise<number> {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length < 15) continue;
    parents.set(Number(entry), Number(fields[1]));
    cpu.set(Number(entry), Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
  }
  let ticks = 0;
  for (const [pid, used] of cpu) {
    let cursor: number | undefined = pid;
    while (cursor !== undefined && cursor !== root && cursor > 1) cursor = parents.get(cursor);
    if (cursor === root) ticks += used;
  }
  return (ticks * 1000) / ticksPerSecond;
}
