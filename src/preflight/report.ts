/** One row the report rendered, with its image beside report.html, or why it could not be. */
export interface RenderedCase {
  readonly label: string;
  readonly row: number;
  readonly file?: string;
  readonly width?: number;
  readonly height?: number;
  readonly bytes?: number;
  readonly warnings?: readonly string[];
  readonly error?: string;
}

/** summary.json: what preflight found, for machines; report.html shows the same for people. */
export interface PreflightSummary {
  readonly template: string;
  readonly preset: string;
  readonly size: string;
  readonly rows: number;
  /** Rows that would fail (unreadable, or the render failed): exit code 1 when any. */
  readonly failed: number;
  readonly warned: number;
  readonly clean: number;
  readonly kinds: readonly {
    readonly code: string;
    readonly rows: number;
    readonly firstRows: readonly number[];
    /** firstRows with the fields of each row's finding (empty for a row-wide one: unreadable, failed, alt). */
    readonly firstFindings: readonly { readonly row: number; readonly fields: readonly string[] }[];
    readonly fields: Readonly<Record<string, number>>;
  }[];
  /** Rows identical to an earlier row in every column of the source (values trimmed). */
  readonly duplicateRows: { readonly count: number; readonly firstPairs: readonly (readonly [number, number])[] };
  /** Rows whose key column (the recipient) repeats an earlier row's, case and spaces ignored. */
  readonly duplicateRecipients: { readonly column: string | null; readonly count: number; readonly firstPairs: readonly (readonly [number, number])[] };
  readonly emptyColumns: readonly string[];
  readonly unusedColumns: readonly string[];
  readonly mapping: readonly { readonly field: string; readonly column: string | undefined }[];
  readonly notes: readonly string[];
  readonly cases: readonly RenderedCase[];
  readonly measuredRowsPerSecond: number;
  readonly interrupted: boolean;
}

