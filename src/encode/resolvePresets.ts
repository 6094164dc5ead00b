/** Merges the config's user presets over the built-ins, following `extends`. */
import { ConfigError, fromZod } from '../errors/index.js';
import { builtInPresets, type BuiltInPresetName } from './builtInPresets.js';
import { describeInput } from './describeInput.js';
import { presetSchema, type Preset } from './presetSchema.js';
import { freezePreset, presetTable } from './presetTable.js';
import { describeIssues, presetNamePattern, presetsSectionSchema, userPresetSchema, type UserPreset } from './userPresetSchema.js';

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
  problems.push(`${source}: ${name}.extends must name a built-in or configured preset, got ${describeInput(target)}. Available: ${available.join(', ')}.`);
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

function stripUndefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}
