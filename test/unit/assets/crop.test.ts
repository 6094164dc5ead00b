import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createImageFetcher, cropOf, type FetchedImage, type ImageCrop, type ImageFetcher } from '../../../src/assets/index.js';
import { UsageError } from '../../../src/errors/index.js';
import { dataUri, offCentrePortrait, subjectMask, tallPortrait, wideLogo } from '../../support/portraits.js';

/**
 * Crop rules on real sharp/libvips, through the fetcher the pipeline uses (data: URIs, so no
 * socket is opened). Where the subject lands is measured on the decoded pixels.
 */
let portrait: Buffer;
let tall: Buffer;
let logo: Buffer;
const fetchers: ImageFetcher[] = [];

beforeAll(async () => {
  [portrait, tall, logo] = await Promise.all([offCentrePortrait(), tallPortrait(), wideLogo()]);
});

afterEach(async () => {
  await Promise.all(fetchers.splice(0).map((fetcher) => fetcher.close()));
});

function fetcher(): ImageFetcher {
  const created = createImageFetcher();
  fetchers.push(created);
  return created;
}

const square = (rule: ImageCrop['rule']): ImageCrop => ({ rule, aspectWidth: 1, aspectHeight: 1 });

async function fetchCropped(source: Buffer, type: string, crop: ImageCrop | undefined, box = 600, using = fetcher()): Promise<FetchedImage> {
  return using.fetch(dataUri(source, type), { signal: new AbortController().signal, maxWidth: box, maxHeight: box, crop });
}

