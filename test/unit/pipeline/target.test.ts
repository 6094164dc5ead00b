import { afterAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../../src/pipeline/index.js';
import { bundledTemplates, fixtureTemplates, testPipeline } from '../../support/pipeline.js';

// No render happens here: a pipeline starts Chromium only when it first renders.
const fixtures = testPipeline({ templatesDir: fixtureTemplates });
const bundled = testPipeline({ templatesDir: bundledTemplates });
afterAll(async () => {
  await fixtures.close();
  await bundled.close();
});

describe('resolveTarget: one rule for template, size, preset and format', () => {
  it('takes the preset asked for, else the extension’s, else the template’s default, else original', async () => {
    expect((await resolveTarget(fixtures, { template: 'mini', preset: 'web' })).presetName).toBe('web');
    expect((await resolveTarget(fixtures, { template: 'mini' })).presetName).toBe('original');
    expect((await resolveTarget(fixtures, { template: 'mini', ext: 'jpg' })).presetName).toBe('email');
    expect((await resolveTarget(fixtures, { template: 'mini', ext: 'webp' })).presetName).toBe('web');
    // event-invite's defaultPreset is email (JPEG): used for .jpg and for no extension; .png takes the configured PNG preset.
    expect((await resolveTarget(bundled, { template: 'event-invite' })).presetName).toBe('email');
    expect((await resolveTarget(bundled, { template: 'event-invite', ext: 'jpg' })).presetName).toBe('email');
    expect((await resolveTarget(bundled, { template: 'event-invite', ext: 'png' })).presetName).toBe('original');
  });

  it('knows the encoded size before rendering, for every preset rule', async () => {
    expect((await resolveTarget(fixtures, { template: 'mini', preset: 'email' })).output).toEqual({ width: 1200, height: 600 });
    expect((await resolveTarget(fixtures, { template: 'mini', preset: 'og' })).output).toEqual({ width: 1200, height: 630 });
    expect((await resolveTarget(fixtures, { template: 'mini', size: 'square', preset: 'original' })).output).toEqual({ width: 300, height: 300 });
  });

  it('says what is wrong once, naming the field and the fix, for names that are not own entries', async () => {
    await expect(resolveTarget(fixtures, { template: 'mini', preset: 'fax' })).rejects.toMatchObject({ code: 'PRESET_UNKNOWN', message: 'no preset "fax".', detail: { field: 'preset', hint: expect.stringContaining('email') } });
    for (const name of ['constructor', '__proto__', 'toString']) {
      await expect(resolveTarget(fixtures, { template: 'mini', preset: name })).rejects.toMatchObject({ code: 'PRESET_UNKNOWN' });
      await expect(resolveTarget(fixtures, { template: 'mini', size: name })).rejects.toMatchObject({ code: 'SIZE_UNKNOWN', detail: { field: 'size', hint: 'Sizes of mini: default, square.' } });
    }
    await expect(resolveTarget(fixtures, { template: 'mini', preset: 'email', ext: 'png' })).rejects.toMatchObject({ code: 'USAGE', message: 'preset "email" makes jpeg images, not png.', detail: { hint: 'Use the .jpg extension, or a preset that makes png.' } });
    await expect(resolveTarget(fixtures, { template: '../mini' })).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
  });
});

describe('Pipeline.prepare', () => {
  it('maps and normalizes once, for the template version it was made for', async () => {
    const template = await fixtures.registry.get('mini');
    const prepared = fixtures.prepare(template, { NAME: '  Ada\u0000 ', vip: 'yes' });
    expect(prepared).toMatchObject({ templateDir: template.dir, templateVersion: template.version, record: { name: 'Ada', vip: true } });
    expect(fixtures.normalize(template, { NAME: '  Ada\u0000 ', vip: 'yes' }).record).toEqual(prepared.record);
  });
});
