import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/pipeline/index.js';
import { bundledTemplates, repoRoot, testPipeline } from '../support/pipeline.js';

/**
 * A render is a pure function of (template version, record, preset, size, renderer build):
 * the visual-regression suite stands on it. The reference renders run in a child process, each
 * on a fresh page of a one-page pool; this file renders the same records on a warm pool of
 * three pages, concurrently, after 50 other records per template and size. Every PNG must be
 * byte-identical. Without --disable-partial-raster (src/render/browser.ts) most of them differ.
 */
const targets = [
  { template: 'event-invite' },
  { template: 'event-invite', size: 'square' },
  { template: 'certificate' },
  { template: 'welcome-banner' },
] as const;

const names = ['Ada Lovelace', 'N/A', '', 'محمد عبد الرحمن', '山田 太郎', 'Zoë 🎉✨', 'Maria Fernanda '.repeat(9), 'Wei Zhang', 'Siobhán Ní Bhraonáin', '*|FNAME|*'];

let pipeline: Pipeline;
let reference: Record<string, string>;

beforeAll(async () => {
  pipeline = testPipeline({ templatesDir: bundledTemplates, render: { pages: 3 } });
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/renderHashes.ts'), JSON.stringify(targets)], { cwd: repoRoot, maxBuffer: 1 << 20 });
  reference = JSON.parse(stdout) as Record<string, string>;
}, 240_000);

afterAll(async () => {
  await pipeline.close();
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('the same record gives the same bytes whatever the page rendered before', () => {
  for (const { template, size } of targets as readonly { template: string; size?: string }[]) {
    it(`${template}${size ? ` (${size})` : ''}: every sample, warm pool of 3 after 50 other records, equals a fresh page in another process`, async () => {
      const loaded = await pipeline.registry.get(template);
      const samples = Object.entries(loaded.manifest.samples ?? {});
      expect(samples.length).toBeGreaterThan(2);
      const textField = Object.entries(loaded.manifest.fields).find(([, spec]) => spec.type === 'text')![0];
      const booleanField = Object.entries(loaded.manifest.fields).find(([, spec]) => spec.type === 'boolean')?.[0];
      // Six in flight keep all three pages busy without queueing past the render deadline.
      for (let start = 0; start < 50; start += 6) {
        await Promise.all(
          Array.from({ length: Math.min(6, 50 - start) }, (_, k) => {
            const i = start + k;
            const [, base] = samples[(i * 7) % samples.length]!;
            const data = { ...base, [textField]: names[i % names.length], ...(booleanField ? { [booleanField]: i % 3 === 0 ? 'yes' : 'no' } : {}) };
            return pipeline.renderOne({ template, data, preset: 'original', size });
          }),
        );
      }
      const warm = await Promise.all(samples.map(async ([sample, data]) => [sample, sha256((await pipeline.renderOne({ template, data, preset: 'original', size })).bytes)] as const));
      const differing = warm.filter(([sample, hash]) => reference[`${template}|${size ?? ''}|${sample}`] !== hash).map(([sample]) => sample);
      expect(differing).toEqual([]);
    });
  }
});
