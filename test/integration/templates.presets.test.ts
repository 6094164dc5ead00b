import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtInPresets } from '../../src/encode/index.js';
import type { Pipeline } from '../../src/pipeline/index.js';
import { bundledTemplates, testPipeline } from '../support/pipeline.js';

/**
 * A bundled template made for email (its description says so: "email hero", "welcome email")
 * defaults to a preset that fits email: a format mail clients show (no WebP) and a byte budget
 * no larger than the built-in email preset's, which every sample keeps when rendered. A 540 KB
 * PNG default made a 200-row campaign zip of 107 MB.
 */
let pipeline: Pipeline;
let templates: { readonly id: string; readonly dir: string; readonly description: string; readonly defaultPreset: string | undefined }[];

beforeAll(async () => {
  pipeline = testPipeline({ templatesDir: bundledTemplates });
  const folders = (await readdir(bundledTemplates, { withFileTypes: true })).filter((entry) => entry.isDirectory() && !entry.name.startsWith('__'));
  templates = await Promise.all(
    folders.map(async ({ name }) => {
      const manifest = JSON.parse(await readFile(join(bundledTemplates, name, 'template.json'), 'utf8')) as { description?: string; defaultPreset?: string };
      return { id: name, dir: join(bundledTemplates, name), description: manifest.description ?? '', defaultPreset: manifest.defaultPreset };
    }),
  );
});

afterAll(async () => {
  await pipeline.close();
});

const emailTemplates = () => templates.filter((template) => /\be-?mail\b/i.test(template.description));
const emailBudget = builtInPresets.email.maxBytes!;

describe('bundled templates for email', () => {
  it('are the ones whose description names email', () => {
    expect(emailTemplates().map((template) => template.id).sort()).toEqual(['_starter', 'event-invite', 'ticket', 'welcome-banner']);
  });

  it('default to a preset mail clients show, with a budget that fits email', () => {
    for (const template of emailTemplates()) {
      const preset = template.defaultPreset === undefined ? undefined : pipeline.presets[template.defaultPreset];
      expect(preset, `${template.id}: defaultPreset ${String(template.defaultPreset)}`).toBeDefined();
      expect([template.id, preset!.format === 'webp']).toEqual([template.id, false]);
      expect([template.id, preset!.maxBytes !== undefined && preset!.maxBytes <= emailBudget]).toEqual([template.id, true]);
    }
  });

  it('keep every sample within that budget when rendered with their default preset', async () => {
    for (const template of emailTemplates()) {
      const loaded = await pipeline.registry.get(template.dir);
      for (const [sample, data] of Object.entries(loaded.manifest.samples ?? {})) {
        const result = await pipeline.renderOne({ template: loaded.dir, data });
        expect([template.id, sample, result.preset]).toEqual([template.id, sample, template.defaultPreset]);
        expect([template.id, sample, result.bytes.length <= emailBudget]).toEqual([template.id, sample, true]);
        expect(result.warnings.filter((warning) => warning.code === 'over-budget')).toEqual([]);
      }
    }
  }, 300_000);
});
