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
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1]?.toLowerCase();
  if (charset === undefined || readerCharsets.has(charset)) return bytes;
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    throw new UsageError('USAGE', `Content-Type charset "${charset.slice(0, 40)}" is not one the server can read.`, { field: 'body', hint: 'Send the CSV as UTF-8 (charset=utf-8), or leave the charset out.' });
  }
  return Buffer.from(decoder.decode(bytes), 'utf8');
}

/** Whether a request body is CSV (or plain text, which curl sends by default) rather than JSON. */
export function isCsvContentType(contentType: string): boolean {
  return /^(text\/csv|text\/plain)/i.test(contentType);
}
