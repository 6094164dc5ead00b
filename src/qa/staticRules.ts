import type { Manifest } from '../template/index.js';
import type { RawFinding } from './finding.js';
import { usageOf, type Content, type FieldUse } from './fieldUsage.js';
import { rules } from './rules.js';
import type { TemplateSource } from './templateSource.js';

/**
 * The rules read from the files alone: fields (undeclared, unused, empty debris, required),
 * unescaped output, scripts, external URLs and fonts. `bundledFamilies` are the font families
 * the shared styles provide.
 */
export function staticFindings(source: TemplateSource, bundledFamilies: ReadonlySet<string>): RawFinding[] {
  const { manifest } = source;
  const html = usageOf(source.html, 'template.html');
  const alt = manifest.alt === undefined ? undefined : usageOf(manifest.alt, 'template.json alt');
  const altLine = lineOfKey(source.manifestText, 'alt');
  const findings: RawFinding[] = [];
  const declared = Object.keys(manifest.fields);

  const used = new Map<string, { file: string; line: number; count: number }>();
  for (const [file, uses] of [['template.html', html.uses], ['template.json', alt?.uses ?? []]] as const) {
    for (const use of uses) {
      const seen = used.get(use.field);
      if (seen) seen.count += 1;
      else used.set(use.field, { file, line: file === 'template.html' ? use.line : (altLine ?? 1), count: 1 });
    }
  }
  for (const [field, at] of used) {
    if (Object.hasOwn(manifest.fields, field)) continue;
    findings.push({
      rule: 'undeclared-field', file: at.file, line: at.line, field,
      message: `field "${field}" is used${at.count > 1 ? ` ${at.count} times` : ''} but not declared in template.json: it always renders empty`,
      fix: `declare "${field}" under "fields" with a type and a fallback${closest(field, declared) ? `, or did you mean "${closest(field, declared)}"?` : ''}`,
    });
  }
  for (const field of declared) {
    if (used.has(field)) continue;
    findings.push({ rule: 'unused-field', file: 'template.json', line: lineOfKey(source.manifestText, field, 'fields'), field, message: `field "${field}" is declared but template.html and alt never use it`, fix: rules['unused-field'].fix });
  }
  for (const [field, spec] of Object.entries(manifest.fields)) {
    if (spec.required) findings.push({ rule: 'required-field', file: 'template.json', line: lineOfKey(source.manifestText, field, 'fields'), field, message: `field "${field}" is required: a record without it fails instead of rendering`, fix: rules['required-field'].fix });
  }
  findings.push(...emptyDebris(source.html, html.uses, manifest));
  for (const { line, text } of [...html.unescaped]) {
    findings.push({ rule: 'unescaped-output', file: 'template.html', line, message: `${text.slice(0, 40)} writes data unescaped: the renderer refuses this template`, fix: rules['unescaped-output'].fix });
  }
  for (const { line, text } of alt?.unescaped ?? []) {
    findings.push({ rule: 'unescaped-output', file: 'template.json', line: altLine, message: `alt: ${text.slice(0, 40)} writes data unescaped: the renderer refuses this template`, fix: rules['unescaped-output'].fix });
  }

  const texts: { file: string; contents: readonly Content[] }[] = [{ file: 'template.html', contents: html.contents }];
  for (const [file, text] of source.css) texts.push({ file, contents: [{ text, line: 1, offset: 0 }] });
  const ownFamilies = new Set(texts.flatMap(({ contents }) => contents.flatMap((content) => fontFaceFamilies(content.text))));
  for (const { file, contents } of texts) {
    for (const content of contents) {
      const lineAt = (index: number) => content.line + countLines(content.text, index);
      for (const { index, text } of scripts(content.text)) findings.push({ rule: 'script', file, line: lineAt(index), message: `${text}: templates never run scripts (the page's policy blocks them)`, fix: rules.script.fix });
      for (const { index, url } of externalUrls(content.text)) {
        findings.push({ rule: 'external-url', file, line: lineAt(index), message: `${url.slice(0, 120)} is off-origin: the render refuses the request`, fix: rules['external-url'].fix });
      }
      for (const { index, family } of fontFamilies(content.text)) {
        if (bundledFamilies.has(family.toLowerCase()) || ownFamilies.has(family.toLowerCase())) continue;
        findings.push({ rule: 'font-not-bundled', file, line: lineAt(index), message: `font family "${family}" is not bundled: text falls back to the next family of the stack`, fix: rules['font-not-bundled'].fix });
      }
    }
  }
  return findings;
}

/**
 * A field that can be empty (no fallback, or an empty one, and not required) printed next to
 * fixed text in the same text run, outside any {{#if field}}: an empty value leaves the text
 * alone on the image ("% off", "Dear ,").
 */
