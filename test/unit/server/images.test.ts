import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskStore, MemoryLayer } from '../../../src/cache/index.js';
import { UsageError } from '../../../src/errors/index.js';
import type { Pipeline } from '../../../src/pipeline/index.js';
import { ImageService } from '../../../src/server/images.js';
import { createMetrics } from '../../../src/server/metrics.js';
import type { LoadedTemplate } from '../../../src/template/index.js';
import { createWorkspace, type TestWorkspace } from '../../support/server.js';

// ImageService.target() only resolves names: no render, so Chromium is never started here.
let workspace: TestWorkspace;
let store: MemoryLayer;

beforeAll(async () => {
  workspace = await createWorkspace();
  store = new MemoryLayer(await DiskStore.open({ dir: workspace.config.server.cacheDir, maxBytes: 1_000_000 }), { maxBytes: 0 });
});

afterAll(async () => {
  await store?.close();
  await workspace?.close();
});

/** A service over a pipeline whose preset table is a plain object, prototype and all. */
function serviceWithPlainPresets(): ImageService {
  const pipeline: Pipeline = { ...workspace.pipeline, presets: { ...workspace.pipeline.presets } };
  return new ImageService({ pipeline, config: workspace.config, store, metrics: createMetrics(new Registry(), pipeline), logger: pino({ level: 'silent' }) });
}

async function miniWithDefaultPreset(defaultPreset: string): Promise<LoadedTemplate> {
  const mini = await workspace.pipeline.registry.getById('mini');
  return { ...mini, manifest: { ...mini.manifest, defaultPreset }, size: mini.size };
}

describe('ImageService.target', () => {
  it('looks presets up among the table\'s own names, whatever table the pipeline has', async () => {
    const images = serviceWithPlainPresets();
    const mini = await workspace.pipeline.registry.getById('mini');
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(() => images.target(mini, { preset: name, ext: 'png' }), name).toThrow(UsageError);
      // A manifest edited after boot (the watcher reloads it) names a built-in as its defaultPreset.
      const edited = await miniWithDefaultPreset(name);
      expect(() => images.target(edited, {}), name).toThrow(expect.objectContaining({ code: 'PRESET_UNKNOWN', detail: expect.objectContaining({ field: 'preset' }) }));
      // With an extension, the unusable default gives way to server.extensionPresets.
      expect(images.target(edited, { ext: 'png' }).preset, name).toBe('original');
    }
  });

  it('still resolves real names', async () => {
    const images = serviceWithPlainPresets();
    const mini = await workspace.pipeline.registry.getById('mini');
    expect(images.target(mini, { ext: 'jpg' }).preset).toBe('email');
    expect(images.target(mini, { ext: 'jpeg' }).preset).toBe('email');
    expect(images.target(mini, { ext: 'webp', size: 'square' })).toMatchObject({ preset: 'web', size: { name: 'square', width: 300, height: 300 } });
    expect(images.target(await miniWithDefaultPreset('og'), { ext: 'png' }).preset).toBe('og');
    expect(images.target(await miniWithDefaultPreset('og'), {}).presetSpec.format).toBe('png');
  });
});
