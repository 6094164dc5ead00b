import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/pipeline/index.js';
import { bundledTemplates, meanColour, testPipeline } from '../support/pipeline.js';

/**
 * Behaviour of the bundled templates on real data. Their look (every sample at every size) is
 * checked against golden images by the template suite (test/templates/visual.spec.ts,
 * `npm run test:templates`).
 */
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
