import { describe, expect, it } from 'vitest';
import { buildImageUrl, canonicalRequest, UrlSigner } from '../../../src/server/index.js';

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
