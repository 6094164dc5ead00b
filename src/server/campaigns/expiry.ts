import type { Logger } from 'pino';

/**
 * Deletes personal data a set time after it was made, so it does not stay on disk forever
 * because nobody clicked Delete. One sweeper, several sources: studio uploads (with their
 * preflight report and campaign batches: `studio.uploadTtlMs`) and API batches (`server.batchTtlMs`).
 * Looks once at start (for what expired while the server was down), then every `intervalMs`.
 * The timer is unref'd, so it never keeps a process alive, and close() clears it and waits for a
 * sweep in progress. Sweeps never overlap.
 */

/** One kind of thing that expires. */
export interface ExpirySource {
  readonly ttlMs: number;
  /** The log field naming an item's id (`uploadId`, `batchId`). */
  readonly idField: string;
  /** The info line logged per item deleted (ids and ages only, never values). */
  readonly message: string;
  /**
   * Every item that may expire, with when its time started (ISO 8601). What must not expire
   * yet whatever its age (a batch still running) is not listed.
   */
  list(): Promise<readonly { readonly id: string; readonly since: string }[]>;
  /** Deletes an item and everything made from it, as its DELETE route does. */
  remove(id: string): Promise<void>;
}

export interface ExpiryOptions {
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly sources: readonly ExpirySource[];
}

/** Whether an item whose time started at `since` (ISO 8601) is past `ttlMs` at `now`; an unreadable time never expires. */
export function isExpired(since: string, ttlMs: number, now: number): boolean {
  const start = Date.parse(since);
  return Number.isFinite(start) && start + ttlMs <= now;
}

export class Expiry {
  readonly #options: ExpiryOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #closed = false;

  constructor(options: ExpiryOptions) {
    this.#options = options;
  }

  start(): void {
    this.#schedule(0);
  }

  /** Deletes every expired item of every source now; returns how many went. A failed delete is retried next sweep. */
  async sweep(): Promise<number> {
    let removed = 0;
    for (const source of this.#options.sources) removed += await this.#sweepSource(source);
    return removed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#sweeping;
  }

  async #sweepSource(source: ExpirySource): Promise<number> {
    const { logger } = this.#options;
    const { ttlMs, idField } = source;
    const now = Date.now();
    let removed = 0;
    for (const item of await source.list()) {
      if (this.#closed) break;
      if (!isExpired(item.since, ttlMs, now)) continue;
      try {
        await source.remove(item.id);
        removed += 1;
        logger.info({ [idField]: item.id, ageMs: now - Date.parse(item.since), ttlMs }, source.message);
      } catch (error) {
        logger.warn({ [idField]: item.id, err: { message: (error as Error).message } }, 'deleting expired data failed; retrying at the next sweep');
      }
    }
    return removed;
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#sweeping = this.sweep()
        .then(
          () => undefined,
          (error: unknown) => this.#options.logger.warn({ err: { message: (error as Error).message } }, 'the expiry sweep failed; retrying later'),
        )
        .finally(() => {
          this.#sweeping = undefined;
          this.#schedule(this.#options.intervalMs);
        });
    }, delayMs);
    this.#timer.unref();
  }
}
