import { createHash } from 'node:crypto';
import type { RowOutcome } from '../pipeline/index.js';

/** How many row numbers a report lists per kind; the count is always complete. */
const listedRows = 200;
/** Rows of the random sample shown in the report. */
const sampleSize = 3;

export interface KindTally {
  readonly code: string;
  count: number;
  lastRow: number;
  /** The first rows affected, in input order of arrival (at most 200). */
  readonly rows: number[];
  /** The same rows, each with the fields it was found in (none for a row-wide finding). */
  readonly findings: { readonly row: number; readonly fields: string[] }[];
  /** Fields affected, with how many rows each. */
  readonly fields: Map<string, number>;
}

/** A row the report renders, and why. */
export interface ReportCase {
  readonly label: string;
  readonly row: number;
  readonly values: Readonly<Record<string, unknown>>;
}

interface Candidate extends ReportCase {
  readonly score: number;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const lengthOf = (value: unknown) => (typeof value === 'string' ? [...graphemes.segment(value)].length : 0);

/**
 * Everything preflight learns from the rows as they stream by, in memory bounded by the kinds
 * and cases it keeps, not by the file: counts, the first rows of each kind, one hash per row
 * for duplicates, and the values of only the few rows the report will render.
 */
export class PreflightCollector {
  readonly kinds = new Map<string, KindTally>();
  rows = 0;
  failed = 0;
  warned = 0;
  readonly duplicateRows: [row: number, firstRow: number][] = [];
  readonly duplicateRecipients: [row: number, firstRow: number][] = [];
  readonly #seenRecords = new Map<string, number>();
  readonly #seenRecipients = new Map<string, number>();
  readonly #longest = new Map<string, Candidate>();
  #smallest: Candidate | undefined;
  #mostFallbacks: Candidate | undefined;
  readonly #firstOfKind = new Map<string, ReportCase>();
  readonly #sample: ReportCase[] = [];
  #random: () => number;
  readonly #filledColumns = new Set<string>();
  readonly #textFields: readonly string[];

  constructor(options: { readonly textFields: readonly string[]; readonly seed?: number }) {
    this.#textFields = options.textFields;
    // A fixed seed: the same file gives the same sample, so two reports can be compared.
    let state = (options.seed ?? 0x2545f491) >>> 0;
    this.#random = () => {
      state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return state / 2 ** 32;
    };
  }

