import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { EncodeError, type MergeshotError } from '../../../src/errors/index.js';
import { builtInPresets, encodeImage, presetSchema, resolvePresets, type Preset, type PresetInput } from '../../../src/encode/index.js';
import { outputSize } from '../../../src/encode/encode.js';

/**
 * Inputs look like what Chromium hands over: opaque RGBA PNGs of a design (gradient, text, a
 * pill, a photo slot), at 1× and 2×, plus a noisy photo-like image that JPEG cannot squeeze into
 * a tiny budget. SVG text uses the system's fonts, which is fine for an input.
 */
async function designCapture(width: number, height: number, scale = 1): Promise<Buffer> {
  const w = width * scale;
  const h = height * scale;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${width} ${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#1e3a8a"/><stop offset="1" stop-color="#db2777"/></linearGradient></defs>
    <rect width="${width}" height="${height}" fill="url(#g)"/>
    <rect x="${width * 0.05}" y="${height * 0.72}" width="${width * 0.25}" height="${height * 0.11}" rx="${height * 0.055}" fill="#ffffff"/>
    <text x="${width * 0.05}" y="${height * 0.22}" font-family="sans-serif" font-size="${height * 0.1}" font-weight="bold" fill="#ffffff">Hello Ada Lovelace,</text>
    <text x="${width * 0.05}" y="${height * 0.35}" font-family="sans-serif" font-size="${height * 0.055}" fill="#e0e7ff">your seat at the Engine meetup is ready.</text>
    <text x="${width * 0.07}" y="${height * 0.795}" font-family="sans-serif" font-size="${height * 0.045}" fill="#1e3a8a">Row 12 · Seat 4</text>
  </svg>`;
  const side = Math.round(h * 0.5);
  const noise = await sharp({ create: { width: side, height: side, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).blur(1.2).png().toBuffer();
  const photo = await sharp({ create: { width: side, height: side, channels: 3, background: '#b45309' } })
    .composite([{ input: noise, blend: 'overlay' }])
    .png()
    .toBuffer();
  return sharp(Buffer.from(svg))
    .composite([{ input: photo, left: Math.round(w * 0.68), top: Math.round(h * 0.45) }])
    .png()
    .toBuffer();
}

async function noisyPhoto(width: number, height: number): Promise<Buffer> {
  const noise = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g"><stop offset="0" stop-color="#0f766e"/><stop offset="1" stop-color="#f59e0b"/></linearGradient></defs><rect width="${width}" height="${height}" fill="url(#g)"/></svg>`;
  return sharp(Buffer.from(svg)).composite([{ input: noise, blend: 'soft-light' }]).png().toBuffer();
}

function plain(width: number, height: number, colour = '#336699'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: colour } }).png().toBuffer();
}

/** Left half fully transparent, right half opaque red: what a capture with omitBackground looks like. */
function halfTransparent(): Promise<Buffer> {
  return sharp({ create: { width: 400, height: 200, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: { create: { width: 200, height: 200, channels: 4, background: '#ff0000' } }, left: 200, top: 0 }])
    .png()
    .toBuffer();
}

async function rgbaAt(image: Buffer, left: number, top: number): Promise<number[]> {
  const pixel = await sharp(image).extract({ left, top, width: 1, height: 1 }).ensureAlpha().raw().toBuffer();
  return [...pixel];
}

function custom(input: PresetInput): Preset {
  return presetSchema.parse(input);
}

function extended(base: string, changes: Record<string, unknown>): Preset {
  return resolvePresets({ custom: { extends: base, ...changes } }).custom!;
}

async function rejection(promise: Promise<unknown>): Promise<MergeshotError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(EncodeError);
    return error as MergeshotError;
  }
  throw new Error('expected an EncodeError');
}

let capture: Buffer; // 1200×630
let banner2x: Buffer; // 600×300 at scale 2 → 1200×600
let photo: Buffer; // 2400×1260, noisy

beforeAll(async () => {
  [capture, banner2x, photo] = await Promise.all([designCapture(1200, 630), designCapture(600, 300, 2), noisyPhoto(2400, 1260)]);
});

