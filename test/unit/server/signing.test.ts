import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors/index.js';
import { buildImageUrl, canonicalRequest, UrlSigner } from '../../../src/server/index.js';
import { findRepeatedParam } from '../../../src/server/signing.js';

const current = 'current-signing-key-0123456789';
const previous = 'previous-signing-key-0123456789';

function paramsOf(url: string): [string, string][] {
  return [...new URL(url).searchParams];
}

describe('canonicalRequest', () => {
  it('sorts parameters, drops s and utm_*, and encodes names and values one way', () => {
    expect(canonicalRequest('/i/mini.png', [['name', 'Ada Lovelace'], ['a', 'x+y'], ['s', 'sig'], ['utm_source', 'mail'], ['a', 'b']])).toBe('/i/mini.png?a=b&a=x%2By&name=Ada%20Lovelace');
  });
});

describe('UrlSigner', () => {
  it('verifies what it signed, whatever the parameter order', () => {
    const signer = new UrlSigner([current]);
    const url = buildImageUrl('https://img.example.com/', 'mini', 'png', [['name', 'Zoë 🎉'], ['vip', 'yes']], signer);
    expect(url.startsWith('https://img.example.com/i/mini.png?name=Zo%C3%AB%20%F0%9F%8E%89&vip=yes&s=')).toBe(true);
    const params = paramsOf(url);
    const signature = params.find(([name]) => name === 's')?.[1];
    expect(signer.verify('/i/mini.png', params.reverse(), signature)).toBe(true);
    expect(signer.verify('/i/mini.png', [...params, ['utm_campaign', 'spring']], signature)).toBe(true);
  });

  it('refuses tampered values, other paths, missing and malformed signatures', () => {
    const signer = new UrlSigner([current]);
    const signature = signer.sign('/i/mini.png', [['name', 'Ada']]);
    expect(signer.verify('/i/mini.png', [['name', 'Eve']], signature)).toBe(false);
    expect(signer.verify('/i/mini.jpg', [['name', 'Ada']], signature)).toBe(false);
    expect(signer.verify('/i/mini.png', [['name', 'Ada'], ['vip', 'yes']], signature)).toBe(false);
    expect(signer.verify('/i/mini.png', [['name', 'Ada']], undefined)).toBe(false);
    expect(signer.verify('/i/mini.png', [['name', 'Ada']], signature.slice(0, -2))).toBe(false);
    expect(signer.verify('/i/mini.png', [['name', 'Ada']], '!!!')).toBe(false);
    expect(signer.verify('/i/mini.png', [['name', 'Ada']], 'x'.repeat(5000))).toBe(false);
  });

  it('keeps verifying URLs signed with a previous key after rotation', () => {
    const old = new UrlSigner([previous]).sign('/i/mini.png', [['name', 'Ada']]);
    const rotated = new UrlSigner([current, previous]);
    expect(rotated.verify('/i/mini.png', [['name', 'Ada']], old)).toBe(true);
    expect(rotated.sign('/i/mini.png', [['name', 'Ada']])).not.toBe(old);
    expect(new UrlSigner([current]).verify('/i/mini.png', [['name', 'Ada']], old)).toBe(false);
    expect(new UrlSigner([]).verify('/i/mini.png', [['name', 'Ada']], old)).toBe(false);
  });
});

/** A signature over `name=<value>` that uses both URL-safe characters "-" and "_", found by trying values. */
function signatureWithSafeChars(signer: UrlSigner): { params: [string, string][]; signature: string } {
  for (let i = 0; ; i += 1) {
    const params: [string, string][] = [['name', `Ada ${i}`]];
    const signature = signer.sign('/i/mini.png', params);
    if (signature.includes('-') && signature.includes('_')) return { params, signature };
  }
}

