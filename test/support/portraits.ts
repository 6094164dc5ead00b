import sharp from 'sharp';

/**
 * Photos as CRMs hold them, made here with sharp: nothing is downloaded. The "subject" is a drawn
 * face (skin-toned head, dark hair, eyes, a red mouth, a striped collar: the detail and skin tone
 * libvips' saliency looks for) on a flat wall, so where it lands in a crop can be measured by
 * counting pixels that differ from the wall.
 */
export const wall = { r: 200, g: 204, b: 210 };

function faceSvg(width: number, height: number, cx: number, cy: number, r: number): string {
  const stripes = Array.from({ length: 10 }, (_, i) => `<rect x="${cx - r + i * r * 0.2}" y="${cy + r * 1.05}" width="${r * 0.1}" height="${r * 0.5}" fill="${i % 2 ? '#1d3557' : '#e63946'}"/>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="rgb(${wall.r},${wall.g},${wall.b})"/>
    <ellipse cx="${cx}" cy="${cy - r * 0.35}" rx="${r * 0.95}" ry="${r * 0.8}" fill="#2b1a10"/>
    <ellipse cx="${cx}" cy="${cy}" rx="${r * 0.78}" ry="${r}" fill="#d9a07a"/>
    <circle cx="${cx - r * 0.3}" cy="${cy - r * 0.15}" r="${r * 0.1}" fill="#fff"/><circle cx="${cx - r * 0.3}" cy="${cy - r * 0.15}" r="${r * 0.05}" fill="#111"/>
    <circle cx="${cx + r * 0.3}" cy="${cy - r * 0.15}" r="${r * 0.1}" fill="#fff"/><circle cx="${cx + r * 0.3}" cy="${cy - r * 0.15}" r="${r * 0.05}" fill="#111"/>
    <path d="M ${cx - r * 0.3} ${cy + r * 0.45} Q ${cx} ${cy + r * 0.7} ${cx + r * 0.3} ${cy + r * 0.45}" stroke="#b3202a" stroke-width="${r * 0.08}" fill="none"/>
    ${stripes}
  </svg>`;
}

/** A 1600×900 JPEG with the face near the right edge: a centre square crop (x 350–1250) misses it entirely. */
export async function offCentrePortrait(): Promise<Buffer> {
  return sharp(Buffer.from(faceSvg(1600, 900, 1380, 400, 120))).jpeg({ quality: 92 }).toBuffer();
}

/** A 600×1200 JPEG with the face in the top fifth: the centre square (y 300–900) misses it. */
export async function tallPortrait(): Promise<Buffer> {
  return sharp(Buffer.from(faceSvg(600, 1200, 300, 140, 90))).jpeg({ quality: 92 }).toBuffer();
}

/** A 5:1 logo, 1000×200, opaque: red at its left end, blue at its right, stripes between. */
export async function wideLogo(): Promise<Buffer> {
  const bands = Array.from({ length: 10 }, (_, i) => `<rect x="${i * 100}" width="100" height="200" fill="${['#e11d48', '#f59e0b', '#10b981', '#0ea5e9', '#8b5cf6', '#ec4899', '#84cc16', '#f97316', '#14b8a6', '#1d4ed8'][i]}"/>`).join('');
  return sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="200">${bands}</svg>`)).flatten({ background: '#fff' }).png().toBuffer();
}

export const dataUri = (bytes: Buffer, type: string): string => `data:${type};base64,${bytes.toString('base64')}`;

/** Pixels of a decoded RGB(A) image that are clearly not the wall: the subject. */
export function subjectMask(data: Buffer, channels: number): boolean[] {
  const mask: boolean[] = [];
  for (let i = 0; i < data.length; i += channels) {
    mask.push(Math.abs(data[i]! - wall.r) + Math.abs(data[i + 1]! - wall.g) + Math.abs(data[i + 2]! - wall.b) > 60);
  }
  return mask;
}
