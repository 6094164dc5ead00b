import { api, ApiError } from './api.js';
import { h, replace } from './dom.js';
import { concerns } from './events.js';
import type { AcceptResult, CaseReview, ImageKind, ReviewWarning, TemplateReview } from '../../visual/index.js';
import type { StudioContext, TemplateInfo } from './types.js';

/**
 * The template page's "Visual review" tab: the template suite's verdict for each image
 * (GET /api/templates/<id>/visual, the same renders and Playwright comparator as
 * `npm run test:templates`). Each failing image shows its golden, this render and Playwright's
 * diff side by side, a slider that reveals the render over the golden, the inputs changed since
 * the golden was accepted and the tolerance; "Accept" writes the golden exactly as
 * `--update-snapshots` does, per image or for the whole template. Saving a template file
 * re-runs the review.
 */

/** GET /api/templates/<id>/visual: src/visual's review, each case with the URLs of its images (src/server/routes/visual.ts). */
export type VisualCase = CaseReview & { readonly urls: { readonly actual: string } & Readonly<Partial<Record<ImageKind, string>>> };
export type VisualReviewStatus = Omit<TemplateReview, 'cases'> & { readonly cases: readonly VisualCase[] };
export type VisualAcceptResult = Omit<AcceptResult, 'review'> & { readonly review: VisualReviewStatus };

export function mountVisualReview(root: HTMLElement, template: TemplateInfo, context: StudioContext): void {
  const base = `/api/templates/${encodeURIComponent(template.id)}/visual`;
  const heading = h('h2', { id: 'visual-heading', tabindex: -1 }, 'Visual review');
  const summary = h('p', { class: 'visual-summary' });
  const actions = h('div', { class: 'visual-actions' });
  // The tab's own live region: what accepting did, or why it failed.
  const status = h('p', { class: 'visual-status', role: 'status', 'aria-live': 'polite' });
  const body = h('div', { class: 'visual-body' });
  replace(root, h('section', { class: 'visual-review', 'aria-labelledby': 'visual-heading' }, h('div', { class: 'visual-head' }, heading, summary, actions), status, body));

  /** Answers to older requests never replace a newer one's. */
  let generation = 0;
  let busy = false;
  /** The review on screen, as JSON: an equal answer is not drawn again. */
  let shown = '';
  let changedWhileBusy = false;
  const changedMessage = 'The template changed on disk: reviewed again.';

  /**
   * Reviews again. A change event also follows every accept (the watcher sees the goldens
   * written), so an answer that equals what is shown leaves the DOM, the focus and the last
   * message alone.
   */
  const load = async (message?: string, unchangedMessage?: string) => {
    const mine = ++generation;
    root.setAttribute('aria-busy', 'true');
    try {
      const review = await api.get<VisualReviewStatus>(base);
      if (mine !== generation) return;
      if (show(review)) {
        if (message) status.textContent = message;
      } else if (unchangedMessage) status.textContent = unchangedMessage;
    } catch (error) {
      if (mine !== generation) return;
      summary.textContent = '';
      shown = '';
      replace(body, h('p', { class: 'error', role: 'alert' }, `The visual review could not run: ${messageOf(error)}`));
    } finally {
      if (mine === generation) root.removeAttribute('aria-busy');
    }
  };

  const accept = async (request: { readonly cases: readonly string[] } | { readonly all: true }, what: string, focusAfter: string | undefined) => {
    if (busy) return;
    busy = true;
    // An answer to a review asked before the accept is older than the accept's own.
    generation += 1;
    for (const button of root.querySelectorAll('button')) button.disabled = true;
    status.textContent = `Accepting ${what}…`;
    try {
      const result = await api.post<VisualAcceptResult>(`${base}/accept`, request);
      show(result.review);
      status.textContent = acceptedMessage(result);
      const next = focusAfter && root.querySelector<HTMLButtonElement>(`[data-case="${CSS.escape(focusAfter)}"] button.visual-accept`);
      (next || root.querySelector<HTMLButtonElement>('button.visual-accept') || heading).focus();
    } catch (error) {
      status.textContent = `Could not accept ${what}: ${messageOf(error)}`;
      for (const button of root.querySelectorAll('button')) button.disabled = false;
    } finally {
      busy = false;
      if (changedWhileBusy) {
        changedWhileBusy = false;
        void load(changedMessage);
      }
    }
  };

  /** Draws a review unless it is the one on screen; keeps the focus on the same control. True when drawn. */
  const show = (review: VisualReviewStatus): boolean => {
    const json = JSON.stringify(review);
    if (json === shown) return false;
    shown = json;
    const focused = focusKey(root);
    const failing = review.cases.filter((entry) => entry.status !== 'pass');
    const passing = review.cases.filter((entry) => entry.status === 'pass');
    summary.textContent = summaryText(review);
    replace(
      actions,
      failing.length > 0 || review.renderer.change || !review.renderer.stored
        ? h('button', { type: 'button', class: 'visual-accept-all', onclick: () => void accept({ all: true }, `every image of ${template.id}`, undefined) }, failing.length > 0 ? `Accept all ${failing.length} images` : 'Accept the renderer')
        : null,
      h('button', { type: 'button', class: 'quiet visual-again', onclick: () => void load('Checked again: the review changed.', 'Checked again: nothing changed.') }, 'Check again'),
    );
    replace(
      body,
      review.problem ? h('p', { class: 'problem', role: 'alert' }, review.problem) : null,
      review.renderer.change ? h('p', { class: 'visual-note warn' }, `${review.renderer.change}. Accepting writes the new renderer fingerprint with the images.`) : null,
      !review.renderer.stored ? h('p', { class: 'visual-note warn' }, 'No renderer fingerprint (templates/__golden__/renderer.json) is stored yet: accepting writes it.') : null,
      review.orphans.length > 0
        ? h('p', { class: 'visual-note warn' }, `Golden files no test uses any more (a sample, size or preset was removed or renamed): ${review.orphans.join(', ')}. Delete them, or run npm run test:templates -- --update-snapshots=all.`)
        : null,
      failing.length > 0
        ? h(
            'ol',
            { class: 'visual-cases', 'aria-label': 'Images that differ from their goldens' },
            ...failing.map((entry, index) => caseView(entry, () => void accept({ cases: [entry.name] }, entry.name, failing[index + 1]?.name))),
          )
        : null,
      passing.length > 0
        ? h('details', { class: 'visual-passing' }, h('summary', {}, passing.length === 1 ? '1 image matches its golden' : `${passing.length} images match their goldens`), h('ul', {}, ...passing.map((entry) => h('li', {}, entry.name))))
        : null,
    );
    if (focused) root.querySelector<HTMLElement>(focused)?.focus();
    return true;
  };

  context.onTemplatesChanged((ids) => {
    if (!concerns(ids, template.id)) return;
    // Accepting writes goldens, which the watcher reports too: review again once it is done.
    if (busy) changedWhileBusy = true;
    else void load(changedMessage);
  });
  summary.textContent = 'Rendering every sample and comparing it with its golden…';
  void load();
}

