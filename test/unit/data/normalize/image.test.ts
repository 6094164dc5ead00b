import { describe, expect, it } from 'vitest';
import { normalizeOne as one } from './normalizeOne.js';

describe('image', () => {
  it.each([
    'https://images.example.com/people/ana-lima.jpg',
    'http://cdn.example.org/a.png?size=200&v=3',
    'https://photos.crm-export.invalid/u/8841.jpg',
    'data:image/png;base64,iVBORw0KGgo=',
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'/>",
    'data:image/webp;base64,UklGRg==',
    'assets/avatars/sakura.png',
    'assets/team photo.png',
  ])('%j is kept as is', (input) => {
    expect(one({ type: 'image' }, input)).toEqual({ value: input, warnings: [] });
  });

  it.each([
    ['javascript:alert(1)', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['ftp://example.com/a.png', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['file:///etc/passwd', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['/etc/passwd', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['data:text/html;base64,PHNjcmlwdD4=', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['https://', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['https://user:secret@example.com/a.png', 'an http(s) image URL with a host and no user:password'],
    ['assets/../secret.png', 'an assets/ path without "..", "\\" or empty segments'],
    ['assets/%2e%2e/secret.png', 'an assets/ path without "..", "\\" or empty segments'],
    ['assets/a\\..\\b.png', 'an assets/ path without "..", "\\" or empty segments'],
    ['assets//a.png', 'an assets/ path without "..", "\\" or empty segments'],
    ['https://example.com/a\n.png', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
  ])('%j is refused', (input, expected) => {
    const { value, warnings } = one({ type: 'image', fallback: 'assets/avatar.png' }, input);
    expect(value).toBe('assets/avatar.png');
    expect(warnings[0]).toEqual({ code: 'invalid', field: 'f', message: `field "f": expected ${expected}, got text of ${[...input.trim()].length} characters` });
    expect(warnings[0]?.message).not.toContain('secret');
  });

  it('caps URLs at 2048 characters and data URIs at 5 MB', () => {
    const longUrl = `https://example.com/${'a'.repeat(2048)}`;
    expect(one({ type: 'image' }, longUrl).warnings[0]?.message).toBe(
      `field "f": expected an image URL of at most 2048 characters, got text of ${longUrl.length} characters`,
    );
    const bigData = `data:image/png;base64,${'A'.repeat(5 * 1024 * 1024)}`;
    expect(one({ type: 'image' }, bigData).warnings[0]?.message).toBe(
      `field "f": expected a data:image URI of at most 5242880 characters, got text of ${bigData.length} characters`,
    );
  });

  it('warns missing for an empty image without fallback', () => {
    expect(one({ type: 'image' }, '')).toEqual({
      value: null,
      warnings: [{ code: 'missing', field: 'f', message: 'field "f": missing and no fallback; left empty' }],
    });
  });
});
