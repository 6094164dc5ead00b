import { api, ApiError } from './api.js';
import { formatBytes, h, replace } from './dom.js';
import { createChannelFrames } from './frames.js';
import type { RecordValues } from './form.js';
import type { TemplateInfo, TemplateProblem } from './types.js';

/**
 * The preview is the shipped artifact: POST /api/render through the chosen preset and size
 * (pooled Chromium, then sharp), with its bytes, dimensions, render time and warnings. Typing
 * re-renders after a short pause; each request aborts the one before, and an answer that
 * arrives after a newer request started is dropped, so a stale image never replaces a newer
 * one. On an error the last good image stays, dimmed, under the message.
 */

export interface Preview {
  readonly element: HTMLElement;
  /** Renders `values` after the debounce. */
  request(values: RecordValues): void;
  /** The template changed on disk: take the new manifest and render again at once. */
  reload(info: TemplateInfo, values: RecordValues): void;
  readonly target: () => { readonly size: string; readonly preset: string };
}

const debounceMs = 250;

export function createPreview(initial: TemplateInfo, onTarget: () => void = () => undefined): Preview {
  let info = initial;
  const sizeSelect = h('select', { id: 'preview-size' });
  const presetSelect = h('select', { id: 'preview-preset' });
  const fillControls = () => {
    const size = sizeSelect.value || 'default';
    const preset = presetSelect.value || info.defaultPreset || 'original';
    replace(sizeSelect, ...['default', ...Object.keys(info.sizes)].map((name) => h('option', { value: name }, name === 'default' ? `default (${info.width}×${info.height})` : `${name} (${info.sizes[name]!.width}×${info.sizes[name]!.height})`)));
    replace(presetSelect, ...Object.entries(info.presets).map(([name, spec]) => h('option', { value: name }, `${name} (${spec.format})`)));
    sizeSelect.value = [...sizeSelect.options].some((o) => o.value === size) ? size : 'default';
    presetSelect.value = [...presetSelect.options].some((o) => o.value === preset) ? preset : (presetSelect.options[0]?.value ?? '');
  };
  fillControls();

  const stage = h('div', { class: 'preview-stage', 'aria-live': 'off' }, h('span', { class: 'muted' }, 'Rendering…'));
  const problem = h('div', { class: 'problem', role: 'alert', hidden: true });
  const stats = h('dl', { class: 'preview-stats', 'aria-label': 'Image facts' });
  const warnings = h('ul', { class: 'warnings', 'aria-label': 'Warnings' });
  const status = h('p', { class: 'visually-hidden', role: 'status' });
  const frames = createChannelFrames();
  const element = h(
    'section',
    { class: 'panel preview', 'aria-label': 'Preview' },
    h('div', { class: 'controls' }, h('label', { for: 'preview-size' }, 'Size', sizeSelect), h('label', { for: 'preview-preset' }, 'Preset', presetSelect)),
    problem,
    stage,
    stats,
    warnings,
    status,
    frames.element,
  );

  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest = 0;
  let inFlight: AbortController | undefined;
  let lastValues: RecordValues = {};
  let shownUrl: string | undefined;

  const render = async (values: RecordValues) => {
    const ticket = ++latest;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    element.setAttribute('aria-busy', 'true');
    try {
      const answer = await api.image('/api/render', { template: info.id, data: values, size: sizeSelect.value, preset: presetSelect.value }, controller.signal);
      if (ticket !== latest) return;
      const url = URL.createObjectURL(answer.blob);
      const img = h('img', { src: url, alt: `Preview of ${info.name}`, 'data-bytes': answer.bytes });
      await img.decode().catch(() => undefined);
      if (ticket !== latest) {
        URL.revokeObjectURL(url);
        return;
      }
      if (shownUrl) URL.revokeObjectURL(shownUrl);
      shownUrl = url;
      replace(stage, img);
      problem.hidden = true;
      stage.classList.remove('stale');
      const format = answer.contentType.replace('image/', '').toUpperCase();
      replace(
        stats,
        h('div', {}, h('dt', {}, 'Size'), h('dd', { 'data-stat': 'dimensions' }, `${img.naturalWidth} × ${img.naturalHeight} px`)),
        h('div', {}, h('dt', {}, 'Bytes'), h('dd', { 'data-stat': 'bytes' }, `${formatBytes(answer.bytes)} ${format}`)),
        h('div', {}, h('dt', {}, 'Render'), h('dd', { 'data-stat': 'render' }, answer.renderMs === undefined ? `cached` : `${answer.renderMs} ms`)),
      );
      replace(warnings, ...answer.warnings.map((warning) => h('li', {}, warning)));
      frames.show(url, `Preview of ${info.name}`, info.name);
      status.textContent = `Preview updated: ${img.naturalWidth} by ${img.naturalHeight}, ${formatBytes(answer.bytes)}${answer.warnings.length ? `, ${answer.warnings.length} warnings` : ''}.`;
    } catch (error) {
      if (ticket !== latest || (error as Error).name === 'AbortError') return;
      await showProblem(error);
    } finally {
      if (ticket === latest) element.removeAttribute('aria-busy');
    }
  };

  const showProblem = async (error: unknown) => {
    stage.classList.add('stale');
    let detail: TemplateProblem | undefined;
    if (error instanceof ApiError && (error.code === 'TEMPLATE_INVALID' || error.code === 'MANIFEST_INVALID' || error.status >= 500)) {
      detail = (await api.get<{ problem: TemplateProblem | null }>(`/api/templates/${encodeURIComponent(info.id)}/problem`).catch(() => ({ problem: null }))).problem ?? undefined;
    }
    const message = detail?.message ?? (error instanceof ApiError ? `${error.message}${error.hint ? ` ${error.hint}` : ''}` : 'The preview could not be rendered.');
    replace(
      problem,
      h('h3', {}, detail ? 'The template has an error' : 'The preview could not be rendered'),
      detail?.file ? h('p', {}, h('strong', { 'data-problem': 'where' }, `${detail.file}${detail.line ? `, line ${detail.line}` : ''}`)) : null,
      h('p', { 'data-problem': 'message' }, message),
      detail?.excerpt ? h('pre', {}, detail.excerpt) : null,
      shownUrl ? h('p', { class: 'muted' }, 'Below: the last image that rendered.') : null,
    );
    problem.hidden = false;
  };

  const request = (values: RecordValues) => {
    lastValues = values;
    clearTimeout(timer);
    timer = setTimeout(() => void render(values), debounceMs);
  };
  for (const select of [sizeSelect, presetSelect]) {
    select.addEventListener('change', () => {
      onTarget();
      void render(lastValues);
    });
  }
  return {
    element,
    request,
    reload(next, values) {
      info = next;
      fillControls();
      lastValues = values;
      clearTimeout(timer);
      void render(values);
    },
    target: () => ({ size: sizeSelect.value, preset: presetSelect.value }),
  };
}
