/**
 * node --import tsx bench/templateWatcher.bench.ts [-- --polls 200]
 *
 * What the template watcher's poll (server.templatePollMs) costs when nothing changed: the
 * bundled templates/ and styles/ folders, --polls checks, each one readdir per folder and one
 * stat per file (nothing is hashed, since no stat changed). Prints the time per poll, per file
 * and per template; the last line is JSON, for scripts.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { TemplateWatcher } from '../src/server/templateWatcher.js';

const { values } = parseArgs({ options: { polls: { type: 'string', default: '200' } } });
const polls = Number(values.polls);
const root = join(import.meta.dirname, '..');
const dirs = [join(root, 'templates'), join(root, 'styles')];
const files = (await Promise.all(dirs.map((dir) => readdir(dir, { recursive: true, withFileTypes: true })))).flat().filter((entry) => entry.isFile()).length;
const templates = (await readdir(dirs[0]!, { withFileTypes: true })).filter((entry) => entry.isDirectory()).length;

const watcher = new TemplateWatcher(dirs, () => undefined, pino({ level: 'warn' }), { pollMs: 0 });
try {
  const started = performance.now();
  await watcher.ready;
  const baselineMs = performance.now() - started;
  const from = performance.now();
  for (let i = 0; i < polls; i++) await watcher.check();
  const pollMs = (performance.now() - from) / polls;
  console.log(`first check (reads and hashes every file): ${baselineMs.toFixed(1)} ms for ${files} files`);
  console.log(`poll with nothing changed: ${pollMs.toFixed(2)} ms (${((pollMs * 1000) / files).toFixed(1)} µs per file, ${(pollMs / templates).toFixed(2)} ms per template folder of ${templates})`);
  console.log(JSON.stringify({ files, templates, baselineMs: Math.round(baselineMs), pollMs: Number(pollMs.toFixed(3)), perFileUs: Number(((pollMs * 1000) / files).toFixed(2)) }));
} finally {
  watcher.close();
}