describe('outputSize', () => {
  const { email, whatsapp, og, web } = builtInPresets;
  it.each([
    ['email keeps 1200 px', email, 1200, 600, 1200, 600],
    ['email downsizes a 3× capture', email, 1800, 900, 1200, 600],
    ['email never enlarges', email, 800, 400, 800, 400],
    ['whatsapp caps a wide long side', whatsapp, 3000, 1000, 1600, 533],
    ['whatsapp caps a tall long side', whatsapp, 1000, 3000, 533, 1600],
    ['whatsapp leaves small images alone', whatsapp, 1080, 1080, 1080, 1080],
    ['og is exactly its box, even enlarged', og, 600, 300, 1200, 630],
    ['web keeps the capture size', web, 1200, 630, 1200, 630],
    ['inside box without enlarging', custom({ format: 'png', width: 400, height: 400 }), 1200, 600, 400, 200],
    ['height alone', custom({ format: 'png', height: 300 }), 1200, 600, 600, 300],
  ])('%s', (_label, preset, inWidth, inHeight, width, height) => {
    expect(outputSize(inWidth, inHeight, preset)).toEqual({ width, height });
  });
});

describe('encodeImage sizes and formats', () => {
  it.each([
    ['email', 'banner2x', 'jpeg', 1200, 600],
    ['email', 'capture', 'jpeg', 1200, 630],
    ['email', 'photo', 'jpeg', 1200, 630],
    ['email-png', 'banner2x', 'png', 1200, 600],
    ['og', 'capture', 'png', 1200, 630],
    ['og', 'banner2x', 'png', 1200, 630],
    ['web', 'banner2x', 'webp', 1200, 600],
    ['original', 'capture', 'png', 1200, 630],
  ] as const)('%s on %s → %s %d×%d', async (name, input, format, width, height) => {
    const image = await encodeImage({ capture, banner2x, photo }[input], builtInPresets[name]);
    const metadata = await sharp(image.bytes).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual([format, width, height]);
    expect([image.format, image.width, image.height]).toEqual([format, width, height]);
    expect(image.contentType).toBe(`image/${format}`);
  });

  it('whatsapp: a 3000×1000 capture comes out with a 1600 px long side', async () => {
    const image = await encodeImage(await plain(3000, 1000), builtInPresets.whatsapp);
    expect([image.width, image.height]).toEqual([1600, 533]);
    expect(await sharp(image.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 1600, height: 533 });
  });

  it('og: a 3000×1000 capture is cropped to fill exactly 1200×630', async () => {
    const image = await encodeImage(await plain(3000, 1000), builtInPresets.og);
    expect(await sharp(image.bytes).metadata()).toMatchObject({ format: 'png', width: 1200, height: 630 });
  });

  it('contain letterboxes onto transparency for PNG', async () => {
    const image = await encodeImage(await plain(1200, 600), custom({ format: 'png', width: 400, height: 400, fit: 'contain' }));
    expect(await sharp(image.bytes).metadata()).toMatchObject({ width: 400, height: 400, hasAlpha: true });
    expect((await rgbaAt(image.bytes, 200, 10))[3]).toBe(0);
    expect(await rgbaAt(image.bytes, 200, 200)).toEqual([0x33, 0x66, 0x99, 255]);
  });

  it('email and whatsapp: baseline JPEG, 4:2:0, no alpha', async () => {
    const email = await sharp((await encodeImage(capture, builtInPresets.email)).bytes).metadata();
    expect(email).toMatchObject({ channels: 3, hasAlpha: false, chromaSubsampling: '4:2:0', isProgressive: false });
    const whatsapp = await sharp((await encodeImage(capture, builtInPresets.whatsapp)).bytes).metadata();
    expect(whatsapp).toMatchObject({ channels: 3, hasAlpha: false, chromaSubsampling: '4:2:0', isProgressive: false });
  });

  it('email-png is palette-quantised; og and original are truecolour', async () => {
    expect((await sharp((await encodeImage(banner2x, builtInPresets['email-png'])).bytes).metadata()).isPalette).toBe(true);
    expect((await sharp((await encodeImage(capture, builtInPresets.og)).bytes).metadata()).isPalette).toBe(false);
    expect((await sharp((await encodeImage(capture, builtInPresets.original)).bytes).metadata()).isPalette).toBe(false);
  });

  it('reports the quality used, and none for lossless output', async () => {
    expect((await encodeImage(capture, builtInPresets.email)).quality).toBe(82);
    expect((await encodeImage(capture, builtInPresets.web)).quality).toBe(80);
    expect((await encodeImage(capture, builtInPresets.whatsapp)).quality).toBe(85);
    expect((await encodeImage(capture, builtInPresets.og)).quality).toBeUndefined();
  });
});

