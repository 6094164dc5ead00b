import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { isMissingValue, mapRecord, readRecords, type ReadNote } from '../../data/index.js';
import { UsageError } from '../../errors/index.js';
import { extensionOf, spreadsheetSafeCast, targetOf, type Pipeline } from '../../pipeline/index.js';
import { buildImageUrl, parseTokenKey, TokenCodec, UrlSigner } from '../../server/index.js';

/**
 * `mergeshot urls <template> --data recipients.csv --base <url> [--sign|--token] [--prerender]`:
 * the data file back as CSV with one image URL per row, to upload to an email platform as a
 * custom field. `--prerender` requests each URL once, so the server's cache holds every image
 * before the send and the first open is a cache hit.
 */
export interface UrlsCommandOptions {
  readonly data: string;
  readonly base: string;
  readonly preset?: string | undefined;
  readonly size?: string | undefined;
  readonly column: string;
  readonly out?: string | undefined;
  readonly sign: boolean;
  readonly token: boolean;
  readonly prerender: boolean;
  readonly concurrency: number;
  readonly signal: AbortSignal;
  readonly stdin?: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  /** Notes about the data (e.g. read as Windows-1252); standard error when absent. */
  readonly stderr?: NodeJS.WritableStream;
}

export interface UrlsSummary {
  readonly rows: number;
  /** Rows that could not be read: written with an empty URL and named on standard error. */
  readonly unreadable: number;
  readonly out: string | undefined;
  readonly prerendered: number | undefined;
  readonly prerenderFailed: number;
}

export async function runUrls(pipeline: Pipeline, templateId: string, options: UrlsCommandOptions): Promise<UrlsSummary> {
  if (options.sign && options.token) throw new UsageError('USAGE', '--sign and --token: choose one (a token is already tamper-proof).');
  if (!/^https?:\/\/[^/]/i.test(options.base)) throw new UsageError('USAGE', `--base ${options.base}: expected an http(s) URL, e.g. https://img.example.com`);
  const template = await pipeline.registry.get(templateId);
  const server = pipeline.config.server;
  const signer = options.sign ? new UrlSigner(server.signingKeys) : undefined;
  if (signer && !signer.canSign) throw new UsageError('USAGE', '--sign needs a signing key: set MERGESHOT_SIGNING_KEYS (the first key signs).');
  if (options.token && !server.tokenKey) throw new UsageError('USAGE', '--token needs a key: set MERGESHOT_TOKEN_KEY (32 bytes, e.g. openssl rand -base64 32).');
  const tokens = options.token ? new TokenCodec(parseTokenKey(server.tokenKey!)) : undefined;
  if (template.manifest.access === 'signed' && !signer && !tokens) throw new UsageError('USAGE', `template "${template.id}" is "access": "signed": add --sign or --token, or the server will refuse the URLs.`);

  // Email images: without --preset, the one the server gives a .jpg URL of this template.
  const { presetName, preset, size } = targetOf(pipeline, template, { preset: options.preset, size: options.size, ext: options.preset ? undefined : 'jpg' });
  const ext = extensionOf(preset.format);
  const control: [string, string][] = [['preset', presetName], ...(options.size ? ([['size', size.name]] as [string, string][]) : [])];

  const fields = template.manifest.fields;
  const urlFor = (values: Readonly<Record<string, unknown>>): string => {
    const mapped = mapRecord(fields, values);
    const present = Object.entries(mapped).filter(([, value]) => !isMissingValue(value));
    if (tokens) return `${options.base.replace(/\/+$/, '')}/t/${tokens.encode({ template: template.id, data: Object.fromEntries(present), preset: presetName, size: options.size ? size.name : undefined })}.${ext}`;
    return buildImageUrl(options.base, template.id, ext, [...present.map(([field, value]) => [field, String(value)] as [string, string]), ...control], signer);
  };

  const output = options.out ? createWriteStream(resolve(options.out)) : options.stdout;
  let headers: string[] | undefined;
  // The data goes back out as CSV for spreadsheets and email platforms: a name like
  // `=HYPERLINK(…)` is written as text, not as a formula (pipeline/spreadsheetCells.ts).
  const csv = stringify({ header: false, cast: spreadsheetSafeCast });
  csv.pipe(output, { end: Boolean(options.out) });
  const prerender = createPrerenderer(options);
  let rows = 0;
  let unreadable = 0;
  const stderr = options.stderr ?? process.stderr;
  try {
    const onNote = (note: ReadNote) => stderr.write(`note: ${note.message}\n`);
    for await (const row of readRecords(options.data, { stdin: options.stdin, onHeader: (names) => (headers = [...names]), onNote })) {
      if (options.signal.aborted) break;
      if (!headers) headers = Object.keys(row.values);
      if (rows === 0) await write(csv, [...headers, options.column]);
      // Kept in place (the upload's rows stay aligned with the export) and said out loud.
      if (row.error) {
        unreadable += 1;
        stderr.write(`failed: row ${row.row}: ${row.error}; its URL is left empty\n`);
      }
      const url = row.error ? '' : urlFor(row.values);
      await write(csv, [...headers.map((name) => cell(row.values[name])), url]);
      rows += 1;
      if (url) await prerender.add(url);
    }
  } finally {
    csv.end();
    if (options.out) await finished(output);
  }
  const result = await prerender.done();
  return { rows, unreadable, out: options.out ? resolve(options.out) : undefined, prerendered: options.prerender ? result.ok : undefined, prerenderFailed: result.failed };
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function write(csv: ReturnType<typeof stringify>, record: string[]): Promise<void> {
  return new Promise((resolveWrite) => {
    if (csv.write(record)) resolveWrite();
    else csv.once('drain', () => resolveWrite());
  });
}

/** Requests URLs with bounded concurrency; an answer that is not a cacheable 200 counts as failed. */
function createPrerenderer(options: UrlsCommandOptions) {
  const inFlight = new Set<Promise<void>>();
  let ok = 0;
  let failed = 0;
  const fetchOne = async (url: string) => {
    try {
      const response = await fetch(url, { signal: AbortSignal.any([options.signal, AbortSignal.timeout(60_000)]) });
      await response.arrayBuffer();
      if (response.status === 200 && !response.headers.has('x-mergeshot-fallback')) ok += 1;
      else failed += 1;
    } catch {
      failed += 1;
    }
  };
  return {
    async add(url: string): Promise<void> {
      if (!options.prerender || options.signal.aborted) return;
      const job: Promise<void> = fetchOne(url).finally(() => inFlight.delete(job));
      inFlight.add(job);
      if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    },
    async done(): Promise<{ ok: number; failed: number }> {
      await Promise.all(inFlight);
      return { ok, failed };
    },
  };
}