function emptyDebris(source: string, uses: readonly FieldUse[], manifest: Manifest): RawFinding[] {
  const findings: RawFinding[] = [];
  const reported = new Set<string>();
  for (const use of uses) {
    const spec = Object.hasOwn(manifest.fields, use.field) ? manifest.fields[use.field] : undefined;
    if (!spec || !use.printed || use.guarded || spec.required || spec.type === 'boolean' || reported.has(use.field)) continue;
    if (spec.fallback !== undefined && spec.fallback !== null && spec.fallback !== '') continue;
    const before = source.slice(0, use.offset);
    if (before.lastIndexOf('<') > before.lastIndexOf('>')) continue; // inside a tag: an attribute value
    if (/<(style|script|title)\b/i.test(before.slice(Math.max(before.lastIndexOf('</style'), before.lastIndexOf('</script'), before.lastIndexOf('</title'), 0)))) continue;
    const visible = (text: string) => text.replace(/\{\{[\s\S]*?\}\}/g, '').replace(/&(nbsp|#160|#xa0);/gi, ' ').trim();
    const left = visible(before.slice(before.lastIndexOf('>') + 1));
    const after = source.slice(use.end);
    const right = visible(after.slice(0, after.search(/<|$/)));
    if (!left && !right) continue;
    reported.add(use.field);
    const debris = [left, right].filter(Boolean).map((text) => `"${text.slice(0, 30)}"`).join(' and ');
    findings.push({
      rule: 'empty-debris', file: 'template.html', line: use.line, field: use.field,
      message: `field "${use.field}" has no fallback: when it is empty, ${debris} stays on the image alone`,
      fix: `give "${use.field}" a fallback in template.json, or wrap the text in {{#if ${use.field}}}…{{/if}}`,
    });
  }
  return findings;
}

function* scripts(text: string): Generator<{ index: number; text: string }> {
  for (const match of text.matchAll(/<script\b|\son[a-z]+\s*=|javascript:/gi)) yield { index: match.index, text: match[0].trim().replace(/=$/, '=…') };
}

/** URLs the page would request (src, href of <link>, url(), @import), not xmlns or <a href>. */
function* externalUrls(text: string): Generator<{ index: number; url: string }> {
  const patterns = [/\b(?:src|srcset|href|xlink:href|poster|data)\s*=\s*["']?\s*((?:https?:)?\/\/[^"'\s>]+)/gi, /url\(\s*["']?\s*((?:https?:)?\/\/[^"')\s]+)/gi, /@import\s+["']((?:https?:)?\/\/[^"']+)/gi];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      const tag = /<([a-z][\w:-]*)[^<>]*$/i.exec(text.slice(0, match.index))?.[1]?.toLowerCase();
      if (tag === 'a' && /^\s*href/i.test(match[0])) continue; // a link is not a request
      yield { index: match.index, url: match[1]! };
    }
  }
}

const genericFamilies = new Set(['serif', 'sans-serif', 'monospace', 'cursive', 'fantasy', 'system-ui', 'ui-serif', 'ui-sans-serif', 'ui-monospace', 'ui-rounded', 'emoji', 'math', 'fangsong', 'inherit', 'initial', 'unset', 'revert', 'revert-layer']);

/** Families named by font-family and font declarations outside @font-face, without var() and generic names. */
function* fontFamilies(text: string): Generator<{ index: number; family: string }> {
  const withoutFaces = text.replace(/@font-face\s*\{[^}]*\}/gi, (face) => ' '.repeat(face.length));
  const value = String.raw`((?:[^;{}"']|"[^"]*"|'[^']*')+)`;
  const declarations = new RegExp(String.raw`(?:^|[{;\s"'])font-family\s*:\s*${value}|(?:^|[{;\s"'])font\s*:\s*[^;{}"']*?\d(?:px|pt|em|rem|%)(?:\/\S+)?\s+${value}`, 'gi');
  for (const match of withoutFaces.matchAll(declarations)) {
    const list = match[1] ?? match[2] ?? '';
    for (const part of list.split(',')) {
      const family = part.trim().replace(/\s*!important$/i, '').replace(/^['"]|['"]$/g, '');
      if (!family || family.includes('var(') || family.includes('{{') || genericFamilies.has(family.toLowerCase())) continue;
      yield { index: match.index, family };
    }
  }
}

/** Lower-cased families declared by @font-face rules in a text. */
export function fontFaceFamilies(text: string): string[] {
  return [...text.matchAll(/@font-face\s*\{[^}]*?font-family\s*:\s*(['"]?)([^;'"}]+)\1/gi)].map((match) => match[2]!.trim().toLowerCase());
}

function countLines(text: string, index: number): number {
  let lines = 0;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) lines += 1;
  return lines;
}

/** The line of `"key":` in template.json, after the `"within":` key when given. */
export function lineOfKey(text: string, key: string, within?: string): number | undefined {
  const start = within ? text.search(new RegExp(`"${within}"\\s*:`)) : 0;
  if (start < 0) return undefined;
  const at = text.slice(start).search(new RegExp(`"${key.replace(/[^\w-]/g, '')}"\\s*:`));
  return at < 0 ? undefined : countLines(text, start + at) + 1;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  return candidates.find((candidate) => candidate.toLowerCase() === lower || (Math.abs(candidate.length - word.length) <= 2 && (candidate.toLowerCase().startsWith(lower.slice(0, 3)) && lower.length > 3)));
}
