import { createHash } from 'node:crypto';
import { z } from 'zod';
import { cacheContentTypes, knownContentType, type CacheEntry, type CacheMeta } from './store.js';

/**
 * One cache entry as bytes, the same wherever it is kept (a file of the disk store, an object
 * of a shared store): "MSC2", the 32-byte SHA-256 of everything after it, a 4-byte big-endian
 * meta length, the meta JSON (with the image's byte `length`), then the image bytes. The digest
 * covers the meta too, so an edited content type or template is caught like flipped image
 * bytes; a store outside the process (a disk, a bucket) is never trusted blindly.
 */
const magic = Buffer.from('MSC2');
const digestBytes = 32;
/** Magic, digest, meta length. */
const headerBytes = magic.length + digestBytes + 4;

/** The meta as stored: CacheMeta plus the image's byte length. Unknown keys are dropped. */
const storedMetaSchema = z.object({
  contentType: z.enum(cacheContentTypes),
  template: z.string(),
  createdAt: z.number(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  warnings: z.array(z.string()).optional(),
  length: z.number().int().min(0),
});

function digest(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

export function encodeEntry(entry: CacheEntry): Buffer {
  const meta = Buffer.from(JSON.stringify({ ...entry.meta, length: entry.bytes.length }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(meta.length);
  const body = Buffer.concat([length, meta, entry.bytes]);
  return Buffer.concat([magic, digest(body), body]);
}

/** undefined for a file that is not a complete, intact entry (of `template`, when given): foreign, damaged or edited. */
export function decodeEntry(file: Buffer, template?: string): CacheEntry | undefined {
  if (file.length < headerBytes || !file.subarray(0, magic.length).equals(magic)) return undefined;
  const body = file.subarray(magic.length + digestBytes);
  // Not a secret: a plain compare is enough, nobody learns anything from its timing.
  if (!digest(body).equals(file.subarray(magic.length, magic.length + digestBytes))) return undefined;
  const metaLength = body.readUInt32BE(0);
  if (4 + metaLength > body.length) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.subarray(4, 4 + metaLength).toString('utf8'));
  } catch {
    return undefined;
  }
  const stored = storedMetaSchema.safeParse(parsed);
  const bytes = body.subarray(4 + metaLength);
  if (!stored.success || (template !== undefined && stored.data.template !== template) || stored.data.length !== bytes.length) return undefined;
  const { length: _length, contentType, ...rest } = stored.data;
  const meta: CacheMeta = { ...rest, contentType: knownContentType(contentType)! };
  return { meta, bytes };
}
