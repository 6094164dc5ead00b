import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataError, isMergeshotError, MergeshotError } from '../../errors/index.js';
import { writeFileAtomic } from '../../pipeline/index.js';
import type { LoadedTemplate } from '../../template/index.js';
import { csvBodyTranscoder } from './csvBody.js';
import { describeCsv, type CsvDescription } from './describeCsv.js';

export type { UnreadableRow, WarnedRow } from './describeCsv.js';

/**
 * The studio's uploaded CSVs, one folder per upload under the studio's data folder, because
 * they are personal data and must be findable and deletable as one thing:
 *   uploads/<id>/data.csv      the bytes as sent (UTF-8 when the request declared another charset)
 *   uploads/<id>/upload.json   what the file holds: its columns, row count, unreadable and warned rows,
 *                              and the date/number question (two sample values: see CsvDescription)
 *   uploads/<id>/preflight/    the last preflight report of this upload
 * upload.json is written last, so a folder without it is an upload cut short by a crash: it is
 * removed when the store opens rather than left behind with someone's data in it.
 *
 * Limits (studio.* settings): at most `maxRows` data rows per upload, and the whole data folder
 * (uploads, reports, campaign images) within `quota.maxBytes`; each refusal names its setting.
 */

export interface UploadLimits {
  /** studio.uploadMaxRows. */
  readonly maxRows: number;
  /** The studio's data folder and its quota (studio.dataMaxBytes): uploads are only part of it. */
  readonly quota: { readonly dir: string; readonly maxBytes: number };
}

/** An upload's request body, read as it arrives. */
export interface UploadBody {
  readonly stream: Readable;
  readonly contentType: string;
  /** Content-Length, when the client sent one. */
  readonly length: number | undefined;
  /** server.uploadMaxBytes. */
  readonly maxBytes: number;
}

/**
 * An upload: what describeCsv found (columns, rows, the first unreadable and warned rows with
 * complete counts, the reader's notes such as a Windows-1252 reading, the format question) and
 * where it came from. Uploads stored before the format pass lack `warned`, `warnedCount` and
 * `formatQuestions`.
 */
export interface UploadInfo extends Omit<CsvDescription, 'warned' | 'warnedCount' | 'formatQuestions'>, Partial<Pick<CsvDescription, 'warned' | 'warnedCount' | 'formatQuestions'>> {
  readonly id: string;
  /** The template it was uploaded for: the mapping the studio shows first is against its fields. */
  readonly template: string;
  readonly createdAt: string;
  readonly bytes: number;
}

/** How many unreadable (and warned) rows upload.json lists; a broken export can have thousands. */
const listedUnreadable = 100;

const idPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class UploadStore {
  readonly #dir: string;
  readonly #limits: UploadLimits;
  /** Bytes of uploads being stored right now, so two at once cannot both fit the last of the quota. */
  #reserved = 0;

  private constructor(dir: string, limits: UploadLimits) {
    this.#dir = dir;
    this.#limits = limits;
  }

  static async open(dir: string, limits: UploadLimits): Promise<UploadStore> {
    await mkdir(dir, { recursive: true });
    for (const id of await readdir(dir)) {
      if (!idPattern.test(id)) continue;
      const complete = await stat(join(dir, id, 'upload.json')).then(() => true, () => false);
      if (!complete) await rm(join(dir, id), { recursive: true, force: true });
    }
    return new UploadStore(dir, limits);
  }

  /**
   * Stores the body as it arrives (never whole in memory), then reads it once through the CSV
   * reader, in a worker thread (see describeCsv.ts), for the columns, the row count and the
   * unreadable rows. A body over `body.maxBytes`, a file that would pass the quota, whose header
   * cannot be read, or that has no rows or more than `maxRows`, is refused and nothing of it
   * stays on disk. `signal` stops the work (the client went away, the server closes). The caller
   * drains the rest of a refused body.
   */
  async create(template: LoadedTemplate, body: UploadBody, signal: AbortSignal): Promise<UploadInfo> {
    // Before anything is written: a charset nobody can read is refused as it was.
    const transcoder = csvBodyTranscoder(body.contentType);
    const { maxBytes } = this.#limits.quota;
    const used = (await folderBytes(this.#limits.quota.dir)) + this.#reserved;
    // A declared length that cannot fit is refused before a byte is read.
    if (body.length !== undefined && used + body.length > maxBytes) throw quotaExceeded(`this upload (${megabytes(body.length)})`, used, maxBytes);
    const id = randomUUID();
    const dir = join(this.#dir, id);
    let received = 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        received += chunk.length;
        this.#reserved += chunk.length;
        if (received > body.maxBytes) done(new MergeshotError('UPLOAD_TOO_LARGE', `the upload is larger than ${megabytes(body.maxBytes)}, the most the server accepts (server.uploadMaxBytes). Split the list into smaller files, or raise server.uploadMaxBytes.`, { field: 'body' }));
        else if (used + received > maxBytes) done(quotaExceeded(`this upload (${megabytes(received)} so far)`, used, maxBytes));
        else done(null, chunk);
      },
    });
    try {
      await mkdir(dir, { recursive: true });
      const file = join(dir, 'data.csv');
      body.stream.pipe(counter);
      await pipeline([counter, ...(transcoder ? [transcoder] : []), createWriteStream(file)], { signal });
      const bytes = (await stat(file)).size;
      const described = await describeCsv({ path: file, maxRows: this.#limits.maxRows, listedUnreadable, fields: template.manifest.fields, locale: template.manifest.locale }, signal);
      if (described.columns.length === 0) throw new DataError('DATA_UNREADABLE', 'the file is empty: a CSV needs a header row naming its columns, then one row per record.', { field: 'body' });
      if (described.rows === 0) throw new DataError('DATA_UNREADABLE', 'the CSV has a header but no rows.', { field: 'body', hint: 'Export the list with its records, not only the column names.' });
      const info: UploadInfo = { id, template: template.id, createdAt: new Date().toISOString(), bytes, ...described };
      await writeFileAtomic(join(dir, 'upload.json'), `${JSON.stringify(info, null, 2)}\n`);
      return info;
    } catch (error) {
      body.stream.unpipe(counter);
      await rm(dir, { recursive: true, force: true });
      // The client went away or the server closes: an expected end, not an unexpected error.
      if (signal.aborted && !isMergeshotError(error)) throw new MergeshotError('ABORTED', 'the upload was not stored: the request or the server was closed', {}, { cause: error });
      throw error;
    } finally {
      this.#reserved -= received;
    }
  }

  /** Every complete upload, newest first: what the studio lists so that none is forgotten on disk. */
  async list(): Promise<UploadInfo[]> {
    const found: UploadInfo[] = [];
    for (const id of await readdir(this.#dir)) {
      const info = idPattern.test(id) ? await this.find(id).catch(() => undefined) : undefined;
      if (info) found.push(info);
    }
    return found.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** An upload by an id from a request: anything that is not a complete upload here is UPLOAD_NOT_FOUND. */
  async find(id: string): Promise<UploadInfo> {
    if (!idPattern.test(id)) throw new MergeshotError('UPLOAD_NOT_FOUND', 'no such upload');
    try {
      return JSON.parse(await readFile(join(this.#dir, id, 'upload.json'), 'utf8')) as UploadInfo;
    } catch {
      throw new MergeshotError('UPLOAD_NOT_FOUND', 'no such upload');
    }
  }

  /** The stored CSV of an upload found with `find`. */
  dataPath(id: string): string {
    return join(this.#dir, id, 'data.csv');
  }

  /** The folder of the upload's preflight report (report.html, summary.json, images/). */
  preflightDir(id: string): string {
    return join(this.#dir, id, 'preflight');
  }

  /** Removes the file and everything stored beside it. */
  async delete(id: string): Promise<void> {
    await this.find(id);
    await rm(join(this.#dir, id), { recursive: true, force: true });
  }
}

/** Bytes of every file under `dir` (links are not followed); 0 for a folder that is not there. */
async function folderBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) {
    if (entry.isFile()) total += await lstat(join(entry.parentPath, entry.name)).then((info) => info.size, () => 0);
  }
  return total;
}

function quotaExceeded(what: string, used: number, maxBytes: number): MergeshotError {
  return new MergeshotError('DATA_QUOTA_EXCEEDED', `${what} would take the studio's data folder past its quota: ${megabytes(used)} of ${megabytes(maxBytes)} are used (studio.dataMaxBytes). Delete uploads you no longer need, or raise studio.dataMaxBytes.`, { field: 'body' });
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}
