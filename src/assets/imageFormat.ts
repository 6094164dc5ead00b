/**
 * Format sniffing from magic bytes. The type is never taken from Content-Type or the extension,
 * so HTML posing as PNG reaches no decoder, and SVG is recognised so that it can be refused.
 */
type SniffedFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'tiff' | 'heif';

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** ISO-BMFF brands of AVIF and HEIF still images and sequences. */
const heifBrands = new Set(['avif', 'avis', 'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

/**
 * Identifies the format from its magic bytes. Only these formats reach libvips, which has loaders
 * for much more (SVG, gzipped SVG, PDF, FITS, Matlab…) that untrusted bytes must never select.
 */
export function sniffFormat(bytes: Buffer): SniffedFormat | 'svg' | undefined {
  const ascii = (start: number, end: number): string => bytes.toString('latin1', start, end);
  if (bytes.subarray(0, 8).equals(pngSignature)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  if (ascii(4, 8) === 'ftyp' && heifBrands.has(ascii(8, 12))) return 'heif';
  if (looksLikeSvg(bytes)) return 'svg';
  return undefined;
}

function looksLikeSvg(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 4096);
  let text: string;
  if (head[0] === 0xff && head[1] === 0xfe) {
    text = head.subarray(2, head.length & ~1).toString('utf16le');
  } else if (head[0] === 0xfe && head[1] === 0xff) {
    text = Buffer.from(head.subarray(2, head.length & ~1)).swap16().toString('utf16le');
  } else {
    text = head.toString('latin1').replace(/^\u00EF\u00BB\u00BF/, '');
  }
  const start = text.trimStart().toLowerCase();
  return start.startsWith('<') && start.includes('<svg');
}
