import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { ConfigError } from '../errors/index.js';

/**
 * Opaque image tokens: `/t/<token>.<ext>` carries template, data, preset and size encrypted
 * with AES-256-GCM, so a campaign can keep personal data out of URLs, proxy logs and referrers
 * entirely. GCM authenticates as well as encrypts: a token nobody with the key made (or one
 * with a flipped bit) fails to open and is answered 403 without saying why.
 *
 * Layout (base64url): 1 version byte, 12-byte random IV, ciphertext of the deflated JSON
 * payload, 16-byte tag. The version byte is also bound as additional data.
 */

export interface TokenPayload {
  readonly template: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly preset?: string | undefined;
  readonly size?: string | undefined;
}

const version = 1;
const ivBytes = 12;
const tagBytes = 16;
/** Tokens longer than this are refused before any work (URLs past ~8 KB break in mail clients anyway). */
const maxTokenLength = 8_192;

const payloadSchema = z.strictObject({
  t: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/),
  d: z.record(z.string(), z.unknown()),
  p: z.string().optional(),
  z: z.string().optional(),
});

/** A 32-byte key from 64 hex digits or base64/base64url; throws CONFIG_INVALID naming the variable. */
export function parseTokenKey(raw: string, source = 'env MERGESHOT_TOKEN_KEY'): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, /[-_]/.test(text) ? 'base64url' : 'base64');
  if (key.length !== 32) {
    throw new ConfigError('CONFIG_INVALID', `${source} must be 32 bytes as 64 hex digits or base64, got ${key.length} bytes. Make one with: openssl rand -base64 32`, { source });
  }
  return key;
}

export class TokenCodec {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new ConfigError('CONFIG_INVALID', `token key must be 32 bytes, got ${key.length}.`);
    this.#key = key;
  }

  encode(payload: TokenPayload): string {
    const json = JSON.stringify({ t: payload.template, d: payload.data, ...(payload.preset ? { p: payload.preset } : {}), ...(payload.size ? { z: payload.size } : {}) });
    const iv = randomBytes(ivBytes);
    const header = Buffer.from([version]);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(header);
    const body = Buffer.concat([cipher.update(deflateRawSync(json)), cipher.final()]);
    return Buffer.concat([header, iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** undefined for anything that is not a token this key made: callers answer without details. */
  decode(token: string): TokenPayload | undefined {
    if (token.length > maxTokenLength || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
    const raw = Buffer.from(token, 'base64url');
    if (raw.length < 1 + ivBytes + tagBytes + 1 || raw[0] !== version) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(1, 1 + ivBytes));
      decipher.setAAD(raw.subarray(0, 1));
      decipher.setAuthTag(raw.subarray(raw.length - tagBytes));
      const plain = Buffer.concat([decipher.update(raw.subarray(1 + ivBytes, raw.length - tagBytes)), decipher.final()]);
      const parsed = payloadSchema.safeParse(JSON.parse(inflateRawSync(plain, { maxOutputLength: 1024 * 1024 }).toString('utf8')));
      if (!parsed.success) return undefined;
      return { template: parsed.data.t, data: parsed.data.d, preset: parsed.data.p, size: parsed.data.z };
    } catch {
      return undefined;
    }
  }
}