/** A selector for the focused control of the review, to focus its redrawn twin. */
function focusKey(root: HTMLElement): string | undefined {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !root.contains(active)) return undefined;
  const item = active.closest<HTMLElement>('[data-case]');
  const scope = item ? `[data-case="${CSS.escape(item.dataset.case ?? '')}"] ` : '';
  if (active.id) return `#${CSS.escape(active.id)}`;
  const kind = ['visual-accept', 'visual-accept-all', 'visual-again'].find((name) => active.classList.contains(name));
  return kind ? `${scope}.${kind}` : undefined;
}

function caseView(entry: VisualCase, onAccept: () => void): HTMLElement {
  const title = `${entry.sample} · ${entry.size} · ${entry.preset}`;
  const slug = entry.name.replace(/[^A-Za-z0-9_-]/g, '-');
  const badgeText = entry.status === 'missing' ? 'no golden yet' : entry.diffPixels === undefined ? 'differs' : `${entry.diffPixels.toLocaleString()} pixels differ`;
  const figure = (caption: string, url: string | undefined, alt: string) =>
    url ? h('figure', { class: 'visual-image' }, h('img', { src: url, alt, loading: 'lazy', decoding: 'async' }), h('figcaption', {}, caption)) : null;
  return h(
    'li',
    { class: 'visual-case', 'data-case': entry.name, 'aria-labelledby': `visual-case-${slug}` },
    h('h3', { id: `visual-case-${slug}` }, title, ' ', h('span', { class: `badge ${entry.status === 'missing' ? 'warn' : 'error'}` }, badgeText)),
    h(
      'div',
      { class: 'visual-images' },
      figure('Expected (the golden)', entry.urls.expected, `Expected: the accepted golden of ${title}`),
      figure('Actual (this render)', entry.urls.actual, `Actual: this render of ${title}`),
      figure('Diff (changed pixels in red)', entry.urls.diff, `Diff of ${title}: pixels that differ are red`),
    ),
    entry.urls.expected ? slider(entry, slug, title) : h('p', { class: 'muted' }, 'No golden yet: accepting writes this render as the golden.'),
    h(
      'dl',
      { class: 'visual-facts' },
      h('dt', {}, 'Tolerance'),
      h('dd', {}, entry.tolerance),
      h('dt', {}, 'Changed since accepted'),
      h('dd', {}, entry.hasSidecar ? (entry.changedInputs.length > 0 ? h('ul', {}, ...entry.changedInputs.map((line) => h('li', {}, line))) : 'none of the template files, styles, fonts or the record: the renderer or the machine differs') : 'unknown (the golden has no sidecar; accepting writes one)'),
      entry.message ? h('dt', {}, 'Comparison') : null,
      entry.message ? h('dd', {}, entry.message) : null,
      h('dt', {}, 'Warnings'),
      h('dd', {}, warningsText(entry.warnings), entry.hasSidecar ? h('span', { class: 'muted' }, ` (when accepted: ${warningsText(entry.acceptedWarnings)})`) : null),
    ),
    h('button', { type: 'button', class: 'visual-accept', onclick: onAccept, 'aria-describedby': `visual-case-${slug}` }, 'Accept this image'),
  );
}

