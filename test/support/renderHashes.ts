/**
 * Renders every sample of the given bundled templates and sizes with the `original` preset on
 * fresh pages (a page is recycled after each render, one page in the pool) and prints
 * `{"<template>|<size>|<sample>": "<sha256 of the PNG>"}` as one JSON line. Run in a child
 * process by the determinism test, so its reference renders share nothing with the test's own:
 * not the process, the browser, the pool size or the page history.
 *
 *   node --import tsx test/support/renderHashes.ts '[{"template":"event-invite","size":"square"}]'
 */
import { createHash } from 'node:crypto';
import { createPipeline } from '../../src/pipeline/index.js';
import { parseConfig } from '../../src/config/index.js';
import { bundledTemplates, repoRoot } from './pipeline.js';

const targets = JSON.parse(process.argv[2] ?? '[]') as { template: string; size?: string }[];
const config = parseConfig({ templatesDir: bundledTemplates, render: { pages: 1, recycleAfter: 1 } }, 'test', repoRoot);
const pipeline = createPipeline(config);
const hashes: Record<string, string> = {};
try {
  for (const { template, size } of targets) {
    const loaded = await pipeline.registry.get(template);
    for (const [sample, data] of Object.entries(loaded.manifest.samples ?? {})) {
      const result = await pipeline.renderOne({ template, data, preset: 'original', size });
      hashes[`${template}|${size ?? ''}|${sample}`] = createHash('sha256').update(result.bytes).digest('hex');
    }
  }
} finally {
  await pipeline.close();
}
process.stdout.write(`${JSON.stringify(hashes)}\n`);
