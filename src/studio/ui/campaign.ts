import { api, ApiError } from './api.js';
import { announce, formatBytes, h, replace } from './dom.js';
import type { StudioContext, TemplateInfo } from './types.js';

/**
 * The Campaign tab: a CSV export → its columns mapped to the template's fields (matched by name
 * as `mergeshot render` matches them, editable) → preflight → a server batch with a live
 * progress bar → the zip and manifest.csv, with the failed and warned rows listed and viewable
 * → delete it all. Every step is a call of the JSON API (/api/uploads, /api/batches). Record
 * values never appear on this page: rows are shown by number, status, warning codes and reason.
 */

/** POST/GET /api/uploads/<id>. */
interface Upload {
  readonly id: string;
  readonly template: string;
  readonly createdAt: string;
  readonly bytes: number;
  readonly columns: readonly string[];
  readonly rows: number;
  readonly unreadable: readonly { readonly row: number; readonly reason: string }[];
  readonly unreadableCount: number;
  readonly notes: readonly string[];
  readonly fields: readonly string[];
  readonly mapping: Readonly<Record<string, string | null>>;
  readonly unusedColumns: readonly string[];
  /** Date or number columns that read two ways (absent on uploads stored before the format pass). */
  readonly formatQuestions?: readonly FormatQuestion[];
}

/** One column's question, as the server's FORMAT_AMBIGUOUS carries it: two candidate formats, two values read both ways. */
interface FormatQuestion {
  readonly field: string;
  readonly column?: string;
  readonly kind: 'date' | 'number';
  readonly formats: readonly [string, string];
  readonly samples: readonly { readonly value: string; readonly readings: readonly { readonly format: string; readonly value?: string }[] }[];
}

/** GET /api/uploads: the uploads kept on the server. */
interface UploadListing {
  readonly uploads: readonly Pick<Upload, 'id' | 'template' | 'createdAt' | 'bytes' | 'rows' | 'unreadableCount'>[];
}

/** POST /api/uploads/<id>/preflight. */
interface Preflight {
  readonly rows: number;
  readonly failed: number;
  readonly warned: number;
  readonly clean: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly findings: readonly { readonly row: number; readonly codes: readonly string[] }[];
  readonly duplicateRows: number;
  readonly duplicateRecipients: number;
  readonly emptyColumns: readonly string[];
  readonly report: string;
}

/** GET /api/batches/<id>. */
interface Batch {
  readonly id: string;
  readonly template: string;
  readonly status: 'queued' | 'running' | 'done';
  readonly total: number;
  readonly done: number;
  readonly ok: number;
  readonly warning: number;
  readonly failed: number;
  readonly notes?: readonly string[];
}

/** GET /api/batches/<id>/rows: manifest.csv's lines, with a link to each row's image. */
interface BatchRows {
  readonly total: number;
  readonly rows: readonly { readonly row: number; readonly status: string; readonly warnings: string; readonly error: string; readonly width: number; readonly height: number; readonly image: string | null }[];
}