/** The golden with the render over it, clipped at the slider: drag to see what moved. */
function slider(entry: VisualCase, slug: string, title: string): HTMLElement {
  const stage = h(
    'div',
    { class: 'visual-compare' },
    h('img', { src: entry.urls.expected!, alt: '', class: 'visual-under' }),
    h('img', { src: entry.urls.actual, alt: '', class: 'visual-over' }),
  );
  const input = h('input', { type: 'range', id: `visual-reveal-${slug}`, min: 0, max: 100, step: 1, value: 50, 'aria-valuetext': '50% of the render shown over the golden, from the left' });
  const update = () => {
    // A custom property set through the CSSOM: the page's CSP allows no inline style attributes.
    stage.style.setProperty('--reveal', `${input.value}%`);
    input.setAttribute('aria-valuetext', `${input.value}% of the render shown over the golden, from the left`);
  };
  input.addEventListener('input', update);
  update();
  return h(
    'div',
    { class: 'visual-slider', role: 'group', 'aria-label': `Compare ${title}: render over golden` },
    stage,
    h('label', { for: input.id }, 'Reveal the render over the golden'),
    input,
    h('p', { class: 'visual-hint' }, 'Left of the line: this render. Right of it: the golden.'),
  );
}

function summaryText(review: VisualReviewStatus): string {
  const total = review.cases.length;
  if (review.problem) return 'The template cannot be checked.';
  if (total === 0) return 'No images to check.';
  const { differs, missing } = review.counts;
  if (differs === 0 && missing === 0) return `All ${total} images match their goldens${review.renderer.change ? ', but the renderer changed' : ''}.`;
  const parts = [differs > 0 ? `${differs} differ${differs === 1 ? 's' : ''}` : '', missing > 0 ? `${missing} ${missing === 1 ? 'has' : 'have'} no golden yet` : ''].filter(Boolean);
  return `${parts.join(', ')} (of ${total} images).`;
}

function acceptedMessage(result: VisualAcceptResult): string {
  const written = result.written.length;
  const left = result.review.counts.differs + result.review.counts.missing;
  const parts = [
    written > 0 ? `Accepted ${written === 1 ? result.written[0] : `${written} images`}: golden${written === 1 ? '' : 's'} written.` : 'Nothing to write: the goldens already hold these images.',
    result.renderer ? 'Renderer fingerprint written.' : '',
    left === 0 ? 'Every image now matches: npm run test:templates passes for this template.' : `${left} image${left === 1 ? '' : 's'} still differ${left === 1 ? 's' : ''}.`,
  ];
  return parts.filter(Boolean).join(' ');
}

function warningsText(warnings: readonly ReviewWarning[]): string {
  return warnings.length === 0 ? 'none' : warnings.map((w) => `${w.code}${w.field ? ` (${w.field})` : ''}`).join(', ');
}

function messageOf(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
