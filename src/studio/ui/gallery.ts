import { api, ApiError } from './api.js';
import { concerns } from './events.js';
import { h, replace } from './dom.js';
import type { Finding, StudioContext, TemplateInfo, TemplateSummary } from './types.js';

/**
 * The gallery: every template with a live thumbnail (its first sample, through its default
 * preset), its sizes and fields, its `mergeshot check` status and its visual-test status. The
 * statuses render records, so they are asked one template at a time, after the thumbnails.
 */

interface VisualStatus {
  readonly cases: readonly { readonly status: string }[];
  readonly renderer?: { readonly change?: string };
}

export async function mountGallery(root: HTMLElement, context: StudioContext): Promise<void> {
  document.title = 'Templates · mergeshot studio';
  const list = h('ul', { class: 'gallery', 'aria-label': 'Templates' });
  replace(root, h('h1', {}, 'Templates'), h('p', { class: 'muted' }, 'Every template in the templates folder. Saving a file refreshes its card.'), list);
  const cards = new Map<string, HTMLElement>();
  let statusQueue = Promise.resolve();

  /** Fills every card, or only the cards of `ids` (and new templates) after an edit. */
  const load = async (ids?: readonly string[]) => {
    const { templates } = await api.get<{ templates: TemplateSummary[] }>('/api/templates');
    for (const [id, card] of cards) {
      if (templates.some((t) => t.id === id)) continue;
      card.remove();
      cards.delete(id);
    }
    for (const summary of templates) {
      const known = cards.get(summary.id);
      if (known && ids && !concerns(ids, summary.id)) continue;
      const card = known ?? h('li', { class: 'card', 'data-template': summary.id });
      if (!known) {
        cards.set(summary.id, card);
        list.append(card);
      }
      void fillCard(card, summary).then((info) => {
        if (info) statusQueue = statusQueue.then(() => fillStatuses(card, info));
      });
    }
  };
  context.onTemplatesChanged((ids) => void load(ids));
  await load();
}

async function fillCard(card: HTMLElement, summary: TemplateSummary): Promise<TemplateInfo | undefined> {
  const href = `/templates/${encodeURIComponent(summary.id)}`;
  if (summary.error) {
    replace(card, h('div', { class: 'card-body' }, h('h2', {}, h('a', { href }, summary.id)), h('p', { class: 'error' }, `Does not load (${summary.error.code}): open it to see why.`)));
    return undefined;
  }
  const thumb = h('div', { class: 'thumb' }, h('span', { class: 'muted' }, 'Rendering…'));
  const badges = h('div', { class: 'badges', 'aria-label': 'Checks' }, badge('pending', 'check: …'), badge('pending', 'visual: …'));
  const sizes = ['default', ...Object.keys(summary.sizes ?? {})];
  replace(
    card,
    h('a', { class: 'card-link', href }, thumb, h('div', { class: 'card-body' }, h('h2', {}, summary.name ?? summary.id), h('p', { class: 'muted' }, summary.description ?? ''))),
    h(
      'div',
      { class: 'card-body' },
      h('dl', { class: 'facts' }, h('dt', {}, 'id'), h('dd', {}, h('code', {}, summary.id)), h('dt', {}, 'sizes'), h('dd', {}, sizes.join(', ')), h('dt', {}, 'fields'), h('dd', {}, (summary.fields ?? []).join(', '))),
      badges,
    ),
  );
  try {
    const info = await api.get<TemplateInfo>(`/api/templates/${encodeURIComponent(summary.id)}`);
    const sample = Object.values(info.samples)[0] ?? {};
    const image = await api.image('/api/render', { template: info.id, data: sample });
    const url = URL.createObjectURL(image.blob);
    const img = h('img', { src: url, alt: `${info.name}, first sample` });
    img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
    replace(thumb, img);
    return info;
  } catch (error) {
    replace(thumb, h('span', { class: 'error' }, error instanceof ApiError ? `Cannot render: ${error.message}` : 'Cannot render'));
    return undefined;
  }
}

async function fillStatuses(card: HTMLElement, info: TemplateInfo): Promise<void> {
  const badges = card.querySelector('.badges');
  if (!badges) return;
  const [check, visual] = [badge('pending', 'check: running…'), badge('pending', 'visual: …')];
  replace(badges, check, visual);
  try {
    const report = await api.get<{ findings: Finding[] }>(`/api/templates/${encodeURIComponent(info.id)}/check`);
    const errors = report.findings.filter((f) => f.severity === 'error').length;
    const warnings = report.findings.length - errors;
    check.replaceWith(errors > 0 ? badge('error', `check: ${errors} error${errors === 1 ? '' : 's'}`) : warnings > 0 ? badge('warn', `check: ${warnings} warning${warnings === 1 ? '' : 's'}`) : badge('ok', 'check: clean'));
  } catch {
    check.replaceWith(badge('error', 'check: could not run'));
  }
  try {
    const status = await api.get<VisualStatus>(`/api/templates/${encodeURIComponent(info.id)}/visual`);
    const failing = status.cases.filter((c) => c.status !== 'pass').length;
    visual.replaceWith(status.renderer?.change ? badge('warn', 'visual: renderer changed') : status.cases.length === 0 ? badge('pending', 'visual: no goldens') : failing > 0 ? badge('error', `visual: ${failing} failing`) : badge('ok', `visual: ${status.cases.length} pass`));
  } catch {
    visual.replaceWith(badge('pending', 'visual: unknown'));
  }
}

function badge(kind: 'ok' | 'warn' | 'error' | 'pending', text: string): HTMLElement {
  return h('span', { class: `badge ${kind}` }, text);
}
