import { api, ApiError } from './api.js';
import { announce, h, replace } from './dom.js';
import type { Finding, NamedRecord, TemplateInfo } from './types.js';

/**
 * The ugly-data grid: every sample and every generated edge case of `mergeshot check` (every
 * field at its maxLength, every field missing, right-to-left, CJK, emoji, an unreplaced merge
 * tag, a failing image) rendered side by side, each tile badged with what the check's rendered
 * rules found on it (overflow by N px, clipped, below min size, missing glyph, low contrast,
 * broken image) and the warnings of its render (fallback used, truncated, merge tag…).
 */

interface Inspected {
  readonly image: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly warnings: readonly { readonly code: string; readonly field?: string; readonly message: string }[];
  readonly findings: readonly Finding[];
}

/** Tiles rendered at once: each is a full inspected render on the server's pool. */
const parallel = 2;

export interface UglyGrid {
  readonly element: HTMLElement;
  /** Renders every tile again (template edit, size change). */
  refresh(info: TemplateInfo, size: string): void;
}

export function createUglyGrid(): UglyGrid {
  const list = h('ul', { class: 'grid', 'aria-label': 'Samples and edge cases' });
  const summary = h('p', { class: 'muted', role: 'status' }, 'Open this tab to render every sample and edge case.');
  const element = h('section', { 'aria-label': 'Ugly data' }, h('h2', {}, 'Ugly data'), h('p', { class: 'muted' }, "The template's samples and the edge cases every real list has, each with what was found on it."), summary, list);
  let generation = 0;

  return {
    element,
    refresh(info, size) {
      const mine = ++generation;
      void (async () => {
        replace(summary, 'Rendering samples and edge cases…');
        let records: readonly NamedRecord[];
        try {
          records = (await api.get<{ records: NamedRecord[] }>(`/api/templates/${encodeURIComponent(info.id)}/cases`)).records;
        } catch (error) {
          replace(summary, h('span', { class: 'error' }, error instanceof ApiError ? error.message : 'Cannot list the cases.'));
          return;
        }
        if (mine !== generation) return;
        const tiles = records.map((record) => {
          const tile = h('li', { class: 'tile', 'data-case': record.name }, h('figure', {}, h('div', { class: 'thumb' }, h('span', { class: 'muted' }, 'Waiting…')), h('figcaption', {}, h('strong', {}, label(record.name)), h('div', { class: 'badges' }))));
          return { record, tile };
        });
        replace(list, ...tiles.map((t) => t.tile));
        let next = 0;
        let problems = 0;
        const worker = async () => {
          while (next < tiles.length && mine === generation) {
            const { record, tile } = tiles[next++]!;
            problems += await fillTile(tile, info, record, size);
          }
        };
        await Promise.all(Array.from({ length: parallel }, worker));
        if (mine !== generation) return;
        const text = `${tiles.length} records rendered; ${problems} finding${problems === 1 ? '' : 's'}.`;
        replace(summary, text);
        announce(text);
      })();
    },
  };
}

async function fillTile(tile: HTMLElement, info: TemplateInfo, record: NamedRecord, size: string): Promise<number> {
  const thumb = tile.querySelector('.thumb')!;
  const badges = tile.querySelector('.badges')!;
  try {
    const result = await api.post<Inspected>(`/api/templates/${encodeURIComponent(info.id)}/inspect`, { name: record.name, data: record.data, size });
    replace(thumb, h('img', { src: result.image, alt: `${info.name}: ${label(record.name)}`, width: result.width, height: result.height }));
    const findingBadges = result.findings.map((finding) => h('span', { class: `badge ${finding.severity === 'error' ? 'error' : 'warn'}`, 'data-rule': finding.rule, title: `${finding.message}. Fix: ${finding.fix}` }, badgeText(finding)));
    // Findings already say overflow and glyphs; the render's own warnings add the data story.
    const shown = new Set(['overflow', 'missing-glyph', 'image-failed']);
    const warningBadges = [...new Map(result.warnings.filter((w) => !shown.has(w.code)).map((w) => [`${w.code}:${w.field ?? ''}`, w])).values()].map((warning) =>
      h('span', { class: 'badge warn', 'data-warning': warning.code, title: warning.message }, `${warningLabel(warning.code)}${warning.field ? `: ${warning.field}` : ''}`),
    );
    const imageFailed = result.warnings.filter((w) => w.code === 'image-failed').map((w) => h('span', { class: 'badge error', 'data-warning': 'image-failed', title: w.message }, `image failed: ${w.field ?? ''}`));
    replace(badges, ...findingBadges, ...imageFailed, ...warningBadges);
    if (findingBadges.length + imageFailed.length === 0) badges.prepend(h('span', { class: 'badge ok' }, 'no findings'));
    tile.classList.toggle('has-error', result.findings.some((f) => f.severity === 'error'));
    return result.findings.length;
  } catch (error) {
    replace(thumb, h('span', { class: 'error' }, error instanceof ApiError ? error.message : 'Cannot render'));
    replace(badges, h('span', { class: 'badge error' }, error instanceof ApiError ? error.code : 'failed'));
    tile.classList.add('has-error');
    return 1;
  }
}

function label(name: string): string {
  return name.startsWith('generated:') ? `edge case: ${name.slice('generated:'.length).replace(/-/g, ' ')}` : `sample: ${name}`;
}

/** "overflow by 38 px: name": the number from the finding's own message. */
function badgeText(finding: Finding): string {
  const px = /(\d+(?:\.\d+)?) px/.exec(finding.message)?.[1];
  const ratio = /contrast of (\d+(?:\.\d+)?):1/.exec(finding.message)?.[1];
  const field = finding.field ? `: ${finding.field}` : '';
  switch (finding.rule) {
    case 'overflow':
      return `overflow by ${px ?? '?'} px${field}`;
    case 'clipped':
      return `clipped ${px ?? '?'} px${field}`;
    case 'low-contrast':
      return `low contrast ${ratio ?? '?'}:1${field}`;
    case 'below-min-size':
      return `below min size${field}`;
    case 'missing-glyph':
      return `missing glyph${field}`;
    case 'broken-image':
      return `broken image${field}`;
    default:
      return `${finding.rule}${field}`;
  }
}

function warningLabel(code: string): string {
  return ({ fallback: 'fallback used', missing: 'missing', 'unreplaced-merge-tag': 'merge tag left', invalid: 'invalid value', truncated: 'truncated', 'request-blocked': 'request refused', encoding: 'encoding' } as Record<string, string>)[code] ?? code;
}
