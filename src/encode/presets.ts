import { z } from 'zod';
import { ConfigError, fromZod } from '../errors/index.js';

/**
 * Channel presets: how a capture is sized and encoded for the place it goes (an email body, a
 * WhatsApp message, an Open Graph card). Built-ins cover the common channels; mergeshot.config.json
 * `presets` overrides them by name, adds new ones, or `extends` one and changes a few keys.
 */

export const presetFormats = ['jpeg', 'png', 'webp'] as const;
export type PresetFormat = (typeof presetFormats)[number];

export const presetFits = ['cover', 'contain', 'inside'] as const;
export type PresetFit = (typeof presetFits)[number];

/** Preset names appear in URLs (`?preset=email-png`) and file names, so they stay URL- and path-safe. */
const presetNamePattern = /^[a-z][a-z0-9-]*$/;

function describe(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value.slice(0, 40))} (string)`;
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${String(value).slice(0, 40)} (${typeof value})`;
}

function integer(min: number, max: number, fix: string) {
  const error = (issue: { input?: unknown }) => `must be an integer ${min}–${max}, got ${describe(issue.input)}. ${fix}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

function flag() {
  return z.boolean({ error: (issue) => `must be true or false, got ${describe(issue.input)}.` });
}

const formatSchema = z.enum(presetFormats, {
  error: (issue) => {
    if (issue.input === undefined) return 'is required: "jpeg", "png" or "webp" (or set "extends" to inherit one from another preset).';
    const fix = issue.input === 'jpg' ? ' Write "jpeg".' : '';
    return `must be "jpeg", "png" or "webp", got ${describe(issue.input)}.${fix}`;
  },
});

const fitSchema = z.enum(presetFits, {
  error: (issue) => `must be "cover", "contain" or "inside", got ${describe(issue.input)}.`,
});

/**
 * Every key of a preset, none with a default: user presets are parsed with these first, so a key
 * the user left out stays absent and `extends` can inherit it (a default would overwrite it).
 *
 * Sizing: `width` alone scales to that width, never enlarging; `width` + `height` with fit
 * "cover" or "contain" is an exact box (enlarged if needed), with "inside" a bounding box;
 * `maxLongSide` then caps the longer side. `displayWidth` is the CSS width the image is shown at
 * (the email `<img width>`); `scale` pins the device scale factor instead of deriving it.
 * Encoding: `quality` is JPEG/WebP quality or, with `palette`, the PNG quantisation quality;
 * `background` fills JPEG transparency and "contain" letterboxing; `maxBytes` is the byte budget.
 */
const presetFields = {
  format: formatSchema,
  quality: integer(1, 100, 'Write a number such as 82; higher is sharper and larger.').optional(),
  width: integer(1, 8000, 'Write the output width in pixels without units, e.g. 1200.').optional(),
  height: integer(1, 8000, 'Write the output height in pixels without units, e.g. 630.').optional(),
  fit: fitSchema.optional(),
  maxLongSide: integer(1, 8000, 'Write the longest allowed side in pixels, e.g. 1600.').optional(),
  maxBytes: integer(1, 100_000_000, 'Write the budget in bytes without units, e.g. 200000.').optional(),
  displayWidth: integer(1, 8000, 'Write the CSS width the image is shown at, e.g. 600.').optional(),
  scale: z
    .number({ error: (issue) => `must be a number 1–4, got ${describe(issue.input)}. Write the device scale factor, e.g. 2.` })
    .min(1, { error: (issue) => `must be a number 1–4, got ${describe(issue.input)}.` })
    .max(4, { error: (issue) => `must be a number 1–4, got ${describe(issue.input)}.` })
    .optional(),
  mozjpeg: flag().optional(),
  palette: flag().optional(),
  lossless: flag().optional(),
  background: z
    .string({ error: (issue) => `must be a colour "#rrggbb", got ${describe(issue.input)}. Write six hex digits, e.g. "#ffffff".` })
    .regex(/^#[0-9a-fA-F]{6}$/, { error: (issue) => `must be a colour "#rrggbb", got ${describe(issue.input)}. Write six hex digits, e.g. "#ffffff".` })
    .optional(),
  description: z.string({ error: (issue) => `must be text, got ${describe(issue.input)}.` }).max(200).optional(),
};

const presetObject = z.strictObject({ ...presetFields, fit: fitSchema.default('inside') });

type PresetValues = z.output<typeof presetObject>;

/**
 * Key combinations that cannot do what the user meant. Each issue sits on the key that does not
 * apply, so resolvePresets can tell a key the user wrote (an error) from one inherited through
 * `extends` that no longer applies after the user's change (dropped).
 */
function checkCombinations(preset: PresetValues, ctx: z.core.$RefinementCtx<PresetValues>): void {
  const problem = (key: keyof PresetValues, message: string) => ctx.addIssue({ code: 'custom', path: [key], message, input: preset[key] });
  if (preset.mozjpeg !== undefined && preset.format !== 'jpeg') {
    problem('mozjpeg', `only applies to "format": "jpeg", but this preset is "${preset.format}". Remove it.`);
  }
  if (preset.palette !== undefined && preset.format !== 'png') {
    problem('palette', `only applies to "format": "png", but this preset is "${preset.format}". Remove it.`);
  }
  if (preset.lossless !== undefined && preset.format !== 'webp') {
    const why = preset.format === 'png' ? ' PNG is always lossless unless "palette" is true.' : '';
    problem('lossless', `only applies to "format": "webp", but this preset is "${preset.format}".${why} Remove it.`);
  }
  if (preset.quality !== undefined && preset.format === 'png' && preset.palette !== true) {
    problem('quality', 'only applies to JPEG, lossy WebP and palette PNG; PNG without "palette": true is lossless. Remove it or set "palette": true.');
  }
  if (preset.quality !== undefined && preset.format === 'webp' && preset.lossless === true) {
    problem('quality', 'has no effect with "lossless": true. Remove it or set "lossless": false.');
  }
  if (preset.displayWidth !== undefined && preset.width !== undefined && preset.displayWidth > preset.width) {
    problem('displayWidth', `is larger than width (${preset.width}), so mail clients would upscale the image and blur it. Set width to at least displayWidth, ideally 2× for high-DPI screens.`);
  }
  for (const side of ['width', 'height'] as const) {
    const length = preset[side];
    if (preset.maxLongSide !== undefined && length !== undefined && preset.maxLongSide < length) {
      problem('maxLongSide', `is smaller than ${side} (${length}), so the output could never be ${length} px. Raise maxLongSide or remove it.`);
    }
  }
}

/** One validated channel preset. `fit` defaults to "inside": shrink to fit, never crop. */
export const presetSchema = presetObject.superRefine(checkCombinations);

export type Preset = Readonly<z.output<typeof presetSchema>>;
export type PresetInput = z.input<typeof presetSchema>;

const userPresetSchema = z.strictObject({
  ...presetFields,
  format: formatSchema.optional(),
  extends: z
    .string({ error: (issue) => `must be the name of another preset, got ${describe(issue.input)}. E.g. "extends": "email".` })
    .optional(),
});

const presetsSectionSchema = z.record(z.string(), z.unknown(), {
  error: (issue) => `must be an object of named presets, got ${describe(issue.input)}. E.g. { "newsletter": { "extends": "email", "maxBytes": 150000 } }.`,
});

const presetKeys = [...Object.keys(presetObject.shape), 'extends'];

const builtInDefinitions = {
  email: {
    description: 'Email body image: 2× JPEG for a 600 px wide slot, under 200 KB so it loads on mobile data.',
    format: 'jpeg',
    // Measured on a 1200×630 event-invite capture (2 cores): mozjpeg 78 ms → 54 KB; libjpeg-turbo
    // with mozjpeg's quantisation tables and optimised Huffman 9 ms → 64 KB. 19 % more bytes,
    // far under the budget, for 8× less CPU on the render hot path. Set
    // "mozjpeg": true in mergeshot.config.json where bytes matter more than throughput.
    mozjpeg: false,
    quality: 82,
    width: 1200,
    displayWidth: 600,
    maxBytes: 200_000,
    background: '#ffffff',
  },
  'email-png': {
    description: 'Email body image as PNG: palette (256 colours) when it fits the budget, for crisp flat designs and text.',
    format: 'png',
    palette: true,
    quality: 90,
    width: 1200,
    displayWidth: 600,
    maxBytes: 200_000,
  },
  whatsapp: {
    // WhatsApp recompresses what it receives, so plain libjpeg is enough: mozjpeg's extra
    // ~70 ms per image buys bytes the recipient never sees.
    description: 'WhatsApp media message: JPEG, long side at most 1600 px, under the 5 MB image limit.',
    format: 'jpeg',
    quality: 85,
    maxLongSide: 1600,
    maxBytes: 5_000_000,
    background: '#ffffff',
  },
  og: {
    description: 'Open Graph / social card: exactly 1200×630 PNG, cropped to fill.',
    format: 'png',
    width: 1200,
    height: 630,
    fit: 'cover',
  },
  web: {
    description: 'Web page image: WebP at quality 80, template size.',
    format: 'webp',
    quality: 80,
  },
  original: {
    description: 'Lossless PNG at template size and scale 1, for proofs and golden images.',
    format: 'png',
    scale: 1,
  },
} as const satisfies Record<string, PresetInput>;

export type BuiltInPresetName = keyof typeof builtInDefinitions;

function freezePreset(preset: z.output<typeof presetSchema>): Preset {
  return Object.freeze(preset);
}

/**
 * A preset table without a prototype. Preset names arrive from URLs, API bodies and manifests
 * (`?preset=constructor`, `"defaultPreset": "__proto__"`): on a plain object `presets[name]`
 * would find Object.prototype's members and treat a function as a preset, so every table this
 * module hands out has nothing to find but its own presets.
 */
function presetTable<T extends Record<string, Preset>>(entries: Iterable<readonly [string, Preset]>): T {
  const table = Object.create(null) as Record<string, Preset>;
  for (const [name, preset] of entries) table[name] = preset;
  return table as T;
}

/**
 * The built-in presets, parsed once so they carry the schema's defaults. They are constants: a
 * schema change that breaks one fails the module's tests, not a render.
 */
export const builtInPresets: Readonly<Record<BuiltInPresetName, Preset>> = Object.freeze(
  presetTable<Record<BuiltInPresetName, Preset>>(
    Object.entries(builtInDefinitions).map(([name, definition]) => [name, freezePreset(presetSchema.parse(definition))] as const),
  ),
);

type UserPreset = z.output<typeof userPresetSchema>;

/**
 * Validates the `presets` section of the config and merges it over the built-ins. Rules:
 * - a user preset replaces the built-in of the same name entirely, unless it `extends` it;
 * - `extends` names a configured preset, or a built-in (also when a preset extends its own name,
 *   e.g. `"email": { "extends": "email", "maxBytes": 150000 }`); chains are allowed, cycles are not;
 * - keys the user writes override inherited ones; an inherited key that no longer applies after
 *   the user's change (mozjpeg once the format is png) is dropped, while the same key written by
 *   the user is an error.
 * Throws one CONFIG_INVALID listing every problem in every preset.
 */
export function resolvePresets(user?: unknown, source = 'mergeshot.config.json presets'): Readonly<Record<string, Preset>> {
  if (user === undefined) return builtInPresets;
  const section = presetsSectionSchema.safeParse(user);
  if (!section.success) throw new ConfigError('CONFIG_INVALID', fromZod(section.error.issues, source).join('\n'), { source });

  const resolution: Resolution = { source, declared: new Map(), rejected: new Set(), resolved: new Map(), problems: [] };
  for (const [name, value] of Object.entries(section.data)) {
    if (!presetNamePattern.test(name)) {
      resolution.problems.push(`${source}: ${JSON.stringify(name)} is not a valid preset name: use lowercase letters, digits and "-", starting with a letter, e.g. "email-dark".`);
      continue;
    }
    const parsed = userPresetSchema.safeParse(value);
    if (parsed.success) {
      resolution.declared.set(name, parsed.data);
    } else {
      resolution.rejected.add(name);
      resolution.problems.push(...describeIssues(name, parsed.error.issues, source));
    }
  }

  const merged = presetTable<Record<string, Preset>>(Object.entries(builtInPresets));
  for (const name of resolution.declared.keys()) {
    const preset = resolve(resolution, name, []);
    if (preset) merged[name] = preset;
  }
  if (resolution.problems.length > 0) throw new ConfigError('CONFIG_INVALID', resolution.problems.join('\n'), { source });
  return Object.freeze(merged);
}

interface Resolution {
  readonly source: string;
  /** User presets whose keys are valid on their own. */
  readonly declared: Map<string, UserPreset>;
  /** User presets already reported as invalid: presets extending them are not reported again. */
  readonly rejected: Set<string>;
  /** Finished presets; null when the preset could not be resolved (its problem is recorded). */
  readonly resolved: Map<string, Preset | null>;
  readonly problems: string[];
}

function resolve(resolution: Resolution, name: string, chain: readonly string[]): Preset | null {
  const done = resolution.resolved.get(name);
  if (done !== undefined) return done;
  const own = resolution.declared.get(name)!;
  const base = own.extends === undefined ? {} : baseOf(resolution, name, own.extends, chain);
  const result = base ? merge(resolution, name, base, own) : null;
  resolution.resolved.set(name, result);
  return result;
}

function baseOf(resolution: Resolution, name: string, target: string, chain: readonly string[]): Preset | null {
  const { declared, rejected, problems, source } = resolution;
  // A preset extending its own name means "the built-in, changed": there is nothing else it could mean.
  if (target !== name && rejected.has(target)) return null;
  if (target !== name && declared.has(target)) {
    if (chain.includes(target)) {
      problems.push(`${source}: ${name}.extends leads back to "${target}" (${[...chain, name, target].join(' → ')}). A chain of extends must end at a preset without extends.`);
      return null;
    }
    return resolve(resolution, target, [...chain, name]);
  }
  if (Object.hasOwn(builtInPresets, target)) return builtInPresets[target as BuiltInPresetName];
  const available = [...new Set([...Object.keys(builtInPresets), ...declared.keys()])].filter((candidate) => candidate !== name);
  problems.push(`${source}: ${name}.extends must name a built-in or configured preset, got ${describe(target)}. Available: ${available.join(', ')}.`);
  return null;
}

function merge(resolution: Resolution, name: string, base: Preset | Record<string, never>, own: UserPreset): Preset | null {
  const { extends: _extends, ...ownKeys } = own;
  const candidate: Record<string, unknown> = { ...base, ...stripUndefined(ownKeys) };
  // Each round drops at least one inherited key, so this ends after at most one round per key.
  for (;;) {
    const result = presetSchema.safeParse(candidate);
    if (result.success) return freezePreset(result.data);
    const inheritedConflicts = result.error.issues
      .map((issue) => String(issue.path[0]))
      .filter((key) => Object.hasOwn(base, key) && !Object.hasOwn(ownKeys, key));
    if (inheritedConflicts.length === 0) {
      resolution.problems.push(...describeIssues(name, result.error.issues, resolution.source));
      return null;
    }
    for (const key of inheritedConflicts) delete candidate[key];
  }
}

function describeIssues(name: string, issues: readonly z.core.$ZodIssue[], source: string): string[] {
  return fromZod(
    issues.map((issue) => ({ ...issue, path: [name, ...issue.path] })),
    source,
    presetKeys,
  );
}

function stripUndefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}

/** Looks a preset up by name; PRESET_UNKNOWN lists the names that exist. */
export function getPreset(presets: Readonly<Record<string, Preset>>, name: string): Preset {
  if (Object.hasOwn(presets, name)) return presets[name]!;
  const available = Object.keys(presets).join(', ');
  throw new ConfigError('PRESET_UNKNOWN', `preset must be one of ${available}, got ${describe(name)}. Use one of those names or add the preset under "presets" in mergeshot.config.json.`, {
    field: 'preset',
    hint: `Available presets: ${available}.`,
  });
}

/**
 * The device scale factor the renderer should capture at so the capture has at least the pixels
 * the preset outputs (email's 1200 px from a 600 px template needs 2). Rounded up to an integer:
 * at integer factors Chromium lays glyphs on whole device pixels, so text stays crisp, and sharp
 * then downsizes to the exact width. Capped at 4, where captures of large templates get too big
 * for the page's memory and the screenshot time grows with the pixel count.
 */
export function renderScaleFor(preset: Preset, templateWidth: number, templateHeight: number): number {
  if (preset.scale !== undefined) return preset.scale;
  let needed = 1;
  if (preset.width !== undefined && preset.height !== undefined) {
    const ratios = [preset.width / templateWidth, preset.height / templateHeight];
    // cover fills the box, so both sides must reach it; contain/inside fit inside it, so one is enough.
    needed = preset.fit === 'cover' ? Math.max(...ratios) : Math.min(...ratios);
  } else if (preset.width !== undefined) {
    needed = preset.width / templateWidth;
  } else if (preset.height !== undefined) {
    needed = preset.height / templateHeight;
  }
  if (preset.maxLongSide !== undefined) {
    needed = Math.min(needed, preset.maxLongSide / Math.max(templateWidth, templateHeight));
  }
  // The epsilon keeps 1200 / 600 from becoming 3 through floating-point error in the ratios.
  return Math.min(4, Math.max(1, Math.ceil(needed - 1e-9)));
}
