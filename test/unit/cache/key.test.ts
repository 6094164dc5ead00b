import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson } from '../../../src/cache/index.js';

const base = { kind: 'image' as const, template: 'mini', templateVersion: 'v1', preset: 'email', presetSpec: { format: 'jpeg', quality: 82 }, size: 'default', record: { name: 'Ada', vip: true } };

describe('cacheKey', () => {
  it('does not depend on key order', () => {
    expect(cacheKey(base)).toBe(cacheKey({ ...base, record: { vip: true, name: 'Ada' }, presetSpec: { quality: 82, format: 'jpeg' } }));
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{40}$/);
  });

  it('changes with everything that decides the bytes', () => {
    const key = cacheKey(base);
    for (const change of [{ templateVersion: 'v2' }, { preset: 'web' }, { presetSpec: { format: 'jpeg', quality: 80 } }, { size: 'square' }, { record: { name: 'Ada', vip: false } }, { kind: 'fallback' as const }, { template: 'other' }]) {
      expect(cacheKey({ ...base, ...change })).not.toBe(key);
    }
  });

  it('writes canonical JSON', () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: undefined }] })).toBe('{"a":[{"d":null}],"b":1}');
  });
});
