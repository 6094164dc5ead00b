import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/pipeline/index.js';
import { bundledTemplates, testPipeline } from '../support/pipeline.js';
import { dataUri, offCentrePortrait, subjectMask } from '../support/portraits.js';

/**
 * The bundled event-invite declares `"crop": "attention", "aspect": "1:1"` for its round photo:
 * a CRM portrait with the face near its right edge must show the face inside the ring, through
 * real Chromium. A copy declaring `center` is what the page's own `object-fit: cover` gives
 * without a crop rule: the face falls outside the circle.
 */
let pipeline: Pipeline;
let dir: string;
let photo: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mergeshot-crop-'));
  await cp(join(bundledTemplates, 'event-invite'), join(dir, 'event-invite'), { recursive: true });
  await cp(join(bundledTemplates, 'event-invite'), join(dir, 'invite-center'), { recursive: true });
  const manifestPath = join(dir, 'invite-center', 'template.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { fields: Record<string, Record<string, unknown>> };
  manifest.fields['photo']!['crop'] = 'center';
  await writeFile(manifestPath, JSON.stringify(manifest));
  pipeline = testPipeline({ templatesDir: dir });
  photo = dataUri(await offCentrePortrait(), 'image/jpeg');
}, 60_000);

afterAll(async () => {
  await pipeline?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Subject pixels inside the photo disc of the default size (ring at 786,142, 300 px; 14 px of ring and border). */
async function subjectInDisc(png: Buffer): Promise<number> {
  const disc = { left: 800, top: 156, width: 272, height: 272 };
  const { data, info } = await sharp(png).extract(disc).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const radius = disc.width / 2 - 4;
  return subjectMask(data, info.channels).filter((isSubject, index) => {
    const x = (index % info.width) + 0.5 - info.width / 2;
    const y = Math.floor(index / info.width) + 0.5 - info.height / 2;
    return isSubject && x * x + y * y <= radius * radius;
  }).length;
}

describe('image crop rules in a real render', () => {
  it('event-invite shows an off-centre face inside its round photo', async () => {
    const data = { name: 'Amara Okafor', event: 'Kestrel Spring Product Preview', date: '2025-06-12', venue: 'The Glasshouse', photo };
    const attention = await pipeline.renderOne({ template: 'event-invite', data, preset: 'original' });
    const center = await pipeline.renderOne({ template: 'invite-center', data, preset: 'original' });
    expect(attention.warnings.filter((warning) => warning.code === 'image-failed')).toEqual([]);
    if (process.env['MERGESHOT_KEEP_RENDERS']) {
      await writeFile(join(tmpdir(), 'crop-attention.png'), attention.bytes);
      await writeFile(join(tmpdir(), 'crop-center.png'), center.bytes);
    }
    const kept = await subjectInDisc(attention.bytes);
    const lost = await subjectInDisc(center.bytes);
    // Kept, the face, hair and collar cover about 4 900 px of the 272 px disc; cropped at the centre, none.
    expect(kept).toBeGreaterThan(3_500);
    expect(lost).toBeLessThan(kept * 0.05);
  }, 120_000);
});
