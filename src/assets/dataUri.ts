/**
 * The data: URI decoder. A data: URI is decoded in memory, never fetched; its size is capped
 * before and after decoding so a huge record value cannot make decoding allocate without bound.
 */
import { Reason, tooManyBytes } from './imageFailure.js';

/**
 * `data:[<mediatype>][;base64],<data>`, decoded as WHATWG fetch does: percent-decode, then base64
 * when flagged. The declared media type is ignored; the bytes are sniffed like any download.
 */
export function decodeDataUri(source: string, maxBytes: number): Buffer {
  const comma = source.indexOf(',');
  if (comma < 0) throw new Reason('ASSET_FAILED', 'no "," separates the header from the data.', 'Write data:image/png;base64,<data>.');
  const isBase64 = /;[ \t]*base64[ \t]*$/i.test(source.slice(5, comma));
  const payload = source.slice(comma + 1);
  // No encoding of a within-cap image is longer than 4× its bytes (percent-encoded base64), so
  // anything longer is refused before decoding allocates more.
  if (payload.length > maxBytes * 4 + 1024) throw tooManyBytes(maxBytes, 'body');
  const decoded = percentDecode(payload);
  let bytes = decoded;
  if (isBase64) {
    const text = decoded.toString('latin1').replace(/[\t\n\f\r ]/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
      throw new Reason('ASSET_FAILED', 'the base64 data is malformed.');
    }
    bytes = Buffer.from(text, 'base64');
  }
  if (bytes.length > maxBytes) throw tooManyBytes(maxBytes, 'body');
  return bytes;
}

function percentDecode(text: string): Buffer {
  const input = Buffer.from(text, 'utf8');
  if (!input.includes(0x25)) return input;
  const output = Buffer.allocUnsafe(input.length);
  let length = 0;
  for (let index = 0; index < input.length; index += 1) {
    const byte = input[index] as number;
    const high = hexValue(input[index + 1]);
    const low = hexValue(input[index + 2]);
    if (byte === 0x25 && high !== undefined && low !== undefined) {
      output[length] = high * 16 + low;
      index += 2;
    } else {
      output[length] = byte;
    }
    length += 1;
  }
  return output.subarray(0, length);
}

function hexValue(byte: number | undefined): number | undefined {
  if (byte === undefined) return undefined;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return undefined;
}
