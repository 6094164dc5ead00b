import type { Logger } from 'pino';

/**
 * Deletes studio uploads `ttlMs` after they were made, with what was made from them (the
 * preflight report, the campaign batches and their images): personal data does not stay on disk
 * forever because nobody clicked Delete. Looks once at start (for what expired while the server
 * was down), then every `intervalMs`. The timer is unref'd, so it never keeps a process alive, and
 * close() clears it and waits for a sweep in progress. Sweeps never overlap.
 */

export interface UploadExpiryOptions {
  readonly ttlMs: number;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Every upload with its creation time (ISO 8601). */
  list(): Promise<readonly { readonly id: string; readonly createdAt: string }[]>;
  /** Deletes an upload and everything made from it, as DELETE /api/uploads/<id> does. */
  remove(id: string): Promise<void>;
}

export class UploadExpiry {
  readonly #options: UploadExpiryOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #closed = false;

  constructor(options: UploadExpiryOptions) {
    this.#options = options;
  }

  start(): void {
    this.#schedule(0);
  }

  /** Deletes every expired upload now; returns how many went. A failed delete is retried next sweep. */
  async sweep(): Promise<number> {
    const { ttlMs, logger } = this.#options;
    const now = Date.now();
    let removed = 0;
    for (const upload of await this.#options.list()) {
      if (this.#closed) break;
      const created = Date.parse(upload.createdAt);
      if (!Number.isFinite(created) || created + ttlMs > now) continue;
      try {
        await this.#options.remove(upload.id);
        removed += 1;
        logger.info({ uploadId: upload.id, ageMs: now - created, ttlMs }, 'upload expired: deleted with its reports and batches (studio.uploadTtlMs)');
      } catch (error) {
        logger.warn({ uploadId: upload.id, err: { message: (error as Error).message } }, 'deleting an expired upload failed; retrying at the next sweep');
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#sweeping;
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#sweeping = this.sweep()
        .then(
          () => undefined,
          (error: unknown) => this.#options.logger.warn({ err: { message: (error as Error).message } }, 'the upload expiry sweep failed; retrying later'),
        )
        .finally(() => {
          this.#sweeping = undefined;
          this.#schedule(this.#options.intervalMs);
        });
    }, delayMs);
    this.#timer.unref();
  }
}
