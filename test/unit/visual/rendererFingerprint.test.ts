import { describe, expect, it } from 'vitest';
import { fingerprintJson, rendererChange, type RendererFingerprint } from '../../../src/visual/index.js';

describe('rendererChange', () => {
  const fingerprint: RendererFingerprint = { chromium: '153.0.1', sharp: '0.35.5', libvips: '8.18.7', fonts: { '@fontsource/inter': '5.3.0' } };
  it('is stored as two-space JSON with a final newline', () => {
    expect(fingerprintJson(fingerprint)).toBe(`${JSON.stringify(fingerprint, null, 2)}\n`);
  });

  it('names only what changed, or nothing', () => {
    expect(rendererChange(fingerprint, fingerprint)).toBeUndefined();
    expect(rendererChange(fingerprint, { ...fingerprint, chromium: '154.0.0', fonts: {} })).toBe(
      'the renderer changed from chromium 153.0.1, @fontsource/inter 5.3.0 to chromium 154.0.0, @fontsource/inter (none): review and accept (npm run test:templates -- --update-snapshots, then look at the images in the report)',
    );
  });
});
