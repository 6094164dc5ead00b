import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed image URLs.
 *
 * Threat: anyone who sees one personalised image URL (a forwarded email, a proxy log) could
 * otherwise mint images with any text on them under the sender's domain — a phishing or
 * defacement vector — and drive unbounded renders. A template whose manifest says
 * `"access": "signed"` therefore answers only URLs carrying `s=`, an HMAC-SHA256 of the
 * canonical request under a key only the sender holds.
 *
 * Canonical request: the path as `/i/<template>.<ext>` (independent of any prefix a proxy
 * mounts the server under), "?", then every query parameter except `s` and `utm_*` (tracking
 * parameters some platforms append after the fact), sorted by name then value, each name and
 * value percent-encoded with encodeURIComponent and joined with "&". Parameter order and
 * `+`/`%20` spelling therefore do not change the signature.
 *
 * Rotation: several keys; the first signs, every one verifies, so a new key can be introduced
 * without breaking the emails already sent. Comparison is constant-time on equal-length
 * buffers (timingSafeEqual), so response timing leaks nothing about how close a guess is.
 */

export const signatureParam = 's';

/** True for parameters that never take part in the signature. */
export function isUnsignedParam(name: string): boolean {
  return name === signatureParam || name.toLowerCase().startsWith('utm_');
}

export function canonicalRequest(path: string, params: Iterable<readonly [string, string]>): string {
  const pairs = [...params]
    .filter(([name]) => !isUnsignedParam(name))
    .map(([name, value]) => [encodeURIComponent(name), encodeURIComponent(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return `${path}?${pairs.map(([name, value]) => `${name}=${value}`).join('&')}`;
}

export class UrlSigner {
  readonly #keys: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.#keys = keys.map((key) => Buffer.from(key, 'utf8'));
  }

  get canSign(): boolean {
    return this.#keys.length > 0;
  }

  /** The `s` value for a path and its parameters, with the first (current) key. */
  sign(path: string, params: Iterable<readonly [string, string]>): string {
    const key = this.#keys[0];
    if (!key) throw new Error('no signing key configured (MERGESHOT_SIGNING_KEYS)');
    return mac(key, canonicalRequest(path, params)).toString('base64url');
  }

  /** Whether `signature` was made by any configured key. Never throws on hostile input. */
  verify(path: string, params: Iterable<readonly [string, string]>, signature: string | undefined): boolean {
    if (!signature || this.#keys.length === 0 || signature.length > 128) return false;
    const given = Buffer.from(signature, 'base64url');
    const canonical = canonicalRequest(path, params);
    let valid = false;
    // Every key is tried even after a match, so timing does not reveal which key signed.
    for (const key of this.#keys) {
      const expected = mac(key, canonical);
      if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
    }
    return valid;
  }
}

function mac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/** `/i/<template>.<ext>`: the path that is signed, whatever prefix the server is mounted under. */
export function imagePath(template: string, ext: string): string {
  return `/i/${template}.${ext}`;
}

/** A full image URL with the fields (and preset/size) as query parameters, signed when a signer is given. */
export function buildImageUrl(base: string, template: string, ext: string, params: readonly (readonly [string, string])[], signer?: UrlSigner): string {
  const path = imagePath(template, ext);
  const all = [...params];
  if (signer) all.push([signatureParam, signer.sign(path, params)]);
  const query = all.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
  return `${base.replace(/\/+$/, '')}${path}${query ? `?${query}` : ''}`;
}
