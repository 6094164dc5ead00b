import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseTokenKey, TokenCodec } from '../../../src/server/index.js';

const key = randomBytes(32);

describe('TokenCodec', () => {
  it('round-trips template, data, preset and size without showing the values', () => {
    const codec = new TokenCodec(key);
    const token = codec.encode({ template: 'mini', data: { name: 'Ada Lovelace', vip: true }, preset: 'email', size: 'square' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(token).not.toContain('Ada');
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('Ada');
    expect(codec.decode(token)).toEqual({ template: 'mini', data: { name: 'Ada Lovelace', vip: true }, preset: 'email', size: 'square' });
    expect(codec.encode({ template: 'mini', data: {} })).not.toBe(codec.encode({ template: 'mini', data: {} })); // random IV
  });

  it('refuses tampered, foreign and malformed tokens without throwing', () => {
    const codec = new TokenCodec(key);
    const token = codec.encode({ template: 'mini', data: { name: 'Ada' } });
    const raw = Buffer.from(token, 'base64url');
    for (const index of [0, 5, 20, raw.length - 1]) {
      const tampered = Buffer.from(raw);
      tampered[index] = tampered[index]! ^ 1;
      expect(codec.decode(tampered.toString('base64url'))).toBeUndefined();
    }
    expect(new TokenCodec(randomBytes(32)).decode(token)).toBeUndefined();
    for (const junk of ['', 'abc', '!!!', 'A'.repeat(10_000)]) expect(codec.decode(junk)).toBeUndefined();
  });
});

describe('parseTokenKey', () => {
  it('reads 64 hex digits or base64 and names the variable otherwise', () => {
    expect(parseTokenKey(key.toString('hex'))).toEqual(key);
    expect(parseTokenKey(key.toString('base64'))).toEqual(key);
    expect(parseTokenKey(key.toString('base64url'))).toEqual(key);
    expect(() => parseTokenKey('too-short')).toThrow(/env MERGESHOT_TOKEN_KEY must be 32 bytes as 64 hex digits or base64, got \d+ bytes/);
  });
});
