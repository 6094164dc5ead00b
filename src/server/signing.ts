import { createHmac, timingSafeEqual } from 'node:crypto';
import { foldColumnName } from '../data/index.js';
import { UsageError } from '../errors/index.js';

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
 * One URL, one image: because the canonical form sorts, `name=Ada&name=Eve` and
 * `name=Eve&name=Ada` carry the same signature, yet the route reads one occurrence, so a
 * reordering would change the image under a valid signature. A signed URL therefore carries
 * each parameter once, with names compared the way they are matched to fields (case, spaces,
 * "_" and "-" ignored: `first_name` and `First Name` feed the same field); sign() refuses to
 * sign anything else and the route refuses to serve it (findRepeatedParam).
 *
 * One signature, one spelling: `s` is exactly the unpadded base64url of the 32-byte MAC (43
 * characters). Node's base64 decoder skips characters it does not know and ignores padding and
 * the unused low bits of the last character, so without this rule "+/" spellings, "=", ".",
 * spaces or a different last character would verify as the same signature, and a cache or WAF
 * keyed on the URL would see many URLs for one image.
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

/** Unpadded base64url of a 32-byte HMAC-SHA256. */
const signaturePattern = /^[A-Za-z0-9_-]{43}$/;

/**
 * The first parameter name of a signed request that appears more than once, or undefined.
 * Unsigned parameters (utm_*) never reach a field or the signature and may repeat; `s` may not.
 */
export function findRepeatedParam(params: Iterable<readonly [string, string]>): string | undefined {
  const seen = new Set<string>();
  for (const [name] of params) {
    if (name !== signatureParam && isUnsignedParam(name)) continue;
    const folded = foldColumnName(name);
    if (seen.has(folded)) return name;
    seen.add(folded);
  }
  return undefined;
}

/** The 32 MAC bytes of a signature in its one canonical spelling, or undefined. */
function decodeSignature(signature: string): Buffer | undefined {
  if (!signaturePattern.test(signature)) return undefined;
  const bytes = Buffer.from(signature, 'base64url');
  // The 43rd character carries 4 bits of the MAC and 2 unused bits: only one of its spellings re-encodes to itself.
  return bytes.length === 32 && bytes.toString('base64url') === signature ? bytes : undefined;
}

export class UrlSigner {
  readonly #keys: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.#keys = keys.map((key) => Buffer.from(key, 'utf8'));
  }

  get canSign(): boolean {
    return this.#keys.length > 0;
  }

  /**
   * The `s` value for a path and its parameters, with the first (current) key. Throws USAGE for
   * a parameter given twice: the server would refuse the URL (see the header).
   */
  sign(path: string, params: Iterable<readonly [string, string]>): string {
    const key = this.#keys[0];
    if (!key) throw new Error('no signing key configured (MERGESHOT_SIGNING_KEYS)');
    const list = [...params];
    const repeated = findRepeatedParam(list);
    if (repeated !== undefined) throw repeatedParamError(path, repeated);
    return mac(key, canonicalRequest(path, list)).toString('base64url');
  }

  /**
   * Whether `signature` was made by any configured key, in its canonical spelling. Never throws
   * on hostile input. Repeated parameters are the caller's check (findRepeatedParam), so it can
   * answer with its own error.
   */
  verify(path: string, params: Iterable<readonly [string, string]>, signature: string | undefined): boolean {
    if (signature === undefined || this.#keys.length === 0) return false;
    const given = decodeSignature(signature);
    if (!given) return false;
    const canonical = canonicalRequest(path, params);
    let valid = false;
    // Every key is tried even after a match, so timing does not reveal which key signed.
    for (const key of this.#keys) {
      if (timingSafeEqual(given, mac(key, canonical))) valid = true;
    }
    return valid;
  }
}

/** USAGE naming the parameter given twice in a signed request (a name from the URL, not a value). */
export function repeatedParamError(path: string, name: string): UsageError {
  return new UsageError(
    'PARAM_REPEATED',
    `${path}: parameter "${name.slice(0, 40)}" appears more than once; a signed URL carries each parameter once (names compared like field names: case, spaces, "_" and "-" ignored). Sign the URL again with one value per parameter.`,
    { field: name.slice(0, 40), hint: 'Give each field, preset and size once, then sign the URL again.' },
  );
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
