import type { RenderResult } from '../pipeline/index.js';
import { isLargeText, measureContrast } from './contrast.js';
import type { FindingSet } from './findingSet.js';
import { rules } from './rules.js';

/** How a text's field is named in messages: the template's own copy has none. */
const subject = (field: string | null) => (field === null ? 'template text' : `field "${field}"`);

/**
 * The rules read from one inspected render (RenderRequest.inspect): overflow, clipping, the
 * fitted size, glyphs, images, off-origin requests, contrast and alt text.
 * `staticOrigins` are the origins the static rules already named with their line.
 */
export async function renderedFindings(result: RenderResult, record: string, findings: FindingSet, staticOrigins: ReadonlySet<string>): Promise<void> {
  const inspection = result.inspection;
  if (!inspection) return;
  for (const text of inspection.texts) {
    const field = text.field ?? undefined;
    const key = text.field ?? '';
    const reach = Math.max(text.overflowPx, text.canvasPx);
    if (reach > 1) {
      const where = text.canvasPx >= text.overflowPx ? 'the canvas' : 'its box';
      findings.add(`overflow\0${key}`, record, reach, { rule: 'overflow', ...(field ? { field } : {}), message: `${subject(text.field)} reaches ${reach} px outside ${where}`, fix: rules.overflow.fix });
    }
    if (text.clippedPx > 1) {
      findings.add(`clipped\0${key}`, record, text.clippedPx, { rule: 'clipped', ...(field ? { field } : {}), message: `${text.clippedPx} px of ${subject(text.field)} is hidden by an overflow: hidden box, with no ellipsis`, fix: rules.clipped.fix });
    }
  }
  for (const fit of inspection.fits) {
    if (fit.fontSize >= fit.minPx - 0.25) continue;
    const field = fit.field ?? undefined;
    findings.add(`below-min-size\0${fit.field ?? ''}`, record, fit.minPx - fit.fontSize, { rule: 'below-min-size', ...(field ? { field } : {}), message: `${subject(fit.field)} renders at ${round(fit.fontSize)} px, below its --fit-min of ${round(fit.minPx)} px`, fix: rules['below-min-size'].fix });
  }
  for (const warning of result.warnings) {
    if (warning.code === 'missing-glyph') {
      findings.add(`missing-glyph\0${warning.field ?? ''}`, record, 1, { rule: 'missing-glyph', ...(warning.field ? { field: warning.field } : {}), message: warning.message, fix: rules['missing-glyph'].fix });
    } else if (warning.code === 'request-blocked' && warning.field && !staticOrigins.has(warning.field)) {
      findings.add(`external-url\0${warning.field}`, record, 1, { rule: 'external-url', message: `the page requested ${warning.field}, which the render refuses`, fix: rules['external-url'].fix });
    }
  }
  for (const field of new Set(inspection.brokenImages)) {
    findings.add(`broken-image\0${field}`, record, 1, { rule: 'broken-image', field, message: `an image of "${field}" could not be decoded by the page`, fix: rules['broken-image'].fix });
  }
  if (result.alt.trim() === '') {
    findings.add('alt-missing\0', record, 1, { rule: 'alt-missing', file: 'template.json', message: 'the alt text renders empty for this record', fix: rules['alt-missing'].fix });
  }
  for (const layer of inspection.layers) {
    const texts = inspection.texts.filter((text) => text.field === layer.field && text.rect.width > 0);
    // The text furthest below its own threshold (large text needs 3:1, other text 4.5:1).
    let worst: { ratio: number; needed: number; large: boolean; x: number; y: number } | undefined;
    for (const { ratio, text } of await measureContrast(inspection.base, layer, texts)) {
      const large = isLargeText(text.fontSize, text.bold);
      const needed = large ? 3 : 4.5;
      if (ratio < needed && (!worst || ratio / needed < worst.ratio / worst.needed)) worst = { ratio, needed, large, x: text.rect.x, y: text.rect.y };
    }
    if (!worst) continue;
    const field = layer.field ?? undefined;
    findings.add(`low-contrast\0${layer.field ?? ''}`, record, worst.needed / worst.ratio, {
      rule: 'low-contrast',
      ...(field ? { field } : {}),
      message: `${subject(layer.field)}${layer.field === null ? ` at x ${Math.round(worst.x)}, y ${Math.round(worst.y)}` : ''} has a contrast of ${worst.ratio.toFixed(2)}:1 with the pixels behind its glyphs; WCAG AA needs ${worst.needed}:1 for ${worst.large ? 'large' : 'this size of'} text`,
      fix: rules['low-contrast'].fix,
    });
  }
}

function round(px: number): number {
  return Math.round(px * 10) / 10;
}
