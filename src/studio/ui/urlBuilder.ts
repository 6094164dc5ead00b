import { api, ApiError } from './api.js';
import { announce, h, replace } from './dom.js';
import type { RecordValues } from './form.js';
import type { TemplateInfo } from './types.js';

/**
 * The URL builder: pick an email platform, get the image URL with its merge tags and a ready
 * `<img>` snippet, with copy buttons and the URL's length (long URLs break in some clients).
 * A signed or token template gets URLs for the record in the form instead: those are made per
 * recipient (the campaign tab or `mergeshot urls` make them for a list).
 */

interface BuiltUrl {
  readonly mode: string;
  readonly url: string;
  readonly img: string;
  readonly note: string;
  readonly length: number;
  readonly access: string;
}

/** Past this, Outlook and some webmail clients truncate or refuse image URLs. */
const longUrl = 2_000;

export interface UrlBuilder {
  readonly element: HTMLElement;
  refresh(info: TemplateInfo, target: { size: string; preset: string }, values: RecordValues): void;
}

export function createUrlBuilder(): UrlBuilder {
  const esp = h('select', { id: 'url-esp' });
  const mode = h('select', { id: 'url-mode' }, h('option', { value: 'merge-tags' }, 'Merge tags (one URL for the whole send)'), h('option', { value: 'signed' }, 'Signed URL for the record in the form'), h('option', { value: 'token' }, 'Token URL for the record in the form'));
  const base = h('input', { id: 'url-base', type: 'url', value: location.origin, 'aria-describedby': 'url-base-hint' });
  const urlBox = h('textarea', { id: 'url-out', readonly: true, rows: 4 });
  const imgBox = h('textarea', { id: 'img-out', readonly: true, rows: 4 });
  const length = h('span', { 'data-url-length': '' });
  const note = h('p', { class: 'muted' });
  const problem = h('p', { class: 'error', role: 'alert', hidden: true });
  const copy = (box: HTMLTextAreaElement, what: string) =>
    h('button', {
      type: 'button',
      class: 'quiet',
      onclick: (async () => {
        try {
          await navigator.clipboard.writeText(box.value);
        } catch {
          box.select();
          document.execCommand('copy');
        }
        announce(`${what} copied.`);
      }) as EventListener,
    }, `Copy ${what}`);
  const element = h(
    'section',
    { class: 'url-builder', 'aria-label': 'URL builder' },
    h('h2', {}, 'URL builder'),
    h('div', { class: 'controls' }, h('label', { for: 'url-esp' }, 'Email platform', esp), h('label', { for: 'url-mode' }, 'Kind of URL', mode), h('label', { for: 'url-base' }, 'Server address', base)),
    h('p', { id: 'url-base-hint', class: 'muted' }, 'The address recipients reach this server at (behind your CDN or proxy).'),
    problem,
    h('div', { class: 'copy-row' }, h('label', { for: 'url-out' }, 'Image URL'), urlBox, h('div', { class: 'row-tools' }, copy(urlBox, 'URL'), length)),
    h('div', { class: 'copy-row' }, h('label', { for: 'img-out' }, '<img> snippet for the email HTML'), imgBox, h('div', { class: 'row-tools' }, copy(imgBox, 'snippet'))),
    note,
  );

  let current: { info: TemplateInfo; target: { size: string; preset: string }; values: RecordValues } | undefined;
  let ticket = 0;
  const build = async () => {
    if (!current) return;
    const mine = ++ticket;
    const { info, target, values } = current;
    try {
      const built = await api.post<BuiltUrl>(`/api/templates/${encodeURIComponent(info.id)}/url`, {
        mode: mode.value,
        esp: esp.value || undefined,
        base: base.value,
        ...(target.size !== 'default' ? { size: target.size } : {}),
        ...(mode.value !== 'merge-tags' || target.preset !== info.defaultPreset ? { preset: target.preset } : {}),
        data: values,
      });
      if (mine !== ticket) return;
      urlBox.value = built.url;
      imgBox.value = built.img;
      length.textContent = `${built.length} characters${built.length > longUrl ? ' — too long for some mail clients: use token URLs' : ''}`;
      length.className = built.length > longUrl ? 'error' : 'muted';
      note.textContent = built.note;
      problem.hidden = true;
    } catch (error) {
      if (mine !== ticket) return;
      problem.textContent = error instanceof ApiError ? `${error.message}${error.hint ? ` ${error.hint}` : ''}` : 'Cannot build the URL.';
      problem.hidden = false;
    }
  };
  for (const control of [esp, mode, base]) control.addEventListener('change', () => void build());
  void api.get<{ platforms: { id: string; label: string }[] }>('/api/platforms').then(({ platforms }) => {
    replace(esp, ...platforms.map((p) => h('option', { value: p.id }, p.label)));
    void build();
  });

  return {
    element,
    refresh(info, target, values) {
      if (info.access === 'signed' && mode.value === 'merge-tags') mode.value = 'signed';
      if (info.access === 'token' && mode.value === 'merge-tags') mode.value = 'token';
      current = { info, target, values };
      void build();
    },
  };
}