/** What each kind means to a marketer, and what to do about it. */
const kindText: Readonly<Record<string, { title: string; fix: string }>> = {
  'unreadable-row': { title: 'Rows that cannot be read', fix: 'Fix the file at these lines (an unclosed quote, a broken line); they would fail.' },
  'render-failed': { title: 'Rows whose image fails', fix: 'These rows would get no image. See the error in summary.json.' },
  fallback: { title: 'Fallback used', fix: 'The value was missing or invalid; the template’s fallback is shown instead.' },
  missing: { title: 'Missing, no fallback', fix: 'Shown empty. Fill the column or give the field a fallback.' },
  'unreplaced-merge-tag': { title: 'Unreplaced merge tags', fix: 'The export still holds a platform tag such as *|FNAME|*: export the values, not the tags.' },
  invalid: { title: 'Invalid values', fix: 'The value does not fit the field’s type (a date, a number, a colour); the fallback is used.' },
  truncated: { title: 'Cut to the maximum length', fix: 'Shortened with an ellipsis. Check these rows read well.' },
  overflow: { title: 'Text overflows its box', fix: 'Even at the smallest size the text does not fit: shorten the value or the template must allow more.' },
  'image-failed': { title: 'Images that fail', fix: 'The photo could not be fetched (unreachable, too big, not an image); the fallback is shown.' },
  'request-blocked': { title: 'Blocked requests', fix: 'The page asked for something outside its allow-list; it was refused.' },
  'missing-glyph': { title: 'Characters no font can draw', fix: 'These characters would show as boxes.' },
  encoding: { title: 'Encoding damage', fix: 'The file had bytes that are not UTF-8; re-export it as UTF-8.' },
  'over-budget': { title: 'Over the channel’s size budget', fix: 'The encoded image is larger than the preset allows.' },
  'alt-empty': { title: 'Empty alt text', fix: 'Screen readers and image-blocking email clients get nothing: give the template an alt text.' },
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** "3 (name), 5 (date, venue), 9": each row with the fields its finding is in. */
function rowList(findings: readonly { readonly row: number; readonly fields: readonly string[] }[], total: number): string {
  const shown = findings
    .slice(0, 40)
    .map(({ row, fields }) => (fields.length ? `${row} (${fields.map(escapeHtml).join(', ')})` : String(row)))
    .join(', ');
  return total > 40 ? `${shown} … and ${total - 40} more (see summary.json)` : shown;
}

/** report.html: self-contained (inline CSS, no script, no network), images in images/ beside it. */
export function reportHtml(summary: PreflightSummary): string {
  const verdict = summary.failed > 0 ? `${summary.failed} of ${summary.rows} rows would fail` : summary.warned > 0 ? `Ready, with ${summary.warned} rows to look at` : 'Ready to send';
  const tone = summary.failed > 0 ? 'bad' : summary.warned > 0 ? 'warn' : 'good';
  const kinds = summary.kinds
    .map((k) => {
      const text = kindText[k.code] ?? { title: k.code, fix: '' };
      const fields = Object.entries(k.fields).map(([field, n]) => `${escapeHtml(field)} (${n})`).join(', ');
      return `<tr><th scope="row"><code>${escapeHtml(k.code)}</code><br>${escapeHtml(text.title)}</th><td class="n">${k.rows}</td><td>${fields || '—'}</td><td>${escapeHtml(text.fix)}<div class="rows">rows ${rowList(k.firstFindings, k.rows)}</div></td></tr>`;
    })
    .join('\n');
  const mapping = summary.mapping.map((m) => `<tr><th scope="row">${escapeHtml(m.field)}</th><td>${m.column === undefined ? '<span class="warn-text">no column: every row uses the fallback</span>' : escapeHtml(m.column)}</td></tr>`).join('\n');
  const cases = summary.cases
    .map((c) => {
      const caption = `<figcaption><strong>Row ${c.row}</strong> · ${escapeHtml(c.label)}<br>${c.error ? `<span class="bad-text">${escapeHtml(c.error)}</span>` : (c.warnings ?? []).length ? (c.warnings ?? []).map((w) => `<code>${escapeHtml(w)}</code>`).join(' ') : 'no warnings'}</figcaption>`;
      return c.file ? `<figure><img src="${escapeHtml(c.file)}" width="${c.width}" height="${c.height}" alt="Row ${c.row}: ${escapeHtml(c.label)}">${caption}</figure>` : `<figure class="failed">${caption}</figure>`;
    })
    .join('\n');
  const pairs = (p: readonly (readonly [number, number])[]) => p.slice(0, 20).map(([row, first]) => `${row} (same as ${first})`).join(', ');
  const facts = [
    summary.duplicateRows.count ? `<li><strong>${plural(summary.duplicateRows.count, 'duplicate row')}</strong> (identical in every column): ${pairs(summary.duplicateRows.firstPairs)}</li>` : '',
    summary.duplicateRecipients.column ? `<li>${summary.duplicateRecipients.count ? `<strong>${plural(summary.duplicateRecipients.count, 'duplicate recipient')}</strong> in “${escapeHtml(summary.duplicateRecipients.column)}”: ${pairs(summary.duplicateRecipients.firstPairs)}` : `No duplicate recipients in “${escapeHtml(summary.duplicateRecipients.column)}”`}</li>` : '<li>No recipient column found (e-mail, recipient): duplicates by recipient not checked. Use --recipient.</li>',
    summary.emptyColumns.length ? `<li><strong>Empty columns</strong>: ${summary.emptyColumns.map((c) => `“${escapeHtml(c)}”`).join(', ')}</li>` : '',
    summary.unusedColumns.length ? `<li>Columns the template does not use: ${summary.unusedColumns.map((c) => `“${escapeHtml(c)}”`).join(', ')}</li>` : '',
    ...summary.notes.map((n) => `<li>${escapeHtml(n)}</li>`),
  ].filter(Boolean);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preflight: ${escapeHtml(summary.template)} · ${summary.rows} rows</title>
<style>
  :root { color-scheme: light; --ink: #1b1d29; --muted: #5d6275; --line: #e3e5ec; --good: #137a3e; --warn: #9a5b00; --bad: #b3261e; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f7fa; }
  main { max-width: 1180px; margin: 0 auto; padding: 32px 24px 64px; }
  h1 { font-size: 26px; margin: 0 0 4px; }
  h2 { font-size: 19px; margin: 36px 0 12px; }
  .meta { color: var(--muted); margin: 0 0 20px; }
  .verdict { display: inline-block; padding: 10px 16px; border-radius: 10px; font-weight: 700; font-size: 18px; }
  .verdict.good { background: #e3f5ea; color: var(--good); } .verdict.warn { background: #fff1db; color: var(--warn); } .verdict.bad { background: #fde7e5; color: var(--bad); }
  .counts { display: flex; gap: 12px; margin: 16px 0; flex-wrap: wrap; }
  .counts div { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 10px 16px; min-width: 110px; }
  .counts b { display: block; font-size: 22px; }
  table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
  th, td { text-align: left; vertical-align: top; padding: 10px 12px; border-bottom: 1px solid var(--line); }
  thead th { background: #eef0f5; font-size: 13px; color: var(--muted); }
  td.n { font-variant-numeric: tabular-nums; font-weight: 700; }
  .rows { color: var(--muted); font-size: 13px; margin-top: 4px; }
  code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; background: #eef0f5; padding: 1px 5px; border-radius: 4px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 18px; }
  figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
  figure img { display: block; width: 100%; height: auto; background: repeating-conic-gradient(#eee 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
  figcaption { padding: 10px 12px; font-size: 13px; }
  .warn-text { color: var(--warn); } .bad-text { color: var(--bad); }
  ul { padding-left: 20px; } li { margin: 4px 0; }
</style>
</head>
<body>
<main>
<h1>Preflight: ${escapeHtml(summary.template)}</h1>
<p class="meta">Preset <code>${escapeHtml(summary.preset)}</code> · size <code>${escapeHtml(summary.size)}</code> · ${summary.rows} rows measured at ${summary.measuredRowsPerSecond} rows/s${summary.interrupted ? ' · <strong class="bad-text">interrupted: not every row was checked</strong>' : ''}</p>
<p class="verdict ${tone}">${escapeHtml(verdict)}</p>
<div class="counts"><div><b>${summary.rows}</b>rows</div><div><b>${summary.clean}</b>clean</div><div><b>${summary.warned}</b>with warnings</div><div><b>${summary.failed}</b>would fail</div></div>

<h2>What was found</h2>
${summary.kinds.length ? `<table><thead><tr><th>Kind</th><th>Rows</th><th>Fields</th><th>What it means · rows affected</th></tr></thead><tbody>\n${kinds}\n</tbody></table>` : '<p>No warnings on any row.</p>'}

<h2>The list itself</h2>
<ul>${facts.join('\n') || '<li>No duplicates, no empty columns.</li>'}</ul>

<h2>Worst cases, rendered</h2>
<p class="meta">Each image is exactly what the <code>${escapeHtml(summary.preset)}</code> preset ships.</p>
<div class="grid">
${cases || '<p>No rows to show.</p>'}
</div>

<h2>Column mapping used</h2>
<table><thead><tr><th>Field</th><th>Column</th></tr></thead><tbody>
${mapping}
</tbody></table>
<p class="meta">The same figures for machines: <a href="summary.json">summary.json</a>.</p>
</main>
</body>
</html>
`;
}
