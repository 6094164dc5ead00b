import type { RenderWarning } from '../errors/index.js';
import type { CodeCollector, CodeSpec } from './codes.js';
import type { LoadedTemplate, TemplateSize } from './registry.js';

/**
 * The values a template is merged with, one per field, already normalized (data/ makes them).
 * Declared here, not imported from data/, which itself reads the template's field specs: the
 * stages would otherwise import each other.
 */
export type MergeRecord = Readonly<Record<string, string | number | boolean | null>>;

export interface MergeOptions {
  readonly size?: string | undefined;
  /** BCP 47 locale for the date/number helpers; the manifest's `locale`, else en-US. */
  readonly locale?: string | undefined;
}

/** A merged document, split so a warm page can swap only the body when the head is unchanged. */
export interface MergedDocument {
  readonly html: string;
  /** Everything before <body>: a change here needs a fresh document. */
  readonly head: string;
  /** The <body> element itself, start tag included, ready to replace the live one. */
  readonly body: string;
  readonly size: TemplateSize;
  readonly alt: string;
  /** The QR codes and barcodes drawn, with the values they must scan back to (in memory only). */
  readonly codes: readonly CodeSpec[];
  /** Values a code helper could not encode (codes.ts). */
  readonly warnings: readonly RenderWarning[];
}

const bodyPattern = /<body\b[^>]*>[\s\S]*<\/body>/i;

export function mergeDocument(template: LoadedTemplate, record: MergeRecord, options: MergeOptions = {}): MergedDocument {
  const size = template.size(options.size);
  const locale = options.locale ?? template.manifest.locale ?? 'en-US';
  const context = { ...record, size, locale };
  const fallbacks = Object.fromEntries(Object.entries(template.manifest.fields).map(([name, spec]) => [name, spec.fallback]));
  const collector: CodeCollector = { fallbacks, codes: [], warnings: [] };
  const html = template.render(context, { data: { mergeshot: collector } });
  const match = bodyPattern.exec(html);
  const head = match ? html.slice(0, match.index) : html;
  const body = match ? match[0] : '<body></body>';
  const alt = template.renderAlt ? collapse(template.renderAlt(context, { data: { escape: false } })) : '';
  return { html, head, body, size, alt, codes: collector.codes, warnings: collector.warnings };
}

/** Alt text is plain text: unescape Handlebars' entities and fold whitespace. */
function collapse(value: string): string {
  return value
    .replace(/&(amp|lt|gt|quot|#x27|#x60|#x3D);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#x27': "'", '#x60': '`', '#x3D': '=' })[name] ?? '')
    .replace(/\s+/g, ' ')
    .trim();
}
