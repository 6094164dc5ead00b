import { api, ApiError } from './api.js';
import { concerns } from './events.js';
import { announce, h, replace } from './dom.js';
import { createRecordForm, rebuildForm, type RecordForm } from './form.js';
import { createUglyGrid } from './grid.js';
import { createPreview } from './preview.js';
import type { StudioContext, TemplateCases, TemplateInfo, TemplateProblem } from './types.js';
import { createUrlBuilder } from './urlBuilder.js';

/**
 * A template's page: the record form and the live preview with its channel frames, the
 * ugly-data grid, the URL builder, the campaign and the visual review, as tabs (WAI-ARIA tabs:
 * arrow keys move between them). Saving any file of the template re-renders what is open.
 */

interface Tab {
  readonly id: string;
  readonly label: string;
  readonly panel: HTMLElement;
  /** Called the first time the tab is shown, and again on template changes once shown. */
  readonly show?: () => void;
}

/** The tab modules other views own, loaded when their tab opens. */
interface FeatureModule {
  readonly mount: (root: HTMLElement, info: TemplateInfo, context: StudioContext) => void;
}

export async function mountTemplatePage(root: HTMLElement, id: string, context: StudioContext): Promise<void> {
  document.title = `${id} · mergeshot studio`;
  let info: TemplateInfo;
  try {
    info = await api.get<TemplateInfo>(`/api/templates/${encodeURIComponent(id)}`);
  } catch (error) {
    await showBroken(root, id, error);
    const stop = context.onTemplatesChanged((ids) => {
      if (!concerns(ids, id)) return;
      stop();
      void mountTemplatePage(root, id, context);
    });
    return;
  }
  let cases = await api.get<TemplateCases>(`/api/templates/${encodeURIComponent(id)}/cases`).catch(() => ({ records: [], undeclared: [] }) as TemplateCases);
  let undeclared = cases.undeclared;

  const preview = createPreview(info, () => refreshShown());
  const formHost = h('div', { class: 'panel' });
  let form: RecordForm = createRecordForm(info, cases.undeclared, (values) => {
    preview.request(values);
    urls.refresh(info, preview.target(), values);
  });
  formHost.append(form.element);
  const grid = createUglyGrid();
  const urls = createUrlBuilder();

  const feature = (name: 'campaign' | 'visual', exportName: string): (() => void) => {
    let mounted = false;
    return () => {
      if (mounted) return;
      mounted = true;
      const panel = document.getElementById(name)!;
      // Loaded on first use: a view that fails to load must not take the page down with it.
      import(`./${name}.js`)
        .then((module: Record<string, FeatureModule['mount']>) => module[exportName]!(panel, info, context))
        .catch(() => replace(panel, h('p', { class: 'error' }, `The ${name} view could not be loaded.`)));
    };
  };

  const tabs: Tab[] = [
    { id: 'panel-preview', label: 'Preview', panel: h('div', { class: 'workbench' }, formHost, preview.element) },
    { id: 'panel-grid', label: 'Ugly data', panel: grid.element, show: () => grid.refresh(info, preview.target().size) },
    { id: 'panel-url', label: 'URL builder', panel: urls.element, show: () => urls.refresh(info, preview.target(), form.values()) },
    { id: 'campaign', label: 'Campaign', panel: h('div', {}), show: feature('campaign', 'mountCampaign') },
    { id: 'visual', label: 'Visual review', panel: h('div', {}), show: feature('visual', 'mountVisualReview') },
  ];
  const shown = new Set<string>(['panel-preview']);
  const refreshShown = () => {
    for (const tab of tabs) if (shown.has(tab.id) && tab.id.startsWith('panel-')) tab.show?.();
  };

  const tabList = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Template views' });
  const buttons = tabs.map((tab, index) => {
    const button = h('button', { type: 'button', role: 'tab', id: `tab-${tab.id}`, 'aria-controls': tab.id, 'aria-selected': String(index === 0), tabindex: index === 0 ? 0 : -1 }, tab.label);
    tab.panel.id = tab.id;
    tab.panel.setAttribute('role', 'tabpanel');
    tab.panel.setAttribute('aria-labelledby', `tab-${tab.id}`);
    tab.panel.tabIndex = 0;
    tab.panel.hidden = index !== 0;
    button.addEventListener('click', () => select(index));
    button.addEventListener('keydown', (event) => {
      const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: tabs.length - 1 - index };
      const move = moves[event.key];
      if (move === undefined) return;
      event.preventDefault();
      const next = (index + move + tabs.length) % tabs.length;
      select(next);
      buttons[next]!.focus();
    });
    return button;
  });
  const select = (index: number) => {
    tabs.forEach((tab, i) => {
      buttons[i]!.setAttribute('aria-selected', String(i === index));
      buttons[i]!.tabIndex = i === index ? 0 : -1;
      tab.panel.hidden = i !== index;
    });
    const tab = tabs[index]!;
    if (!shown.has(tab.id) || tab.id.startsWith('panel-')) tab.show?.();
    shown.add(tab.id);
    history.replaceState(null, '', `#${tab.id.replace(/^panel-/, '')}`);
  };
  tabList.append(...buttons);

  const heading = h('h1', {}, info.name);
  const facts = h('p', {}, `${info.id} · ${info.width}×${info.height}${Object.keys(info.sizes).length ? ` · sizes: ${Object.keys(info.sizes).join(', ')}` : ''}`);
  replace(root, h('div', { class: 'template-head' }, heading, facts, h('a', { href: '/' }, '← All templates')), tabList, ...tabs.map((tab) => tab.panel));
  preview.request(form.values());
  const start = tabs.findIndex((tab) => tab.id.replace(/^panel-/, '') === location.hash.slice(1));
  if (start > 0) select(start);

  context.onTemplatesChanged((ids) => {
    if (!concerns(ids, id)) return;
    void (async () => {
      try {
        const next = await api.get<TemplateInfo>(`/api/templates/${encodeURIComponent(id)}`);
        cases = await api.get<TemplateCases>(`/api/templates/${encodeURIComponent(id)}/cases`).catch(() => cases);
        const before = JSON.stringify([info.fields, undeclared]);
        info = next;
        undeclared = cases.undeclared;
        const fieldsChanged = JSON.stringify([info.fields, undeclared]) !== before;
        heading.textContent = info.name;
        if (fieldsChanged) {
          form = rebuildForm(formHost, form, createRecordForm(info, cases.undeclared, (values) => {
            preview.request(values);
            urls.refresh(info, preview.target(), values);
          }));
        }
      } catch {
        // A broken template: the preview below asks for the problem and shows it over the last image.
      }
      preview.reload(info, form.values());
      refreshShown();
      announce('Template changed on disk: preview updated.');
    })();
  });
}

async function showBroken(root: HTMLElement, id: string, error: unknown): Promise<void> {
  const problem = (await api.get<{ problem: TemplateProblem | null }>(`/api/templates/${encodeURIComponent(id)}/problem`).catch(() => ({ problem: null }))).problem;
  replace(
    root,
    h('div', { class: 'template-head' }, h('h1', {}, id), h('a', { href: '/' }, '← All templates')),
    h(
      'div',
      { class: 'problem', role: 'alert' },
      h('h3', {}, 'The template does not load'),
      problem?.file ? h('p', {}, h('strong', { 'data-problem': 'where' }, `${problem.file}${problem.line ? `, line ${problem.line}` : ''}`)) : null,
      h('p', { 'data-problem': 'message' }, problem?.message ?? (error instanceof ApiError ? error.message : 'Unknown error')),
      problem?.excerpt ? h('pre', {}, problem.excerpt) : null,
      h('p', { class: 'muted' }, 'Fix the file and save: this page reloads by itself.'),
    ),
  );
}