async function pixels(bytes: Buffer) {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Subject pixels of an image: all of them, and those inside the disc a circular mask shows. */
async function subjectIn(bytes: Buffer): Promise<{ total: number; inCircle: number }> {
  const { data, width, height } = await pixels(bytes);
  const mask = subjectMask(data, 4);
  const radius = Math.min(width, height) / 2;
  let total = 0;
  let inCircle = 0;
  mask.forEach((isSubject, index) => {
    if (!isSubject) return;
    total += 1;
    const x = (index % width) + 0.5 - width / 2;
    const y = Math.floor(index / width) + 0.5 - height / 2;
    if (x * x + y * y <= radius * radius) inCircle += 1;
  });
  return { total, inCircle };
}

describe('image crop rules', () => {
  it('attention keeps an off-centre face inside a circular mask; center loses it', async () => {
    // The source's subject, scaled to the 600×600 crop of its 900×900 square (factor 2/3).
    const source = await pixels(portrait);
    const expected = subjectMask(source.data, 4).filter(Boolean).length * (600 / 900) ** 2;

    const attention = await fetchCropped(portrait, 'image/jpeg', square('attention'));
    expect([attention.width, attention.height, attention.contentType]).toEqual([600, 600, 'image/jpeg']);
    const kept = await subjectIn(attention.bytes);
    expect(kept.total).toBeGreaterThan(expected * 0.95);
    expect(kept.inCircle).toBeGreaterThan(expected * 0.95);

    const center = await subjectIn((await fetchCropped(portrait, 'image/jpeg', square('center'))).bytes);
    expect(center.total).toBeLessThan(expected * 0.05);
  });

  it('top keeps a face at the top of a tall portrait; center cuts it off', async () => {
    const top = await fetchCropped(tall, 'image/jpeg', square('top'));
    expect([top.width, top.height]).toEqual([600, 600]);
    const center = await fetchCropped(tall, 'image/jpeg', square('center'));
    const kept = await subjectIn(top.bytes);
    const lost = await subjectIn(center.bytes);
    // The face's head and hair sit in y 35–240 of 1200: wholly in the top square, out of the centre one.
    expect(kept.inCircle).toBeGreaterThan(20_000);
    expect(lost.total).toBeLessThan(kept.total * 0.05);
  });

  it('contain keeps a 5:1 logo whole, with transparent bars above and below', async () => {
    const image = await fetchCropped(logo, 'image/png', square('contain'));
    expect([image.width, image.height, image.contentType]).toEqual([600, 600, 'image/png']);
    const { data, width } = await pixels(image.bytes);
    const alphaAt = (x: number, y: number) => data[(y * width + x) * 4 + 3]!;
    const rgbAt = (x: number, y: number) => [...data.subarray((y * width + x) * 4, (y * width + x) * 4 + 3)];
    let opaque = 0;
    let translucent = 0;
    for (let index = 3; index < data.length; index += 4) {
      if (data[index] === 255) opaque += 1;
      else if (data[index] !== 0) translucent += 1;
    }
    // 1000×200 scaled to 600×120: every logo pixel is there, and nothing else is opaque.
    expect(opaque).toBe(600 * 120);
    expect(translucent).toBe(0);
    expect([alphaAt(300, 0), alphaAt(300, 239), alphaAt(300, 240), alphaAt(300, 359), alphaAt(300, 360), alphaAt(300, 599)]).toEqual([0, 0, 255, 255, 0, 0]);
    // Both ends of the logo survive: its red first band and its blue last band.
    expect(rgbAt(2, 300)).toEqual([225, 29, 72]);
    expect(rgbAt(597, 300)).toEqual([29, 78, 216]);

    // The same logo cover-cropped to a square loses its ends.
    const cut = await pixels((await fetchCropped(logo, 'image/png', square('center'))).bytes);
    expect([...cut.data.subarray((300 * cut.width + 2) * 4, (300 * cut.width + 2) * 4 + 3)]).not.toEqual([225, 29, 72]);
  });

  it('crops to the declared ratio without enlarging a small image', async () => {
    const small = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#357' } }).jpeg().toBuffer();
    const fourByFive = await fetchCropped(small, 'image/jpeg', { rule: 'attention', aspectWidth: 4, aspectHeight: 5 }, 1000);
    expect([fourByFive.width, fourByFive.height]).toEqual([64, 80]);
    const wide = await fetchCropped(small, 'image/jpeg', { rule: 'contain', aspectWidth: 16, aspectHeight: 9 }, 1000);
    expect([wide.width, wide.height, wide.contentType]).toEqual([142, 80, 'image/png']);
  });

  it('gives the same bytes for the same input and rule, from separate fetchers', async () => {
    for (const rule of ['attention', 'contain', 'top'] as const) {
      const first = await fetchCropped(portrait, 'image/jpeg', square(rule));
      const second = await fetchCropped(portrait, 'image/jpeg', square(rule));
      expect(first.bytes.equals(second.bytes)).toBe(true);
    }
  });

  it('caches each crop of one source apart: the rule is part of the cache key', async () => {
    const one = fetcher();
    const center = await fetchCropped(logo, 'image/png', square('center'), 600, one);
    const contain = await fetchCropped(logo, 'image/png', square('contain'), 600, one);
    const uncropped = await fetchCropped(logo, 'image/png', undefined, 600, one);
    expect([center.width, center.height, center.contentType]).toEqual([200, 200, 'image/jpeg']);
    expect([contain.width, contain.height, contain.contentType]).toEqual([600, 600, 'image/png']);
    expect([uncropped.width, uncropped.height]).toEqual([600, 120]);
    // And asked again, each comes back as cached, not as the first crop of that source.
    expect((await fetchCropped(logo, 'image/png', square('contain'), 600, one)).bytes.equals(contain.bytes)).toBe(true);
  });

  it('reads the crop from a field spec: center by default, none without an aspect', () => {
    expect(cropOf({ aspect: '16:9' })).toEqual({ rule: 'center', aspectWidth: 16, aspectHeight: 9 });
    expect(cropOf({ crop: 'attention', aspect: '1:1' })).toEqual({ rule: 'attention', aspectWidth: 1, aspectHeight: 1 });
    expect(cropOf({})).toBeUndefined();
  });

  it('refuses a malformed crop from a caller that skipped the manifest', async () => {
    await expect(fetchCropped(logo, 'image/png', { rule: 'center', aspectWidth: 0, aspectHeight: 1 })).rejects.toBeInstanceOf(UsageError);
  });
});