describe('encodeImage alpha', () => {
  it('JPEG flattens transparency onto white by default', async () => {
    const image = await encodeImage(await halfTransparent(), builtInPresets.whatsapp);
    expect((await sharp(image.bytes).metadata()).hasAlpha).toBe(false);
    const [r, g, b] = await rgbaAt(image.bytes, 50, 100);
    expect(Math.min(r!, g!, b!)).toBeGreaterThanOrEqual(250);
    const [red, green, blue] = await rgbaAt(image.bytes, 350, 100);
    expect(red).toBeGreaterThanOrEqual(245);
    expect(Math.max(green!, blue!)).toBeLessThanOrEqual(10);
  });

  it("JPEG flattens onto the preset's background", async () => {
    const image = await encodeImage(await halfTransparent(), extended('whatsapp', { background: '#00ff00' }));
    const [r, g, b] = await rgbaAt(image.bytes, 50, 100);
    expect(g).toBeGreaterThanOrEqual(245);
    expect(Math.max(r!, b!)).toBeLessThanOrEqual(10);
  });

  it('PNG keeps real transparency, and drops an alpha channel that is opaque everywhere', async () => {
    const transparent = await encodeImage(await halfTransparent(), builtInPresets.original);
    expect(await rgbaAt(transparent.bytes, 50, 100)).toEqual([0, 0, 0, 0]);
    expect(await rgbaAt(transparent.bytes, 350, 100)).toEqual([255, 0, 0, 255]);
    const opaque = await sharp((await encodeImage(capture, builtInPresets.original)).bytes).metadata();
    expect(opaque).toMatchObject({ channels: 3, hasAlpha: false });
  });
});

describe('encodeImage metadata and colour', () => {
  it('writes no EXIF, XMP, IPTC or ICC profile, whatever the capture carried', async () => {
    const tagged = await sharp(capture)
      .withExif({ IFD0: { Copyright: 'someone', ImageDescription: 'a capture' } })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')
      .withIccProfile('p3', { attach: true })
      .jpeg()
      .toBuffer();
    const input = await sharp(tagged).metadata();
    expect([Boolean(input.exif), Boolean(input.xmp), Boolean(input.icc)]).toEqual([true, true, true]);
    for (const [name, preset] of Object.entries(builtInPresets)) {
      const output = await sharp((await encodeImage(tagged, preset)).bytes).metadata();
      expect({ name, exif: output.exif, xmp: output.xmp, iptc: output.iptc, icc: output.icc, hasProfile: output.hasProfile }).toEqual({
        name,
        exif: undefined,
        xmp: undefined,
        iptc: undefined,
        icc: undefined,
        hasProfile: false,
      });
    }
  });

  it('converts a capture with an embedded Display P3 profile to sRGB instead of dropping the profile', async () => {
    const green = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00ff00' } }).png().toBuffer();
    const p3 = await sharp(green).withIccProfile('p3', { attach: true }).png().toBuffer();
    const stored = [...(await sharp(p3).keepIccProfile().raw().toBuffer()).subarray(0, 3)];
    expect(stored[0]).toBeGreaterThan(60); // P3 stores sRGB green as a mix; read untagged it would look wrong
    const [r, g, b] = await rgbaAt((await encodeImage(p3, builtInPresets.original)).bytes, 4, 4);
    expect(g).toBeGreaterThanOrEqual(250);
    expect(Math.max(r!, b!)).toBeLessThanOrEqual(8);
  });
});

describe('encodeImage determinism', () => {
  it.each([
    ['original', builtInPresets.original],
    ['og', builtInPresets.og],
    ['email-png (palette)', builtInPresets['email-png']],
    ['lossless webp', custom({ format: 'webp', lossless: true })],
    ['email (jpeg)', builtInPresets.email],
    ['web (lossy webp)', builtInPresets.web],
  ])('%s: identical captures give identical bytes', async (_label, preset) => {
    const [first, second] = [await encodeImage(capture, preset), await encodeImage(Buffer.from(capture), preset)];
    expect(first.bytes.equals(second.bytes)).toBe(true);
  });
});

