import { Transform } from 'node:stream';
import { UsageError } from '../../errors/index.js';

/** Charsets whose bytes go to the CSV reader as they are: it reads UTF-8 and tells Windows-1252 apart itself. */
const readerCharsets = new Set(['utf-8', 'utf8', 'us-ascii', 'windows-1252', 'cp1252', 'iso-8859-1', 'latin1']);

/**
 * The bytes of a CSV request body (a batch's CSV body, a studio upload) for the reader. A body
 * declared in another charset (`Content-Type: text/csv; charset=utf-16le`) is decoded here and
 * handed on as UTF-8; raw bytes otherwise, because the reader decides UTF-8 or Windows-1252 itself.
 */
export function csvBodyBytes(contentType: string, body: unknown): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  const decoder = bodyDecoder(contentType);
  return decoder ? Buffer.from(decoder.decode(bytes), 'utf8') : bytes;
}

/**
 * The same rule for a body read as a stream (a studio upload goes to disk as it arrives, never
 * whole in memory): a transform to UTF-8 for another charset, undefined for bytes as they are.
 */
export function csvBodyTranscoder(contentType: string): Transform | undefined {
  const decoder = bodyDecoder(contentType);
  if (!decoder) return undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      done(null, Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8'));
    },
    flush(done) {
      done(null, Buffer.from(decoder.decode(), 'utf8'));
    },
  });
}

/** A decoder for a declared charset the reader does not read itself; USAGE for one nobody can. */
function bodyDecoder(contentType: string): TextDecoder | undefined {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1]?.toLowerCase();
  if (charset === undefined || readerCharsets.has(charset)) return undefined;
  try {
    return new TextDecoder(charset);
  } catch {
    throw new UsageError('USAGE', `Content-Type charset "${charset.slice(0, 40)}" is not one the server can read.`, { field: 'body', hint: 'Send the CSV as UTF-8 (charset=utf-8), or leave the charset out.' });
  }
}

/** Whether a request body is CSV (or plain text, which curl sends by default) rather than JSON. */
export function isCsvContentType(contentType: string): boolean {
  return /^(text\/csv|text\/plain)/i.test(contentType);
}
