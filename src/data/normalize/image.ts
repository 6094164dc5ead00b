import type { Conversion } from '../fallbacks.js';
import { describeValue } from './describeValue.js';

const maxUrlLength = 2048;
const maxDataUriLength = 5 * 1024 * 1024;
/** Parameters such as ;charset=utf-8, ;utf8 (common in SVG data URIs) and ;base64 are allowed. */
const dataImage = /^data:image\/(?:png|jpeg|webp|gif|svg\+xml)(?:;[a-z0-9-]+(?:=[^;,]*)?)*,/iu;

/**
 * A shape check only: the asset stage fetches, sniffs and refuses private addresses later.
 * URLs are kept byte for byte (no NFC), since a changed path is a different resource.
 */
export function convertImage(value: unknown): Conversion {
  const expected = 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path';
  if (typeof value !== 'string') return { kind: 'invalid', expected, got: describeValue(value) };
  const text = value.trim();
  const invalid = (rule: string = expected): Conversion => ({ kind: 'invalid', expected: rule, got: describeValue(value) });
  // Spaces may stay ("assets/team photo.png", SVG data URIs); controls and line breaks may not.
  if (/[\u0000-\u001F\u007F-\u009F]/u.test(text)) return invalid();

  if (/^https?:/iu.test(text)) {
    if (text.length > maxUrlLength) return invalid(`an image URL of at most ${maxUrlLength} characters`);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return invalid();
    }
    // Credentials in an image URL would end up in logs and cache keys; no real CDN needs them.
    if (url.hostname === '' || url.username !== '' || url.password !== '') return invalid('an http(s) image URL with a host and no user:password');
    return { kind: 'value', value: text, warnings: [] };
  }
  if (/^data:/iu.test(text)) {
    if (text.length > maxDataUriLength) return invalid(`a data:image URI of at most ${maxDataUriLength} characters`);
    return dataImage.test(text) ? { kind: 'value', value: text, warnings: [] } : invalid();
  }
  if (text.startsWith('assets/')) {
    return isSafeAssetPath(text) ? { kind: 'value', value: text, warnings: [] } : invalid('an assets/ path without "..", "\\" or empty segments');
  }
  return invalid();
}

/** Segments are checked after percent-decoding, so "assets/%2e%2e/secret" is refused too. */
function isSafeAssetPath(path: string): boolean {
  if (path.includes('\\')) return false;
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return false;
    }
    if (decoded === '' || decoded === '.' || decoded === '..' || decoded.includes('/') || decoded.includes('\\')) return false;
  }
  return true;
}