  /**
   * The raw row as read, every column of the source: which columns hold something, whole-row
   * duplicates (every column, not only the mapped fields: two people who share a first name are
   * two rows) and, separately, recipient duplicates on the key column (case and surrounding
   * spaces ignored: `ADA@example.com ` is `ada@example.com`). A row that could not be read has
   * no reliable columns: it takes part in recipients only.
   */
  observeInput(row: number, raw: Readonly<Record<string, unknown>>, recipientColumn: string | undefined, readable = true): void {
    for (const [column, value] of Object.entries(raw)) if (value !== undefined && value !== null && String(value).trim() !== '') this.#filledColumns.add(column);
    if (readable) firstSeen(this.#seenRecords, wholeRowKey(raw), row, this.duplicateRows);
    if (recipientColumn === undefined) return;
    const recipient = raw[recipientColumn];
    if (typeof recipient !== 'string' || recipient.trim() === '') return;
    firstSeen(this.#seenRecipients, recipient.normalize('NFC').trim().toLowerCase(), row, this.duplicateRecipients);
  }

  /** One measured (or failed) row, with the template's fields it was measured with. */
  add(outcome: RowOutcome, values: Readonly<Record<string, unknown>>): void {
    this.rows += 1;
    const { row } = outcome;
    if (outcome.status === 'failed') {
      this.failed += 1;
      this.#tally(outcome.error?.code === 'DATA_UNREADABLE' ? 'unreadable-row' : 'render-failed', undefined, row, values);
      return;
    }
    const measurement = outcome.measurement;
    const warnings: { readonly code: string; readonly field?: string | undefined }[] = [...outcome.warnings];
    if (measurement && measurement.alt.trim() === '') warnings.push({ code: 'alt-empty' });
    if (warnings.length) this.warned += 1;
    for (const warning of warnings) this.#tally(warning.code, warning.field, row, values);

    for (const field of this.#textFields) {
      const length = lengthOf(values[field]);
      const best = this.#longest.get(field);
      if (length > 0 && (!best || length > best.score)) this.#longest.set(field, { label: `longest ${field} (${length} characters)`, row, values, score: length });
    }
    for (const fit of measurement?.fitted ?? []) {
      if (!this.#smallest || fit.px < this.#smallest.score) this.#smallest = { label: `smallest fitted ${fit.field} (${Math.round(fit.px * 10) / 10} px, minimum ${fit.minPx} px)`, row, values, score: fit.px };
    }
    const fallbacks = warnings.filter((w) => w.code === 'fallback' || w.code === 'missing').length;
    if (fallbacks > 0 && (!this.#mostFallbacks || fallbacks > this.#mostFallbacks.score)) this.#mostFallbacks = { label: `most fallbacks (${fallbacks} field${fallbacks === 1 ? '' : 's'})`, row, values, score: fallbacks };
    // Reservoir sampling: every row has the same chance, whatever the file's length.
    if (this.#sample.length < sampleSize) this.#sample.push({ label: 'random sample', row, values });
    else {
      const slot = Math.floor(this.#random() * this.rows);
      if (slot < sampleSize) this.#sample[slot] = { label: 'random sample', row, values };
    }
  }

  /** Columns of the header that no row filled. */
  emptyColumns(headers: readonly string[]): string[] {
    return headers.filter((header) => header !== '' && !this.#filledColumns.has(header));
  }

  /** The rows the report renders: the worst cases, one per kind, a random sample; each row once. */
  cases(): ReportCase[] {
    const picked = [...this.#longest.values(), this.#smallest, this.#mostFallbacks, ...this.#firstOfKind.values(), ...this.#sample.sort((a, b) => a.row - b.row)].filter((c): c is ReportCase => c !== undefined);
    const byRow = new Map<number, ReportCase>();
    for (const c of picked) {
      const known = byRow.get(c.row);
      byRow.set(c.row, known ? { ...known, label: `${known.label}; ${c.label}` } : { label: c.label, row: c.row, values: c.values });
    }
    return [...byRow.values()];
  }

  #tally(code: string, field: string | undefined, row: number, values: Readonly<Record<string, unknown>>): void {
    let tally = this.kinds.get(code);
    if (!tally) {
      tally = { code, count: 0, lastRow: -1, rows: [], findings: [], fields: new Map() };
      this.kinds.set(code, tally);
    }
    // One row counts once per kind, however many fields it affects.
    if (tally.lastRow !== row) {
      tally.lastRow = row;
      tally.count += 1;
      if (tally.rows.length < listedRows) {
        tally.rows.push(row);
        tally.findings.push({ row, fields: [] });
      }
    }
    const finding = tally.findings.at(-1);
    if (field !== undefined && finding?.row === row && !finding.fields.includes(field)) finding.fields.push(field);
    if (field !== undefined) tally.fields.set(field, (tally.fields.get(field) ?? 0) + 1);
    if (!this.#firstOfKind.has(code) && code !== 'unreadable-row' && code !== 'render-failed') this.#firstOfKind.set(code, { label: `first ${code}`, row, values });
  }
}

/** Records `key` at its first row, or the pair (row, first row) when it was seen before. */
function firstSeen(seen: Map<string, number>, key: string, row: number, duplicates: [number, number][]): void {
  const first = seen.get(key);
  if (first === undefined) seen.set(key, row);
  else duplicates.push([row, first]);
}

/** One hash per row (not its values, which are personal data) over every column, in column-name order, values trimmed. */
function wholeRowKey(raw: Readonly<Record<string, unknown>>): string {
  const cells = Object.entries(raw)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([column, value]) => [column, typeof value === 'string' ? value.trim() : (value ?? null)]);
  return createHash('sha256').update(JSON.stringify(cells)).digest('base64url');
}
