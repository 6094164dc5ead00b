import { Transform } from 'node:stream';
import type { ReadNote } from './types.js';

/*
 * Encoding detection for byte input, in its own file because both text readers (readCsv, readJson)
 * pipe their input through it before parsing.
 */

/**
 * How much input after its first non-ASCII byte is judged before choosing an encoding. Bounded
 * so a Windows-1252 file still streams: its rows wait for at most this many bytes.
 */
const maxJudgedBytes = 64 * 1024;

const windows1252Note: ReadNote = {
  code: 'encoding',
  message:
    'the data is not valid UTF-8 and has no byte order mark, so it was read as Windows-1252 (Latin-1). If accented letters look wrong, save the file as "CSV UTF-8" and run again.',
};

/**
 * Passes UTF-8 through and re-encodes Windows-1252 as UTF-8. Excel's plain "CSV" format and
 * many CRMs still write Windows-1252; read as UTF-8, "José" would render as "Jos\uFFFD" with no
 * error. The input counts as Windows-1252 when, from its first non-ASCII byte on (up to
 * `maxJudgedBytes` or its end), it holds invalid UTF-8 and not one valid multi-byte sequence:
 * real Windows-1252 text almost never forms one by accident. A UTF-8 or UTF-16 byte order mark,
 * or any valid sequence, keeps the bytes as they are; invalid bytes in otherwise UTF-8 input
 * (two exports pasted together) then decode to U+FFFD, which normalize reports per field.
 * ASCII reads the same either way, so it passes at once and a pure-ASCII file is never held.
 */
export function transcodeToUtf8(onNote?: (note: ReadNote) => void): Transform {
  let state: 'judging' | 'as-is' | 'windows-1252' = 'judging';
  const held: Buffer[] = [];
  let heldBytes = 0;
  let isHeldFromStart = false;
  let position = 0;
  const validator = new Utf8Validator();
  const convert = (bytes: Buffer): Buffer => (state === 'windows-1252' ? Buffer.from(decodeWindows1252(bytes), 'utf8') : bytes);

  return new Transform({
    transform(chunk: string | Buffer, _encoding, callback) {
      try {
        let bytes = toBuffer(chunk);
        if (state !== 'judging') {
          callback(null, convert(bytes));
          return;
        }
        if (heldBytes === 0) {
          const firstHigh = bytes.findIndex((byte) => byte >= 0x80);
          if (firstHigh === -1) {
            position += bytes.length;
            callback(null, bytes);
            return;
          }
          if (firstHigh > 0) this.push(bytes.subarray(0, firstHigh));
          isHeldFromStart = position + firstHigh === 0;
          bytes = bytes.subarray(firstHigh);
        }
        held.push(bytes);
        heldBytes += bytes.length;
        position += bytes.length;
        if (isHeldFromStart && (held[0]![0] === 0xff || held[0]![0] === 0xfe)) {
          // A UTF-16 byte order mark: csv-parse decodes UTF-16LE itself.
          if (heldBytes < 2) return callback();
          const [first, second] = Buffer.concat(held, 2);
          if ((first === 0xff && second === 0xfe) || (first === 0xfe && second === 0xff)) {
            decide(this, 'as-is');
            return callback();
          }
          isHeldFromStart = false;
          // The byte that waited for its partner has not been judged yet.
          for (const earlier of held.slice(0, -1)) validator.feed(earlier);
        }
        validator.feed(bytes);
        if (validator.valid > 0) decide(this, 'as-is');
        else if (heldBytes >= maxJudgedBytes) decide(this, validator.invalid > 0 ? 'windows-1252' : 'as-is');
        callback();
      } catch (error) {
        callback(error instanceof Error ? error : new Error(String(error)));
      }
    },
    flush(callback) {
      try {
        if (state === 'judging') {
          validator.end();
          decide(this, validator.invalid > 0 ? 'windows-1252' : 'as-is');
        }
        callback();
      } catch (error) {
        callback(error instanceof Error ? error : new Error(String(error)));
      }
    },
  });

  function decide(stream: Transform, choice: 'as-is' | 'windows-1252'): void {
    state = choice;
    if (choice === 'windows-1252') onNote?.(windows1252Note);
    for (const bytes of held.splice(0)) stream.push(convert(bytes));
    heldBytes = 0;
  }
}

/**
 * Windows-1252 differs from ISO-8859-1 only in 0x80–0x9F (€, curly quotes, dashes, Š, Ž…).
 * Decoded by table because Node 20's TextDecoder('windows-1252') returns ISO-8859-1 there,
 * which would turn "12 €" into "12 " plus an invisible control. The five bytes Windows-1252
 * leaves undefined map to the C1 controls, as in the WHATWG encoding standard.
 */
const windows1252High = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ';

function decodeWindows1252(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[\u0080-\u009F]/gu, (char) => windows1252High[char.charCodeAt(0) - 0x80]!);
}

/** Counts valid multi-byte and invalid UTF-8 sequences, byte by byte, as the WHATWG decoder reads them. */
class Utf8Validator {
  valid = 0;
  invalid = 0;
  private needed = 0;
  private lower = 0x80;
  private upper = 0xbf;

  feed(bytes: Buffer): void {
    for (const byte of bytes) this.step(byte);
  }

  /** The input ended: a sequence still open is invalid. */
  end(): void {
    if (this.needed > 0) {
      this.invalid += 1;
      this.reset();
    }
  }

  private step(byte: number): void {
    if (this.needed === 0) {
      if (byte < 0x80) return;
      if (byte >= 0xc2 && byte <= 0xdf) this.needed = 1;
      else if (byte >= 0xe0 && byte <= 0xef) {
        // Bounds exclude overlong forms and UTF-16 surrogates, as the decoder does.
        if (byte === 0xe0) this.lower = 0xa0;
        if (byte === 0xed) this.upper = 0x9f;
        this.needed = 2;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        if (byte === 0xf0) this.lower = 0x90;
        if (byte === 0xf4) this.upper = 0x8f;
        this.needed = 3;
      } else this.invalid += 1;
      return;
    }
    if (byte < this.lower || byte > this.upper) {
      // The sequence is broken; this byte is read again as the start of the next one.
      this.invalid += 1;
      this.reset();
      this.step(byte);
      return;
    }
    this.lower = 0x80;
    this.upper = 0xbf;
    this.needed -= 1;
    if (this.needed === 0) this.valid += 1;
  }

  private reset(): void {
    this.needed = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }
}

/** String streams hand over text; the transcoder and the readers work on bytes. */
export function toBuffer(chunk: string | Buffer): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}