describe('encodeImage byte budget', () => {
  it('costs one encode when the first result fits', async () => {
    const image = await encodeImage(capture, builtInPresets.email);
    expect(image.bytes.length).toBeLessThanOrEqual(200_000);
    expect(image.encodes).toBe(1);
    expect(image.warnings).toEqual([]);
  });

  it('JPEG: searches quality down until the image fits, keeping the preset width', async () => {
    const preset = extended('email', { maxBytes: 60_000 });
    const image = await encodeImage(photo, preset);
    expect(image.bytes.length).toBeLessThanOrEqual(60_000);
    expect(image.quality).toBeGreaterThanOrEqual(35);
    expect(image.quality).toBeLessThan(82);
    expect([image.width, image.height]).toEqual([1200, 630]);
    expect(image.encodes).toBeLessThanOrEqual(6);
    expect(image.warnings).toEqual([]);
  });

  it('WebP: searches quality down until the image fits', async () => {
    const image = await encodeImage(capture, extended('web', { maxBytes: 15_000 }));
    expect(image.bytes.length).toBeLessThanOrEqual(15_000);
    expect(image.quality).toBeLessThan(80);
    expect(image.warnings).toEqual([]);
  });

  it('palette PNG: dithers less, then quantises harder, until the image fits', async () => {
    const image = await encodeImage(capture, extended('email-png', { maxBytes: 60_000 }));
    expect(image.bytes.length).toBeLessThanOrEqual(60_000);
    expect((await sharp(image.bytes).metadata()).isPalette).toBe(true);
    expect(image.encodes).toBeLessThanOrEqual(4);
    expect(image.warnings).toEqual([]);
  });

  it('returns the smallest at the floor quality with an over-budget warning when nothing fits', async () => {
    const image = await encodeImage(photo, extended('email', { maxBytes: 5_000 }));
    expect([image.width, image.height, image.quality]).toEqual([1200, 630, 35]);
    expect(image.encodes).toBe(2);
    expect(image.warnings).toEqual([
      {
        code: 'over-budget',
        message: `${image.bytes.length} bytes, budget 5000; smallest found: jpeg at quality 35, at the preset's dimensions. Use simpler imagery, a smaller width, or raise maxBytes.`,
      },
    ]);
  });

  it('palette PNG that cannot fit goes out at its smallest, truecolour tried too, with a warning', async () => {
    const image = await encodeImage(photo, extended('email-png', { maxBytes: 50_000 }));
    expect(image.encodes).toBe(3);
    expect(image.warnings).toHaveLength(1);
    expect(image.warnings[0]!.code).toBe('over-budget');
    expect(image.warnings[0]!.message).toMatch(new RegExp(`^${image.bytes.length} bytes, budget 50000; smallest found: `));
    expect(image.warnings[0]!.message).toMatch(/For photographic content a JPEG preset fits where PNG cannot\.$/);
  });

  it('lossless output over budget is only reported', async () => {
    const image = await encodeImage(capture, extended('og', { maxBytes: 1_000 }));
    expect(image.encodes).toBe(1);
    expect(image.warnings).toEqual([
      {
        code: 'over-budget',
        message: `${image.bytes.length} bytes, budget 1000; lossless png has no quality to trade for size; set "palette": true or use "format": "jpeg", or raise maxBytes.`,
      },
    ]);
  });
});

describe('encodeImage failures', () => {
  it('wraps what sharp cannot read as ENCODE_FAILED with the cause', async () => {
    const error = await rejection(encodeImage(Buffer.from('not an image'), builtInPresets.email));
    expect(error.code).toBe('ENCODE_FAILED');
    expect(error.message).toMatch(/^could not encode the capture as jpeg: /);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('refuses a truncated capture instead of encoding a partial image', async () => {
    const error = await rejection(encodeImage(capture.subarray(0, Math.floor(capture.length / 2)), builtInPresets.original));
    expect(error.code).toBe('ENCODE_FAILED');
  });

  it('refuses a truncated JPEG capture too (encoded in one pass from the capture)', async () => {
    const jpeg = await sharp(capture).flatten().jpeg({ quality: 95 }).toBuffer();
    const whole = await encodeImage(jpeg, builtInPresets.email);
    expect([whole.width, whole.height]).toEqual([1200, 630]);
    const error = await rejection(encodeImage(jpeg.subarray(0, Math.floor(jpeg.length / 2)), builtInPresets.email));
    expect(error.code).toBe('ENCODE_FAILED');
  });

  it('does not start when the signal is already aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('deadline');
    controller.abort(reason);
    const error = await rejection(encodeImage(capture, builtInPresets.email, { signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(error.message).toBe('encode cancelled before decoding');
    expect(error.cause).toBe(reason);
  });

  it('stops after the sharp call in flight when aborted mid-way', async () => {
    const controller = new AbortController();
    const pending = encodeImage(capture, builtInPresets.email, { signal: controller.signal });
    controller.abort();
    const error = await rejection(pending);
    expect(error.code).toBe('ABORTED');
    expect(error.message).toBe('encode cancelled after decoding');
  });
});
