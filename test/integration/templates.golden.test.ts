import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/pipeline/index.js';
import { bundledTemplates, meanColour, testPipeline } from '../support/pipeline.js';

/**
 * Golden images of the bundled templates, kept beside them in templates/<id>/golden/. The
 * Chromium build and the fonts are pinned, so a render differs from its golden only when the
 * template (or the renderer) changed. `MERGESHOT_UPDATE_GOLDEN=1 npm test` rewrites them.
 */
const update = process.env.MERGESHOT_UPDATE_GOLDEN === '1';
const cases: readonly { template: string; sample: string; size?: string }[] = [
  { template: 'event-invite', sample: 'typical' },
  { template: 'event-invite', sample: 'vip' },
  { template: 'event-invite', sample: 'long' },
  { template: 'event-invite', sample: 'missing' },
  { template: 'event-invite', sample: 'rtl' },
  { template: 'event-invite', sample: 'cjk' },
  { template: 'event-invite', sample: 'emoji' },
  { template: 'event-invite', sample: 'korean' },
  { template: 'event-invite', sample: 'thai' },
  { template: 'event-invite', sample: 'indic' },
  { template: 'event-invite', sample: 'no-letter' },
  { template: 'event-invite', sample: 'vip', size: 'square' },
  { template: 'event-invite', sample: 'long', size: 'square' },
  { template: 'certificate', sample: 'typical' },
  { template: 'certificate', sample: 'long' },
  { template: 'certificate', sample: 'rtl' },
  { template: 'welcome-banner', sample: 'typical' },
  { template: 'welcome-banner', sample: 'rtl' },
  { template: 'welcome-banner', sample: 'emoji' },
];

let pipeline: Pipeline;
beforeAll(() => {
  pipeline = testPipeline({ templatesDir: bundledTemplates });
});
afterAll(async () => {
  await pipeline.close();
});

async function sample(template: string, name: string, size?: string, overrides: Record<string, unknown> = {}) {
  const loaded = await pipeline.registry.get(template);
  const data = { ...loaded.manifest.samples?.[name], ...overrides };
  return pipeline.renderOne({ template, data, preset: 'original', size });
}

describe('bundled templates match their golden images', () => {
  for (const { template, sample: name, size } of cases) {
    it(`${template} ${name}${size ? ` (${size})` : ''}`, async () => {
      const result = await sample(template, name, size);
      const goldenDir = join(bundledTemplates, template, 'golden');
      const goldenPath = join(goldenDir, `${name}${size ? `.${size}` : ''}@original.png`);
      if (update || !existsSync(goldenPath)) {
        await mkdir(goldenDir, { recursive: true });
        await writeFile(goldenPath, result.bytes);
        if (!update) throw new Error(`no golden image yet: wrote ${goldenPath}; look at it, commit it, and run again`);
        return;
      }
      const actual = PNG.sync.read(result.bytes);
      const golden = PNG.sync.read(await readFile(goldenPath));
      expect([actual.width, actual.height]).toEqual([golden.width, golden.height]);
      const differing = pixelmatch(actual.data, golden.data, null, actual.width, actual.height, { threshold: 0.1 });
      // Anti-aliasing may move by a pixel between runs of one build; a real change moves thousands.
      expect(differing / (actual.width * actual.height)).toBeLessThan(0.001);
    });
  }
});

describe('event-invite behaviour on real data', () => {
  const badge = { default: { left: 861, top: 419, width: 150, height: 46 }, square: { left: 455, top: 476, width: 170, height: 52 } } as const;

  for (const size of ['default', 'square'] as const) {
    it(`paints the VIP badge only when vip is true (${size})`, async () => {
      const vip = await sample('event-invite', 'typical', size, { vip: true });
      const regular = await sample('event-invite', 'typical', size, { vip: false });
      const a = await meanColour(vip.bytes, badge[size]);
      const b = await meanColour(regular.bytes, badge[size]);
      const distance = Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]);
      expect(distance).toBeGreaterThan(60);
    });
  }

  it('shows the initials placeholder, not a broken image, when the photo is missing or dead', async () => {
    const dead = await sample('event-invite', 'typical', undefined, { photo: 'https://photos.example.invalid/missing.jpg' });
    expect(dead.warnings.map((w) => `${w.code}:${w.field}`)).toContain('image-failed:photo');
    const none = await sample('event-invite', 'typical', undefined, { photo: '' });
    expect(dead.bytes.equals(none.bytes)).toBe(true);
    const withPhoto = await sample('event-invite', 'typical');
    expect(withPhoto.bytes.equals(none.bytes)).toBe(false);
  });

  it('fits a 300-character name inside the canvas and says so', async () => {
    const result = await sample('event-invite', 'typical', undefined, { name: 'Maria Fernanda '.repeat(20) });
    const codes = result.warnings.map((w) => `${w.code}:${w.field}`);
    expect(codes).toContain('truncated:name');
    expect(codes).toContain('overflow:name');
  });
});