/** The other characters whose 6 bits differ from `char` only in the 2 bits a 32-byte MAC leaves unused. */
function sameBytesLastChars(char: string): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const index = alphabet.indexOf(char);
  return [1, 2, 3].map((bits) => alphabet[index ^ bits]!);
}

describe('UrlSigner: one spelling per signature', () => {
  const signer = new UrlSigner([current, previous]);
  const { params, signature } = signatureWithSafeChars(signer);

  it('accepts the canonical spelling: 43 characters of unpadded base64url', () => {
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signer.verify('/i/mini.png', params, signature)).toBe(true);
  });

  it.each([
    ['standard base64 alphabet', signature.replaceAll('-', '+').replaceAll('_', '/')],
    ['"=" padding', `${signature}=`],
    ['trailing "."', `${signature}.`],
    ['trailing space', `${signature} `],
    ['"." inserted', `${signature.slice(0, 20)}.${signature.slice(20)}`],
    ['space inserted', `${signature.slice(0, 20)} ${signature.slice(20)}`],
    ['line break inserted', `${signature.slice(0, 20)}\n${signature.slice(20)}`],
    ...sameBytesLastChars(signature.at(-1)!).map((char) => [`last character "${char}" (same 32 bytes)`, `${signature.slice(0, -1)}${char}`] as [string, string]),
  ])('refuses another spelling of the same MAC: %s', (_label, spelling) => {
    // Guard: the spelling really decodes to the same bytes, so only the spelling rule refuses it.
    expect(Buffer.from(spelling, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
    expect(signer.verify('/i/mini.png', params, spelling)).toBe(false);
  });

  it('refuses empty, short, long and non-base64url signatures', () => {
    for (const bad of ['', signature.slice(0, 42), `${signature}A`, `${signature}AAAA`, '!'.repeat(43), 'é'.repeat(43)]) {
      expect(signer.verify('/i/mini.png', params, bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('repeated parameters', () => {
  it('findRepeatedParam names a field, preset, size or s given twice, comparing names like field names', () => {
    expect(findRepeatedParam([['name', 'Ada'], ['vip', 'yes'], ['preset', 'email'], ['s', 'x']])).toBeUndefined();
    expect(findRepeatedParam([['name', 'Ada'], ['vip', 'yes'], ['name', 'Eve']])).toBe('name');
    expect(findRepeatedParam([['preset', 'email'], ['preset', 'whatsapp']])).toBe('preset');
    expect(findRepeatedParam([['size', 'square'], ['size', 'default']])).toBe('size');
    expect(findRepeatedParam([['s', 'one'], ['s', 'two']])).toBe('s');
    // `first_name` and `First Name` feed one field: which one wins would depend on the order.
    expect(findRepeatedParam([['first_name', 'Ada'], ['First Name', 'Eve']])).toBe('First Name');
    expect(findRepeatedParam([['Name', 'Ada'], ['NAME', 'Eve']])).toBe('NAME');
    // utm_* are outside the signature and never fill a field: platforms may append them twice.
    expect(findRepeatedParam([['utm_source', 'a'], ['utm_source', 'b'], ['name', 'Ada']])).toBeUndefined();
  });

  it('sign() refuses to sign a parameter given twice, so no URL it makes is refused', () => {
    const signer = new UrlSigner([current]);
    const attempt = () => signer.sign('/i/mini.png', [['name', 'Ada'], ['name', 'Eve']]);
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(
      '/i/mini.png: parameter "name" appears more than once; a signed URL carries each parameter once (names compared like field names: case, spaces, "_" and "-" ignored). Sign the URL again with one value per parameter.',
    );
    expect(() => buildImageUrl('https://img.example.com', 'mini', 'png', [['name', 'Ada'], ['Name', 'Eve']], signer)).toThrow(expect.objectContaining({ code: 'PARAM_REPEATED' }));
    expect(() => buildImageUrl('https://img.example.com', 'mini', 'png', [['name', 'Ada'], ['name', 'Eve']])).not.toThrow();
  });
});
