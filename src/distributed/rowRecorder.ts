import type { Redis } from 'ioredis';
import { batchStateKeptSeconds, type RedisKeys, type RowResult } from './chunkJobs.js';
import type { EntryWriter, PendingWrite } from './renderLocks.js';

/** Rows written and recorded together at most: a campaign's row outcomes are most of its Redis traffic. */
const groupRows = 10;
/** A group waits no longer than this for more rows, so slow renders still show progress row by row. */
const groupWaitMs = 1_000;

/**
 * HSETNX of each outcome (ARGV: seconds kept, then row, result JSON, status; repeated) and the
 * batch's status counters in one step; both keys then expire that long after this last write.
 * Answers 1 per row recorded here, 0 per row that already had an outcome, or {-1} alone when
 * the batch was deleted: a chunk in flight must not bring back the state the deletion removed.
 */
const recordScript = `if redis.call('exists', KEYS[3]) == 1 then return {-1} end
local recorded, counts = {}, {}
for i = 2, #ARGV, 3 do
  if redis.call('hsetnx', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    recorded[#recorded + 1] = 1
    counts[ARGV[i + 2]] = (counts[ARGV[i + 2]] or 0) + 1
  else
    recorded[#recorded + 1] = 0
  end
end
for status, n in pairs(counts) do redis.call('hincrby', KEYS[2], status, n) end
redis.call('expire', KEYS[1], ARGV[1])
redis.call('expire', KEYS[2], ARGV[1])
return recorded`;

export interface RecordedRows {
  /** Its batch was deleted: nothing was recorded. */
  readonly cancelled: boolean;
  /** The rows recorded by this call (not those another worker had recorded first). */
  readonly recorded: readonly RowResult[];
}

/** Row outcomes into a batch's results hash, first outcome of a row wins (one Redis call). */
export async function recordRows(redis: Redis, keys: RedisKeys, batchId: string, results: readonly RowResult[]): Promise<RecordedRows> {
  if (results.length === 0) return { cancelled: false, recorded: [] };
  const flags = (await redis.eval(recordScript, 3, keys.results(batchId), keys.batch(batchId), keys.cancelled(batchId), String(batchStateKeptSeconds), ...results.flatMap((result) => [String(result.row), JSON.stringify(result), result.status]))) as number[];
  if (flags[0] === -1) return { cancelled: true, recorded: [] };
  return { cancelled: false, recorded: results.filter((_, at) => flags[at] === 1) };
}

export interface RowRecorderOptions {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly batchId: string;
  readonly writes: EntryWriter;
  readonly onRow?: ((result: RowResult) => void) | undefined;
}

/**
 * The rendered rows of one chunk, stored and recorded in groups (up to `groupRows`, or what came
 * within `groupWaitMs`): the group's images are written together (EntryWriter: two Redis round
 * trips and parallel PUTs), then its outcomes in one script call, where a row at a time cost
 * three round trips of its own. One group is written while the next one fills, so the page does
 * not wait for the store; at most one is in flight.
 *
 * Recorded ⇒ stored still holds row by row: a group is recorded after all its images are in
 * the store. A worker killed mid-group leaves those rows unrecorded, and the chunk's next run
 * renders them again (same bytes, same keys).
 */
export class RowRecorder {
  readonly #options: RowRecorderOptions;
  #pending: { result: RowResult; write: PendingWrite | undefined }[] = [];
  #pendingSince = 0;
  #writing: Promise<void> = Promise.resolve();
  #cancelled = false;

  constructor(options: RowRecorderOptions) {
    this.#options = options;
  }

  /** The batch was found deleted: stop rendering its rows, nothing more is recorded. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** A row's outcome, with its image for a rendered row. Rejects if an earlier group failed. */
  async add(result: RowResult, write: PendingWrite | undefined): Promise<void> {
    if (this.#pending.length === 0) this.#pendingSince = Date.now();
    this.#pending.push({ result, write });
    if (this.#pending.length >= groupRows || Date.now() - this.#pendingSince >= groupWaitMs) await this.#flush();
  }

  /** Writes and records what is left; rejects if any group failed (the chunk fails, and BullMQ retries it). */
  async finish(): Promise<void> {
    await this.#flush();
    await this.#writing;
  }

  async #flush(): Promise<void> {
    await this.#writing;
    const group = this.#pending;
    this.#pending = [];
    if (group.length === 0 || this.#cancelled) return;
    this.#writing = this.#write(group);
    // Its failure surfaces at the next flush or at finish(), which the chunk awaits.
    this.#writing.catch(() => undefined);
  }

  async #write(group: readonly { result: RowResult; write: PendingWrite | undefined }[]): Promise<void> {
    const { redis, keys, batchId, writes, onRow } = this.#options;
    await writes.writeMany(group.flatMap((row) => (row.write ? [row.write] : [])));
    const outcome = await recordRows(redis, keys, batchId, group.map((row) => row.result));
    if (outcome.cancelled) this.#cancelled = true;
    for (const result of outcome.recorded) onRow?.(result);
  }
}