/** Progress is read this often while a batch runs: often enough to move smoothly, rare enough to cost nothing. */
const pollMs = 600;
/** Flagged rows listed on the page; manifest.csv has every row. */
const listedRows = 200;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function mountCampaign(root: HTMLElement, template: TemplateInfo, _context: StudioContext): void {
  const id = template.id;
  let upload: Upload | undefined;
  /** Aborted when the view goes away or starts over: stops the progress poll and requests in flight. */
  let work = new AbortController();

  // Shown here, read out through the page's one live region (announce), so it is not said twice.
  const status = h('p', { class: 'campaign-status' });
  const say = (message: string, kind: 'info' | 'error' = 'info') => {
    status.className = `campaign-status ${kind === 'error' ? 'error' : ''}`;
    status.textContent = message;
    announce(message);
  };
  const fail = (what: string, error: unknown) => {
    if (error instanceof DOMException && error.name === 'AbortError') return;
    const detail = error instanceof ApiError ? `${error.message}${error.hint ? ` ${error.hint}` : ''}` : 'the server could not be reached.';
    say(`${what}: ${detail}`, 'error');
  };

  // Step 1: the file.
  const fileInput = h('input', { type: 'file', id: 'campaign-file', accept: '.csv,.tsv,.txt,text/csv', 'aria-describedby': 'campaign-file-hint' });
  const uploadSection = section(
    'campaign-upload',
    '1. Upload the list',
    h('p', { id: 'campaign-file-hint', class: 'muted' }, 'A CSV export (comma, semicolon or tab; UTF-8 or Excel’s Windows-1252). It is stored only in the studio’s data folder, never logged, until you delete it below.'),
    h('div', { class: 'campaign-row' }, h('label', { for: 'campaign-file' }, 'CSV file'), fileInput),
  );
  const earlier = h('div', { class: 'campaign-earlier' });
  const mappingSection = section('campaign-mapping', '2. Match columns to fields');
  const preflightSection = section('campaign-preflight', '3. Preflight');
  const renderSection = section('campaign-render', '4. Render');
  const resultsSection = section('campaign-results', '5. Results');
  const deleteButton = h('button', { type: 'button', class: 'danger', disabled: true }, 'Delete upload and results');
  const finish = h('div', { class: 'campaign-delete' }, deleteButton, h('span', { class: 'muted' }, 'Removes the CSV, its preflight report and the rendered images from the server.'));
  for (const later of [mappingSection, preflightSection, renderSection, resultsSection]) later.hidden = true;

  replace(
    root,
    h('div', { class: 'campaign' }, h('h2', {}, 'Campaign'), h('p', { class: 'muted' }, `From a CSV export to one ${template.name} image per row, with a preflight first.`), status, uploadSection, earlier, mappingSection, preflightSection, renderSection, resultsSection, finish),
  );

  // The view may be taken off the page (another template opened, the tab rebuilt): stop polling then.
  const gone = new MutationObserver(() => {
    if (!root.isConnected) {
      work.abort();
      gone.disconnect();
    }
  });
  gone.observe(document.body, { childList: true, subtree: true });
  addEventListener('pagehide', () => work.abort(), { once: true });

  const showEarlier = async () => {
    try {
      const { uploads } = await api.get<UploadListing>(`/api/uploads?template=${encodeURIComponent(id)}`, work.signal);
      const others = uploads.filter((item) => item.id !== upload?.id);
      if (others.length === 0) {
        replace(earlier);
        return;
      }
      replace(
        earlier,
        h('h3', {}, 'Earlier uploads kept on the server'),
        h(
          'ul',
          { class: 'campaign-list' },
          ...others.map((item) =>
            h(
              'li',
              {},
              `${new Date(item.createdAt).toLocaleString()} · ${plural(item.rows, 'row')} · ${formatBytes(item.bytes)} `,
              h('button', { type: 'button', class: 'quiet', onclick: () => void removeUpload(item.id, false) }, 'Delete'),
            ),
          ),
        ),
      );
    } catch (error) {
      fail('Could not list earlier uploads', error);
    }
  };

  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file) void uploadFile(file);
  });

  async function uploadFile(file: File): Promise<void> {
    work.abort();
    work = new AbortController();
    say(`Uploading ${formatBytes(file.size)}…`);
    try {
      // A refused file leaves the previous upload's steps as they were; an accepted one starts over (the previous one is listed under earlier uploads).
      upload = await api.post<Upload>(`/api/uploads?template=${encodeURIComponent(id)}`, file, work.signal);
    } catch (error) {
      fail('The file was not accepted', error);
      return;
    }
    resultsSection.hidden = true;
    deleteButton.disabled = false;
    const unreadable = upload.unreadableCount ? `, ${plural(upload.unreadableCount, 'row')} unreadable` : '';
    say(`Uploaded: ${plural(upload.rows, 'row')}, ${plural(upload.columns.length, 'column')}${unreadable}.`);
    showMapping(upload);
    void showEarlier();
  }

  // Step 2: the mapping, one select per field.
  const selects = new Map<string, HTMLSelectElement>();
  /** Field → the select answering its column's format question, asked at upload. */
  const formatSelects = new Map<string, HTMLSelectElement>();
  const presetSelect = h('select', { id: 'campaign-preset' }, h('option', { value: '' }, `Template default${template.defaultPreset ? ` (${template.defaultPreset})` : ''}`), ...Object.entries(template.presets).map(([name, preset]) => h('option', { value: name }, `${name} · ${preset.format}`)));
  const sizeSelect = h('select', { id: 'campaign-size' }, h('option', { value: '' }, `Default (${template.width}×${template.height})`), ...Object.entries(template.sizes).map(([name, size]) => h('option', { value: name }, `${name} (${size.width}×${size.height})`)));

  function showMapping(current: Upload): void {
    selects.clear();
    const rows = current.fields.map((field) => {
      const auto = current.mapping[field] ?? null;
      const select = h(
        'select',
        { id: `campaign-map-${field}`, 'aria-describedby': `campaign-map-${field}-note` },
        // A column matched by name cannot be switched off (as with `mergeshot render --map`): only redirected.
        auto === null ? h('option', { value: '' }, '(not mapped)') : null,
        ...current.columns.filter((column) => column !== '').map((column) => h('option', { value: column, selected: column === auto }, column)),
      );
      if (auto === null) select.value = '';
      selects.set(field, select);
      const hasFallback = template.fields[field]?.fallback !== undefined && template.fields[field]?.fallback !== null;
      const how = () => (select.value !== (auto ?? '') ? 'mapped by hand' : auto !== null ? 'matched by name' : `no column has this name: choose one, or every row ${hasFallback ? 'takes the fallback' : 'leaves it empty'}`);
      const note = h('span', { id: `campaign-map-${field}-note`, class: 'muted' }, how());
      select.addEventListener('change', () => {
        note.textContent = how();
        unused.textContent = unusedText(current);
        // A preflight of another mapping no longer describes what would be rendered.
        replace(preflightResult);
      });
      return h('tr', {}, h('th', { scope: 'row' }, h('label', { for: `campaign-map-${field}` }, field), spec(field)), h('td', {}, select), h('td', {}, note));
    });
    const unused = h('p', { class: 'campaign-unused' }, unusedText(current));
    replace(
      mappingSection.querySelector('.campaign-body')!,
      h('table', { class: 'campaign-table' }, h('caption', { class: 'visually-hidden' }, 'Template fields and the CSV column that feeds each'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Column'), h('th', { scope: 'col' }, 'How'))), h('tbody', {}, ...rows)),
      unused,
      current.unreadable.length ? h('div', { class: 'campaign-unreadable' }, h('h3', {}, 'Unreadable rows'), h('ul', {}, ...current.unreadable.map((row) => h('li', {}, row.reason))), current.unreadableCount > current.unreadable.length ? h('p', { class: 'muted' }, `…and ${current.unreadableCount - current.unreadable.length} more.`) : null, h('p', { class: 'muted' }, 'They stay in the campaign as failed rows, so the manifest names them.')) : null,
      ...current.notes.map((note) => h('p', { class: 'campaign-note' }, note)),
      ...formatQuestions(current),
      h('div', { class: 'campaign-row' }, h('label', { for: 'campaign-preset' }, 'Campaign preset'), presetSelect, h('label', { for: 'campaign-size' }, 'Campaign size'), sizeSelect),
    );
    mappingSection.hidden = false;
    showPreflightStep();
    showRenderStep();
    mappingSection.querySelector('h3')?.focus();
  }

  /** A select per ambiguous column: each option is a format with the column's two sample values read that way. */
  function formatQuestions(current: Upload): HTMLElement[] {
    formatSelects.clear();
    return (current.formatQuestions ?? []).map((question) => {
      const reading = (format: string) =>
        question.samples.map((sample) => `${sample.value} is ${showReading(question.kind, sample.readings.find((r) => r.format === format)?.value)}`).join(', ');
      const select = h('select', { id: `campaign-format-${question.field}` }, h('option', { value: '' }, 'Choose the format…'), ...question.formats.map((format) => h('option', { value: format }, `${format}: ${reading(format)}`)));
      select.addEventListener('change', () => replace(preflightResult));
      formatSelects.set(question.field, select);
      const what = question.kind === 'date' ? 'dates' : 'numbers';
      return h(
        'div',
        { class: 'campaign-format' },
        h('label', { for: select.id }, `Column “${question.column ?? question.field}” (field ${question.field}): its ${what} read two ways. Which format does it use?`),
        // Shown, not only inside the closed select: the two readings side by side make the answer plain.
        h('ul', { class: 'campaign-list' }, ...question.samples.map((sample) => h('li', {}, `${sample.value}: ${sample.readings.map((r) => `${showReading(question.kind, r.value)} as ${r.format}`).join(', or ')}`))),
        select,
      );
    });
  }

  /** The answers to send as `formats`: only the questions answered. */
  const declaredFormats = (): Record<string, string> => Object.fromEntries([...formatSelects].filter(([, select]) => select.value !== '').map(([field, select]) => [field, select.value]));

  const spec = (field: string) => {
    const info = template.fields[field];
    return info ? h('span', { class: 'campaign-type' }, ` ${info.type}${info.fallback !== undefined && info.fallback !== null ? `, fallback “${String(info.fallback)}”` : ''}`) : null;
  };

  function unusedText(current: Upload): string {
    const chosen = new Set([...selects.values()].map((select) => select.value));
    const unused = current.columns.filter((column) => column !== '' && !chosen.has(column));
    return unused.length ? `Columns not used (their values go nowhere): ${unused.join(', ')}` : 'Every column is used.';
  }

  /** The mapping to send: only the fields mapped by hand, exactly what `--map field=Column` would say. */
  const handMapping = (): Record<string, string> => {
    const map: Record<string, string> = {};
    for (const [field, select] of selects) if (select.value !== '' && select.value !== (upload?.mapping[field] ?? '')) map[field] = select.value;
    return map;
  };
  const target = () => ({ template: id, ...(presetSelect.value ? { preset: presetSelect.value } : {}), ...(sizeSelect.value ? { size: sizeSelect.value } : {}) });

  // Step 3: preflight.
  const preflightButton = h('button', { type: 'button' }, 'Run preflight');
  const preflightResult = h('div', { class: 'campaign-preflight-result' });
  // Another preset or size measures differently: the shown preflight no longer applies.
  for (const select of [presetSelect, sizeSelect]) select.addEventListener('change', () => replace(preflightResult));
  preflightButton.addEventListener('click', () => void runPreflight());
  function showPreflightStep(): void {
    replace(preflightSection.querySelector('.campaign-body')!, h('p', { class: 'muted' }, 'Measures every row (fallbacks, overflow, unreplaced merge tags, broken photos) without rendering the campaign.'), preflightButton, preflightResult);
    replace(preflightResult);
    preflightSection.hidden = false;
  }

  async function runPreflight(): Promise<void> {
    if (!upload) return;
    preflightButton.disabled = true;
    say('Preflight running: every row is measured…');
    try {
      const result = await api.post<Preflight>(`/api/uploads/${upload.id}/preflight`, { ...target(), map: handMapping(), formats: declaredFormats() }, work.signal);
      showPreflight(result);
      say(`Preflight done: ${plural(result.rows, 'row')}, ${result.clean} clean, ${result.warned} with warnings, ${result.failed} would fail.`);
    } catch (error) {
      fail('Preflight failed', error);
    } finally {
      preflightButton.disabled = false;
    }
  }

  function showPreflight(result: Preflight): void {
    const kinds = Object.entries(result.counts);
    replace(
      preflightResult,
      h('dl', { class: 'campaign-counts' }, ...count('Rows', result.rows), ...count('Clean', result.clean), ...count('With warnings', result.warned), ...count('Would fail', result.failed), ...count('Duplicate rows', result.duplicateRows)),
      kinds.length ? h('table', { class: 'campaign-table' }, h('caption', {}, 'Findings'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Finding'), h('th', { scope: 'col' }, 'Rows'))), h('tbody', {}, ...kinds.map(([code, rows]) => h('tr', {}, h('td', {}, h('code', {}, code)), h('td', { class: 'number' }, rows))))) : h('p', {}, 'No findings: every row renders as designed.'),
      result.findings.length ? h('details', {}, h('summary', {}, `Rows with findings (${result.findings.length}${result.findings.length >= 200 ? ', the first ones' : ''})`), h('ul', { class: 'campaign-list' }, ...result.findings.map((finding) => h('li', {}, `Row ${finding.row}: `, ...finding.codes.map((code) => h('code', {}, code, ' ')))))) : null,
      h('p', {}, h('a', { href: result.report, target: '_blank', rel: 'noopener' }, 'Open the full preflight report'), ' (opens in a new tab)'),
    );
  }

  // Step 4: the batch.
  const renderButton = h('button', { type: 'button' }, 'Render campaign');
  const progress = h('progress', { id: 'campaign-progress', max: 1, value: 0, 'aria-describedby': 'campaign-progress-text' });
  const progressText = h('span', { id: 'campaign-progress-text', class: 'campaign-progress-text' });
  renderButton.addEventListener('click', () => void startBatch());
  function showRenderStep(): void {
    progress.value = 0;
    progressText.textContent = '';
    replace(renderSection.querySelector('.campaign-body')!, h('p', { class: 'muted' }, 'Renders one image per row on the server with the mapping above; you can leave this tab meanwhile.'), renderButton, h('div', { class: 'campaign-progress', hidden: true }, h('label', { for: 'campaign-progress' }, 'Progress'), progress, progressText));
    renderSection.hidden = false;
  }

  async function startBatch(): Promise<void> {
    if (!upload) return;
    renderButton.disabled = true;
    resultsSection.hidden = true;
    let batch: Batch;
    try {
      batch = await api.post<Batch>('/api/batches', { ...target(), upload: upload.id, map: handMapping(), formats: declaredFormats() }, work.signal);
    } catch (error) {
      renderButton.disabled = false;
      fail('The campaign could not start', error);
      return;
    }
    renderSection.querySelector<HTMLElement>('.campaign-progress')!.hidden = false;
    say(`Rendering ${plural(batch.total, 'row')}…`);
    await follow(batch.id, work.signal);
    renderButton.disabled = false;
  }

  /** Polls the batch until it is done or the view goes away; one request at a time, a fixed pause between. */
  async function follow(batchId: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let current: Batch;
      try {
        current = await api.get<Batch>(`/api/batches/${batchId}`, signal);
      } catch (error) {
        fail('Lost track of the campaign', error);
        return;
      }
      progress.max = Math.max(current.total, 1);
      progress.value = current.done;
      progressText.textContent = `${current.done} of ${current.total} rows · ${current.failed} failed · ${current.warning} with warnings`;
      if (current.status === 'done') {
        say(`Campaign rendered: ${current.ok + current.warning} images, ${plural(current.failed, 'row')} failed.`);
        await showResults(current);
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }

  // Step 5: downloads and the rows to look at.
  const viewer = h('dialog', { class: 'campaign-viewer', 'aria-labelledby': 'campaign-viewer-title' });
  root.append(viewer);

  async function showResults(done: Batch): Promise<void> {
    let flagged: BatchRows;
    try {
      flagged = await api.get<BatchRows>(`/api/batches/${done.id}/rows?status=failed,warning&limit=${listedRows}`, work.signal);
    } catch (error) {
      fail('Could not list the rows', error);
      return;
    }
    const short = done.id.slice(0, 8);
    const zipButton = h('button', { type: 'button' }, 'Download images (zip)');
    const manifestButton = h('button', { type: 'button', class: 'quiet' }, 'Download manifest.csv');
    zipButton.addEventListener('click', () => void api.download(`/api/batches/${done.id}/download`, `${done.template}-${short}.zip`).catch((error: unknown) => fail('Download failed', error)));
    manifestButton.addEventListener('click', () => void api.download(`/api/batches/${done.id}/manifest.csv`, `${done.template}-${short}-manifest.csv`).catch((error: unknown) => fail('Download failed', error)));
    replace(
      resultsSection.querySelector('.campaign-body')!,
      h('div', { class: 'campaign-row' }, zipButton, manifestButton),
      flagged.total === 0
        ? h('p', {}, 'Every row rendered without a warning.')
        : h(
            'table',
            { class: 'campaign-table campaign-rows' },
            h('caption', {}, `Failed and warned rows (${flagged.total}${flagged.total > flagged.rows.length ? `, the first ${flagged.rows.length}; manifest.csv lists all` : ''})`),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Row'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'What happened'), h('th', { scope: 'col' }, 'Image'))),
            h('tbody', {}, ...flagged.rows.map((row) => rowLine(row))),
          ),
    );
    resultsSection.hidden = false;
  }

  function rowLine(row: BatchRows['rows'][number]): HTMLTableRowElement {
    const what = row.error || row.warnings.split(';').filter(Boolean).join(', ');
    const view = row.image ? h('button', { type: 'button', class: 'quiet', 'aria-label': `View row ${row.row}` }, 'View') : h('span', { class: 'muted' }, 'no image');
    if (row.image) view.addEventListener('click', () => openViewer(row));
    return h('tr', { class: `status-${row.status}` }, h('td', { class: 'number' }, row.row), h('td', {}, h('span', { class: `badge ${row.status === 'failed' ? 'error' : 'warn'}` }, row.status)), h('td', {}, what), h('td', {}, view));
  }

  function openViewer(row: BatchRows['rows'][number]): void {
    const close = h('button', { type: 'button', class: 'quiet' }, 'Close');
    close.addEventListener('click', () => viewer.close());
    replace(
      viewer,
      h('h3', { id: 'campaign-viewer-title' }, `Row ${row.row}`),
      h('img', { src: row.image ?? '', width: row.width, height: row.height, alt: `The image rendered for row ${row.row}` }),
      h('p', { class: 'muted' }, row.warnings ? `Warnings: ${row.warnings.split(';').join(', ')}` : 'No warnings.'),
      close,
    );
    viewer.showModal();
    close.focus();
  }

  // Delete: the upload, its report and its batches, on the server.
  deleteButton.addEventListener('click', () => {
    if (upload) void removeUpload(upload.id, true);
  });

  async function removeUpload(uploadId: string, isCurrent: boolean): Promise<void> {
    if (!confirm('Delete this upload, its preflight report and its rendered images from the server?')) return;
    if (isCurrent) work.abort();
    try {
      await api.delete(`/api/uploads/${uploadId}`);
    } catch (error) {
      fail('Could not delete', error);
      return;
    }
    if (isCurrent) {
      work = new AbortController();
      upload = undefined;
      fileInput.value = '';
      deleteButton.disabled = true;
      for (const later of [mappingSection, preflightSection, renderSection, resultsSection]) later.hidden = true;
      fileInput.focus();
    }
    say('Deleted the upload, its preflight report and its rendered images from the server.');
    void showEarlier();
  }

  void showEarlier();
}

/** One numbered step: a heading that takes focus when the step opens, and a body. */
function section(id: string, title: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { id, class: 'campaign-step', 'aria-labelledby': `${id}-title` }, h('h3', { id: `${id}-title`, tabindex: -1 }, title), h('div', { class: 'campaign-body' }, ...children));
}

function count(label: string, value: number): HTMLElement[] {
  return [h('dt', {}, label), h('dd', {}, value)];
}

/** "6 December 2025": a reading spelled out, so the right one is plain at a glance. */
function showReading(kind: 'date' | 'number', value: string | undefined): string {
  if (value === undefined) return kind === 'date' ? 'no date' : 'no number';
  return kind === 'date' ? new Date(`${value}T00:00:00Z`).toLocaleDateString(undefined, { dateStyle: 'long', timeZone: 'UTC' }) : value;
}
