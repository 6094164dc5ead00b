import { checkRuleIds, type CheckRuleId, type Manifest } from '../template/index.js';
import type { Finding, RawFinding, RuleLevel, Severity } from './finding.js';

export interface RuleInfo {
  readonly level: Severity;
  /** What the rule finds, for the README table and `--help`. */
  readonly what: string;
  readonly fix: string;
}

/**
 * Every rule with its default level. Errors are what ships broken (a box of tofu, text nobody
 * can read, a field that never fills); warnings are what a designer should look at once.
 */
export const rules: Readonly<Record<CheckRuleId, RuleInfo>> = {
  'undeclared-field': { level: 'error', what: 'a field used in template.html or alt that template.json does not declare: it always renders empty', fix: 'declare it under "fields" (with a fallback), or correct the name' },
  'unused-field': { level: 'warn', what: 'a declared field that template.html and alt never use', fix: 'use it, or remove it from "fields"' },
  'empty-debris': { level: 'error', what: 'a field without a fallback printed next to fixed text that stays when the value is empty ("% off")', fix: 'give the field a fallback, or wrap the text in {{#if field}}…{{/if}}' },
  'required-field': { level: 'warn', what: 'a `required` field: a record without it fails instead of rendering (the server answers the fallback image)', fix: 'give it a fallback and remove "required", unless a missing value must stop the send' },
  'unescaped-output': { level: 'error', what: '{{{ }}} or {{& }}: record data written unescaped (the renderer refuses the template)', fix: 'write {{field}}' },
  script: { level: 'error', what: 'a <script>, an on… event attribute or a javascript: URL: templates never run scripts', fix: 'remove it; use CSS and Handlebars helpers' },
  'external-url': { level: 'error', what: 'a reference to an external URL: every off-origin request is refused at render time', fix: 'copy the file into the template\'s assets/ and use a relative URL' },
  'font-not-bundled': { level: 'error', what: 'a font family that no bundled or template font provides: text falls back to another face', fix: 'use var(--font-sans) or var(--font-serif), or add the font file to assets/ with an @font-face' },
  'link-outside': { level: 'error', what: 'a symbolic link in the template folder that leads outside it: mergeshot refuses to read it (template.html, an asset, a golden)', fix: 'replace the link with a copy of the file inside the template folder' },
  overflow: { level: 'error', what: 'text that reaches outside its box or the canvas, on a sample or a generated edge case', fix: 'use {{fit "field"}} or give the box room (a smaller --fit-min, a lower maxLength, more lines)' },
  'below-min-size': { level: 'warn', what: 'fitted text rendered smaller than its --fit-min', fix: 'make the CSS size at least --fit-min, or lower --fit-min' },
  'missing-glyph': { level: 'error', what: 'characters no font of the page can draw: they show as empty boxes', fix: 'add a font that covers them (assets/ + @font-face), or use the bundled stacks' },
  'broken-image': { level: 'error', what: 'an <img> the page could not decode', fix: 'check the file under assets/, or the field\'s fallback image' },
  clipped: { level: 'warn', what: 'text hidden by an `overflow: hidden` box without an ellipsis: the reader cannot tell it was cut', fix: 'use {{fit "field"}} (it shrinks, then clamps with an ellipsis) or text-overflow: ellipsis' },
  'low-contrast': { level: 'error', what: 'text whose contrast with the pixels behind its glyphs is below WCAG AA (4.5:1; 3:1 from 24 px, or 18.66 px bold)', fix: 'darken or lighten the text, or add a scrim behind it' },
  'over-budget': { level: 'error', what: 'an encoded image larger than its preset\'s maxBytes even at the lowest quality tried', fix: 'simplify the background (gradients and photos cost bytes), or raise the preset\'s maxBytes' },
  'format-channel': { level: 'error', what: 'a preset whose format its channel cannot show (WebP in email or WhatsApp)', fix: 'use a JPEG or PNG preset for that channel' },
  'code-unreadable': { level: 'error', what: 'a QR code or barcode that does not decode to its value from the final encoded image (at the default preset and check.presets)', fix: 'make the code bigger, give it its quiet zone (quiet=…), keep other elements off it, or use a lossless preset' },
  'code-too-small': { level: 'error', what: 'a QR code or barcode whose modules are under 2 px in the preset\'s output', fix: 'make the code bigger in the CSS, shorten the value (fewer modules) or lower the QR ecc' },
  'code-low-contrast': { level: 'error', what: 'a QR code or barcode whose symbol contrast (light minus dark luminance) is under 40 % in the output', fix: 'use dark modules on a light background: dark="#000" light="#fff", or colours far apart' },
  'alt-missing': { level: 'warn', what: 'no alt text, or alt text that renders empty for a record', fix: 'write "alt" in template.json with text that stays when fields are empty' },
};

export const defaultLevels: Readonly<Record<CheckRuleId, RuleLevel>> = Object.fromEntries(Object.entries(rules).map(([id, rule]) => [id, rule.level])) as Record<CheckRuleId, RuleLevel>;

/** The template's level for each rule: the defaults, overridden by template.json check.rules. */
export function levelsOf(manifest: Manifest): Readonly<Record<CheckRuleId, RuleLevel>> {
  const levels = { ...defaultLevels };
  for (const id of checkRuleIds) levels[id] = manifest.check?.rules?.[id] ?? levels[id];
  return levels;
}

export function applyLevels(findings: readonly RawFinding[], levels: Readonly<Record<CheckRuleId, RuleLevel>>): Finding[] {
  return findings.flatMap((finding) => {
    const level = levels[finding.rule];
    return level === 'off' ? [] : [{ ...finding, severity: level }];
  });
}
