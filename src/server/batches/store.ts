import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MergeshotError } from '../../errors/index.js';
import { writeFileAtomic, type BatchRow, type ManifestEntry } from '../../pipeline/index.js';

/**
 * Batch state on disk, one folder per job, so jobs survive a restart and resume where they
 * stopped: `job.json` (written atomically), `rows.ndjson` (the input, mapped once at upload),
 * `outcomes.ndjson` (one line appended per finished row; rows listed there are skipped on
 * resume), `images/<row>.<ext>`.
 *
 * Jobs made from a studio upload live in a second folder, under the studio's data folder, with
 * the upload itself: they are the personal data the studio promises to keep there and to delete
 * with the upload. Both folders are one store: an id is found in either.
 */

export type JobStatus = 'queued' | 'running' | 'done';

export interface JobState {
  readonly id: string;
  readonly template: string;
  readonly preset: string | undefined;
  readonly size: string | undefined;
  readonly total: number;
  readonly createdAt: string;
  /** Said once about the whole upload, e.g. that a CSV was read as Windows-1252. */
  readonly notes?: readonly string[];
  /** The studio upload the rows came from: the job is stored, and deleted, with it. */
  readonly upload?: string;
  /** The name of the API key (or "studio") that made it: a key without `campaigns` sees only its own. */
  readonly createdBy?: string;
  status: JobStatus;
  finishedAt?: string;
}

/** A finished row, as manifest.csv will show it (the kit's one schema). */
export type OutcomeLine = ManifestEntry;

const idPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class BatchStore {
  readonly #dir: string;
  readonly #uploadsDir: string | undefined;
  /** Which folder holds each upload job seen by this process; any other id is in the main folder. */
  readonly #uploadJobs = new Set<string>();

  private constructor(dir: string, uploadsDir: string | undefined) {
    this.#dir = dir;
    this.#uploadsDir = uploadsDir;
  }

  /** `uploadsDir`: where jobs made from studio uploads go; without it they go with the others. */
  static async open(dir: string, uploadsDir?: string): Promise<BatchStore> {
    await mkdir(dir, { recursive: true });
    const store = new BatchStore(dir, uploadsDir);
    if (uploadsDir !== undefined) {
      await mkdir(uploadsDir, { recursive: true });
      for (const id of await readdir(uploadsDir)) if (idPattern.test(id)) store.#uploadJobs.add(id);
    }
    return store;
  }

  /** Jobs a previous run left unfinished, oldest first; a folder whose job.json cannot be read is skipped. */
  async unfinished(): Promise<JobState[]> {
    const unfinished: JobState[] = [];
    for (const id of [...(await readdir(this.#dir)), ...this.#uploadJobs]) {
      if (!idPattern.test(id)) continue;
      const job = await this.read(id).catch(() => undefined);
      if (job && job.status !== 'done') unfinished.push(job);
    }
    return unfinished.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Every job in both folders, newest first; a folder whose job.json cannot be read is skipped. */
  async list(): Promise<JobState[]> {
    const ids = new Set([...(await readdir(this.#dir)), ...this.#uploadJobs].filter((id) => idPattern.test(id)));
    const jobs = await Promise.all([...ids].map((id) => this.read(id).catch(() => undefined)));
    return jobs.filter((job): job is JobState => job !== undefined).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** The jobs made from one upload, in either folder's order. */
  async ofUpload(uploadId: string): Promise<JobState[]> {
    const jobs = await Promise.all([...this.#uploadJobs].map((id) => this.read(id).catch(() => undefined)));
    return jobs.filter((job): job is JobState => job?.upload === uploadId);
  }

  /** A new job's folder: its rows, no outcomes yet, and job.json last, so a listed job always has its rows. */
  async create(job: JobState, rows: readonly BatchRow[]): Promise<void> {
    if (job.upload !== undefined && this.#uploadsDir !== undefined) this.#uploadJobs.add(job.id);
    const dir = this.#jobDir(job.id);
    await mkdir(join(dir, 'images'), { recursive: true });
    await writeFile(join(dir, 'rows.ndjson'), rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    await writeFile(join(dir, 'outcomes.ndjson'), '');
    await this.write(job);
  }

  /** A job by an id from a request: anything that is not a job here is BATCH_NOT_FOUND. */
  async find(id: string): Promise<JobState> {
    if (!idPattern.test(id)) throw new MergeshotError('BATCH_NOT_FOUND', 'no such batch');
    return this.read(id).catch(() => {
      throw new MergeshotError('BATCH_NOT_FOUND', 'no such batch');
    });
  }

  /** Removes a job's folder: its rows, outcomes and images. The caller stops it first. */
  async delete(id: string): Promise<void> {
    await rm(this.#jobDir(id), { recursive: true, force: true });
    this.#uploadJobs.delete(id);
  }

  async read(id: string): Promise<JobState> {
    return JSON.parse(await readFile(join(this.#jobDir(id), 'job.json'), 'utf8')) as JobState;
  }

  async write(job: JobState): Promise<void> {
    await writeFileAtomic(join(this.#jobDir(job.id), 'job.json'), JSON.stringify(job, null, 2));
  }

  /** The job's input rows, read when the first row is asked for. */
  async *rows(id: string): AsyncGenerator<BatchRow> {
    const text = await readFile(join(this.#jobDir(id), 'rows.ndjson'), 'utf8');
    for (const line of text.split('\n')) if (line) yield JSON.parse(line) as BatchRow;
  }

  /** Finished rows by row number; a line cut by a crash is ignored (that row renders again). */
  async outcomes(id: string): Promise<Map<number, OutcomeLine>> {
    const outcomes = new Map<number, OutcomeLine>();
    const text = await readFile(join(this.#jobDir(id), 'outcomes.ndjson'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      try {
        if (line) {
          const outcome = JSON.parse(line) as OutcomeLine;
          outcomes.set(outcome.row, outcome);
        }
      } catch {
        // the last line of a crashed run
      }
    }
    return outcomes;
  }

  async appendOutcome(id: string, line: OutcomeLine): Promise<void> {
    await appendFile(join(this.#jobDir(id), 'outcomes.ndjson'), `${JSON.stringify(line)}\n`);
  }

  async writeImage(id: string, file: string, bytes: Buffer): Promise<void> {
    await writeFileAtomic(this.imagePath(id, file), bytes);
  }

  imagePath(id: string, file: string): string {
    return join(this.#jobDir(id), 'images', file);
  }

  #jobDir(id: string): string {
    return join(this.#uploadJobs.has(id) && this.#uploadsDir !== undefined ? this.#uploadsDir : this.#dir, id);
  }
}
