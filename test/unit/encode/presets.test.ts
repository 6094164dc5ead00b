import { describe, expect, it } from 'vitest';
import { ConfigError, type MergeshotError } from '../../../src/errors/index.js';
import { builtInPresets, getPreset, presetSchema, renderScaleFor, resolvePresets, type Preset, type PresetInput } from '../../../src/encode/index.js';

const source = 'mergeshot.config.json presets';

function failure(run: () => unknown): MergeshotError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as MergeshotError;
  }
  throw new Error('expected a ConfigError');
}

function preset(input: PresetInput): Preset {
  return presetSchema.parse(input);
}

describe('built-in presets', () => {
  it('each validates against the schema and is unchanged by it (checked like imgproxy checks presets at boot)', () => {
    for (const [name, builtIn] of Object.entries(builtInPresets)) {
      const result = presetSchema.safeParse(builtIn);
      expect(result.success, name).toBe(true);
      expect(result.data, name).toEqual(builtIn);
    }
  });

  it('are exactly the documented channels', () => {
    const withoutDescriptions = Object.fromEntries(Object.entries(builtInPresets).map(([name, { description: _d, ...rest }]) => [name, rest]));
    expect(withoutDescriptions).toEqual({
      email: { format: 'jpeg', mozjpeg: false, quality: 82, width: 1200, displayWidth: 600, maxBytes: 200_000, background: '#ffffff', fit: 'inside' },
      'email-png': { format: 'png', palette: true, quality: 90, width: 1200, displayWidth: 600, maxBytes: 200_000, fit: 'inside' },
      whatsapp: { format: 'jpeg', quality: 85, maxLongSide: 1600, maxBytes: 5_000_000, background: '#ffffff', fit: 'inside' },
      og: { format: 'png', width: 1200, height: 630, fit: 'cover' },
      web: { format: 'webp', quality: 80, fit: 'inside' },
      original: { format: 'png', scale: 1, fit: 'inside' },
    });
    for (const builtIn of Object.values(builtInPresets)) expect(builtIn.description).toEqual(expect.any(String));
  });

  it('are frozen', () => {
    expect(Object.isFrozen(builtInPresets)).toBe(true);
    expect(Object.isFrozen(builtInPresets.email)).toBe(true);
  });
});

describe('presetSchema', () => {
  it.each([
    [{ format: 'png', quality: 80 }, 'quality only applies to JPEG, lossy WebP and palette PNG; PNG without "palette": true is lossless. Remove it or set "palette": true.'],
    [{ format: 'webp', lossless: true, quality: 80 }, 'quality has no effect with "lossless": true. Remove it or set "lossless": false.'],
    [{ format: 'webp', mozjpeg: true }, 'mozjpeg only applies to "format": "jpeg", but this preset is "webp". Remove it.'],
    [{ format: 'jpeg', palette: true }, 'palette only applies to "format": "png", but this preset is "jpeg". Remove it.'],
    [{ format: 'png', lossless: true }, 'lossless only applies to "format": "webp", but this preset is "png". PNG is always lossless unless "palette" is true. Remove it.'],
    [{ format: 'jpeg', width: 500, displayWidth: 600 }, 'displayWidth is larger than width (500), so mail clients would upscale the image and blur it. Set width to at least displayWidth, ideally 2× for high-DPI screens.'],
    [{ format: 'jpeg', width: 1200, maxLongSide: 1000 }, 'maxLongSide is smaller than width (1200), so the output could never be 1200 px. Raise maxLongSide or remove it.'],
    [{ format: 'png', scale: 5 }, 'scale must be a number 1–4, got 5 (number).'],
    [{ format: 'jpeg', background: 'white' }, 'background must be a colour "#rrggbb", got "white" (string). Write six hex digits, e.g. "#ffffff".'],
    [{ format: 'jpeg', width: '1200px' }, 'width must be an integer 1–8000, got "1200px" (string). Write the output width in pixels without units, e.g. 1200.'],
    [{ format: 'jpeg', maxBytes: 2.5 }, 'maxBytes must be an integer 1–100000000, got 2.5 (number). Write the budget in bytes without units, e.g. 200000.'],
    [{ format: 'gif' }, 'format must be "jpeg", "png" or "webp", got "gif" (string).'],
  ])('rejects %j', (input, message) => {
    const result = presetSchema.safeParse(input);
    expect(result.success).toBe(false);
    const lines = result.error!.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    expect(lines).toEqual([message]);
  });

  it('defaults fit to inside', () => {
    expect(preset({ format: 'webp' }).fit).toBe('inside');
  });
});

