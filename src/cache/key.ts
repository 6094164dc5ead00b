import { createHash } from 'node:crypto';

/**
 * The cache key: everything that decides the bytes of an image, and nothing else. Query
 * parameters that are not fields (utm_*, tracking ids) never reach it, and the record is the
 * NORMALIZED one, so "Ada", " Ada " and an unreplaced merge tag that falls back to "Friend"
 * collapse onto the same key as their normalized value. Key order is canonical (sorted), so
 * parameter order in a URL does not matter.
 */
export interface CacheKeyInput {
  /** What is cached: a render of the record, or a template's fallback render. */
  readonly kind: 'image' | 'fallback';
  readonly template: string;
  /** Hash of the template's files and the styles it uses (TemplateRegistry version). */
  readonly templateVersion: string;
  readonly preset: string;
  /** The resolved preset definition: changing a preset in the config changes the key. */
  readonly presetSpec: unknown;
  readonly size: string;
  readonly record: Readonly<Record<string, unknown>>;
}

/** Bumped when the key derivation or what it covers changes. */
const keyVersion = 1;

/** 40 hex digits: safe as a file name and as an ETag. */
export function cacheKey(input: CacheKeyInput): string {
  const canonical = canonicalJson([keyVersion, input.kind, input.template, input.templateVersion, input.preset, input.presetSpec, input.size, input.record]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 40);
}

export const cacheKeyPattern = /^[0-9a-f]{16,64}$/;

/** JSON with object keys sorted at every level; undefined values dropped like JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}
