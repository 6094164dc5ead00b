import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Chromium's own font fallback (a character no web font of the page covers, and the generic
 * families sans-serif, serif, monospace) goes through fontconfig, which by default reads the
 * host's fonts: a laptop, a Debian server and a container would each paint those characters
 * differently, and a render would depend on the machine. Chromium gets a fontconfig of its
 * own instead, whose only fonts are the full Noto Sans shipped in @expo-google-fonts/noto-sans:
 * Latin (with Vietnamese), Greek, Cyrillic and every combining mark, so stacked diacritics
 * ("zalgo" text) attach to their letter instead of falling apart into boxes.
 */
const faces = ['400Regular/NotoSans_400Regular.ttf', '400Regular_Italic/NotoSans_400Regular_Italic.ttf', '700Bold/NotoSans_700Bold.ttf', '700Bold_Italic/NotoSans_700Bold_Italic.ttf'];

/** The font files Chromium may fall back to, in the order fontconfig sees them. */
export function systemFontFiles(): readonly string[] {
  const root = dirname(createRequire(import.meta.url).resolve('@expo-google-fonts/noto-sans/package.json'));
  return faces.map((face) => join(root, face));
}

/**
 * Writes `fonts.conf` into `dir` (a folder the caller owns and removes) and returns its path,
 * for Chromium's FONTCONFIG_FILE. The host's /etc/fonts is never included, and fontconfig's
 * cache lives in `dir` too, so nothing of the host's font setup reaches the page.
 */
export async function writeFontconfig(dir: string): Promise<string> {
  const folders = [...new Set(systemFontFiles().map((file) => dirname(file)))];
  const xml = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
    '<fontconfig>',
    ...folders.map((folder) => `  <dir>${escapeXml(folder)}</dir>`),
    `  <cachedir>${escapeXml(join(dir, 'cache'))}</cachedir>`,
    '</fontconfig>',
    '',
  ].join('\n');
  const file = join(dir, 'fonts.conf');
  await writeFile(file, xml);
  return file;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