describe('resolvePresets', () => {
  it('returns the built-ins when the config has no presets', () => {
    expect(resolvePresets()).toBe(builtInPresets);
  });

  it('names the key, the value and the fix for a wrong value', () => {
    const error = failure(() => resolvePresets({ email: { extends: 'email', quality: 'high' } }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(`${source}: email.quality must be an integer 1–100, got "high" (string). Write a number such as 82; higher is sharper and larger.`);
    expect(error.detail.source).toBe(source);
  });

  it('uses the source it is given', () => {
    const error = failure(() => resolvePresets({ email: { extends: 'email', quality: 0 } }, 'env MERGESHOT_PRESETS'));
    expect(error.message).toBe('env MERGESHOT_PRESETS: email.quality must be an integer 1–100, got 0 (number). Write a number such as 82; higher is sharper and larger.');
  });

  it('rejects an unknown key with a did-you-mean hint', () => {
    const error = failure(() => resolvePresets({ email: { extends: 'email', qualty: 70 } }));
    expect(error.message).toBe(`${source}: unknown key "email.qualty". Did you mean "quality"?`);
  });

  it('suggests "jpeg" for "jpg" and asks for a format when nothing can be inherited', () => {
    const error = failure(() => resolvePresets({ promo: { format: 'jpg' }, banner: { quality: 70 } }));
    expect(error.message.split('\n')).toEqual([
      `${source}: promo.format must be "jpeg", "png" or "webp", got "jpg" (string). Write "jpeg".`,
      `${source}: banner.format is required: "jpeg", "png" or "webp" (or set "extends" to inherit one from another preset).`,
    ]);
  });

  it('reports every problem in every preset at once', () => {
    const error = failure(() => resolvePresets({ a: { format: 'png', mozjpeg: true }, b: { format: 'jpeg', width: 400, displayWidth: 600 } }));
    expect(error.message.split('\n')).toEqual([
      `${source}: a.mozjpeg only applies to "format": "jpeg", but this preset is "png". Remove it.`,
      `${source}: b.displayWidth is larger than width (400), so mail clients would upscale the image and blur it. Set width to at least displayWidth, ideally 2× for high-DPI screens.`,
    ]);
  });

  it('rejects a preset name that is not URL-safe, and a section that is not an object', () => {
    expect(failure(() => resolvePresets({ 'Email Dark': { extends: 'email' } })).message).toBe(
      `${source}: "Email Dark" is not a valid preset name: use lowercase letters, digits and "-", starting with a letter, e.g. "email-dark".`,
    );
    expect(failure(() => resolvePresets(['email'])).message).toBe(
      `${source}: (root) must be an object of named presets, got an array. E.g. { "newsletter": { "extends": "email", "maxBytes": 150000 } }.`,
    );
  });

  it('adds new presets and keeps the built-ins', () => {
    const presets = resolvePresets({ story: { format: 'jpeg', quality: 88, width: 1080, height: 1920, fit: 'cover' } });
    expect(presets.story).toEqual({ format: 'jpeg', quality: 88, width: 1080, height: 1920, fit: 'cover' });
    expect(presets.email).toBe(builtInPresets.email);
  });

  it('replaces a built-in entirely when the user preset of that name does not extend it', () => {
    const presets = resolvePresets({ og: { format: 'jpeg', width: 1200, height: 630 } });
    expect(presets.og).toEqual({ format: 'jpeg', width: 1200, height: 630, fit: 'inside' });
    expect(builtInPresets.og.format).toBe('png');
  });

  it('changes a few keys of the built-in when a preset extends its own name', () => {
    const presets = resolvePresets({ email: { extends: 'email', maxBytes: 150_000 } });
    expect(presets.email).toEqual({ ...builtInPresets.email, maxBytes: 150_000 });
    expect(builtInPresets.email.maxBytes).toBe(200_000);
  });

  it('follows a chain of extends through configured presets', () => {
    const presets = resolvePresets({ brand: { extends: 'email', quality: 70 }, 'brand-small': { extends: 'brand', width: 800, displayWidth: 400 } });
    expect(presets['brand-small']).toEqual({ ...builtInPresets.email, quality: 70, width: 800, displayWidth: 400 });
  });

  it('drops inherited keys that no longer apply, but not ones the user wrote', () => {
    const presets = resolvePresets({ 'email-webp': { extends: 'email', format: 'webp' }, narrow: { extends: 'email', width: 500 } });
    // mozjpeg is JPEG-only; quality still applies to WebP, so it stays.
    expect(presets['email-webp']).toEqual({ format: 'webp', quality: 82, width: 1200, displayWidth: 600, maxBytes: 200_000, background: '#ffffff', fit: 'inside', description: builtInPresets.email.description });
    expect(presets.narrow?.displayWidth).toBeUndefined();
    expect(presets.narrow?.width).toBe(500);

    const toPng = resolvePresets({ 'email-truecolour': { extends: 'email', format: 'png' } })['email-truecolour'];
    expect(toPng?.mozjpeg).toBeUndefined();
    expect(toPng?.quality).toBeUndefined();

    const error = failure(() => resolvePresets({ mine: { extends: 'email', format: 'png', mozjpeg: true } }));
    expect(error.message).toBe(`${source}: mine.mozjpeg only applies to "format": "jpeg", but this preset is "png". Remove it.`);
  });

  it('lists what exists when extends names an unknown preset', () => {
    const error = failure(() => resolvePresets({ mine: { extends: 'emial' } }));
    expect(error.message).toBe(`${source}: mine.extends must name a built-in or configured preset, got "emial" (string). Available: email, email-png, whatsapp, og, web, original.`);
  });

  it('does not report a preset again for extending one that is itself invalid', () => {
    const error = failure(() => resolvePresets({ brand: { extends: 'email', quality: 'high' }, 'brand-small': { extends: 'brand', width: 800 } }));
    expect(error.message).toBe(`${source}: brand.quality must be an integer 1–100, got "high" (string). Write a number such as 82; higher is sharper and larger.`);
  });

  it('rejects a cycle of extends once', () => {
    const error = failure(() => resolvePresets({ a: { extends: 'b' }, b: { extends: 'a' } }));
    expect(error.message).toBe(`${source}: b.extends leads back to "a" (a → b → a). A chain of extends must end at a preset without extends.`);
  });

  it('returns frozen presets', () => {
    const presets = resolvePresets({ email: { extends: 'email', quality: 75 } });
    expect(Object.isFrozen(presets)).toBe(true);
    expect(Object.isFrozen(presets.email)).toBe(true);
  });
});

describe('getPreset', () => {
  it('returns the preset by name', () => {
    expect(getPreset(builtInPresets, 'og')).toBe(builtInPresets.og);
  });

  it('throws PRESET_UNKNOWN listing the available names', () => {
    const error = failure(() => getPreset(builtInPresets, 'emial'));
    expect(error.code).toBe('PRESET_UNKNOWN');
    expect(error.message).toBe(
      'preset must be one of email, email-png, whatsapp, og, web, original, got "emial" (string). Use one of those names or add the preset under "presets" in mergeshot.config.json.',
    );
    expect(error.detail.field).toBe('preset');
  });

  it('does not treat inherited object properties as presets', () => {
    expect(failure(() => getPreset(builtInPresets, 'constructor')).code).toBe('PRESET_UNKNOWN');
  });
});

describe('preset tables', () => {
  // Callers index the table with names from URLs and manifests (`presets[name]`): a table with
  // Object.prototype behind it would answer "constructor" or "toString" with a function.
  const builtInNames = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

  it.each([
    ['the built-ins', () => builtInPresets as Readonly<Record<string, Preset>>],
    ['the built-ins without a presets section', () => resolvePresets(undefined)],
    ['the built-ins merged with user presets', () => resolvePresets({ 'email-dark': { extends: 'email', background: '#000000' } })],
  ])('%s answer built-in property names with nothing', (_label, table) => {
    const presets = table();
    for (const name of builtInNames) expect(presets[name], name).toBeUndefined();
    expect(Object.getPrototypeOf(presets)).toBeNull();
    expect(Object.isFrozen(presets)).toBe(true);
  });

  it('still lists and spreads like a plain table', () => {
    const presets = resolvePresets({ 'email-dark': { extends: 'email', background: '#000000' } });
    expect(Object.keys(presets)).toEqual(['email', 'email-png', 'whatsapp', 'og', 'web', 'original', 'email-dark']);
    expect({ ...presets }['email-dark']?.background).toBe('#000000');
    expect(presets['email-dark']?.format).toBe('jpeg');
  });
});

describe('renderScaleFor', () => {
  const { email, og, whatsapp, web, original } = builtInPresets;
  it.each([
    ['email on a 600-wide template → 2', email, 600, 300, 2],
    ['email on a 1200-wide template → 1', email, 1200, 600, 1],
    ['email on an 800-wide template: 1.5 rounds up so text stays crisp → 2', email, 800, 400, 2],
    ['email on a 500-wide template: 2.4 rounds up → 3', email, 500, 250, 3],
    ['email on a 250-wide template: capped → 4', email, 250, 125, 4],
    ['email on a template wider than the output → 1', email, 2000, 1000, 1],
    ['og on 1200×630 → 1', og, 1200, 630, 1],
    ['og on 600×315 → 2', og, 600, 315, 2],
    ['og (cover) on 1200×400: the height decides → 2', og, 1200, 400, 2],
    ['whatsapp on 1080×1080 → 1', whatsapp, 1080, 1080, 1],
    ['web on 600×300 → 1', web, 600, 300, 1],
    ['original on 600×300 (explicit scale 1) → 1', original, 600, 300, 1],
    ['explicit scale wins over width → 3', preset({ format: 'png', width: 1200, scale: 3 }), 1200, 600, 3],
    ['explicit fractional scale is kept → 1.5', preset({ format: 'png', scale: 1.5 }), 600, 300, 1.5],
    ['contain fits one side of the box → 2', preset({ format: 'png', width: 1200, height: 630, fit: 'contain' }), 600, 600, 2],
    ['maxLongSide caps the need on a tall template → 1', preset({ format: 'jpeg', width: 1200, maxLongSide: 1600 }), 300, 2000, 1],
    ['height alone → 3', preset({ format: 'jpeg', height: 1000 }), 800, 400, 3],
  ])('%s', (_label, which, width, height, expected) => {
    expect(renderScaleFor(which, width, height)).toBe(expected);
  });
});
