import type { Redis } from 'ioredis';
import type { CacheMeta, PurgeFilter } from '../cache/index.js';

/**
 * Purges across nodes by marker, not by deleting objects: a purge records "entries of
 * template T (or all, `*`) created before time X are gone" in a Redis hash and announces it
 * on a channel. Every node applies it to its own memory and disk layers when the message
 * arrives, and checks the markers on every read, so a node that missed the message (it was
 * reconnecting) still never serves a purged entry. O(1) per purge at any bucket size; the
 * purged objects are overwritten by the next render of their key or expire by the bucket's
 * lifecycle rule (docs/scale.md).
 *
 * The time is Redis's (TIME), and an entry's createdAt its writer's clock: nodes whose clocks
 * are within a second of Redis's are exact to that second (NTP keeps them far closer).
 */
const everyTemplate = '*';

export interface PurgeMarkersOptions {
  /** Commands (HSET, HGETALL, PUBLISH, TIME). */
  readonly redis: Redis;
  /** A second connection in subscriber mode: a subscribed ioredis client runs no other commands. */
  readonly subscriber: Redis;
  readonly prefix: string;
}

export class PurgeMarkers {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #hash: string;
  readonly #channel: string;
  readonly #markers = new Map<string, number>();
  readonly #listeners = new Set<(filter: PurgeFilter) => void>();

  constructor(options: PurgeMarkersOptions) {
    this.#redis = options.redis;
    this.#subscriber = options.subscriber;
    this.#hash = `${options.prefix}:purges`;
    this.#channel = `${options.prefix}:purge`;
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      void this.#onMessage(message);
    });
    // A reconnect may have missed messages: read the markers again.
    this.#subscriber.on('ready', () => void this.refresh().catch(() => undefined));
  }

  async start(): Promise<void> {
    await this.#subscriber.subscribe(this.#channel);
    await this.refresh();
  }

  /** Called for every purge another node (or this one) announced. */
  onPurge(listener: (filter: PurgeFilter) => void): void {
    this.#listeners.add(listener);
  }

  /** Reads every marker from Redis. */
  async refresh(): Promise<void> {
    const all = await this.#redis.hgetall(this.#hash);
    for (const [template, at] of Object.entries(all)) this.#markers.set(template, Number(at));
  }

  /** Records a purge at Redis's time and announces it. Throws QUEUE_UNAVAILABLE-worthy errors to the caller. */
  async record(filter: PurgeFilter): Promise<void> {
    const [seconds, micros] = await this.#redis.time();
    const at = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const template = filter.template ?? everyTemplate;
    await this.#redis.hset(this.#hash, template, String(at));
    this.#markers.set(template, Math.max(this.#markers.get(template) ?? 0, at));
    await this.#redis.publish(this.#channel, JSON.stringify({ template: filter.template ?? null }));
  }

  /** True for an entry created at or before a purge of its template (or of everything). */
  isPurged(meta: CacheMeta): boolean {
    const at = Math.max(this.#markers.get(everyTemplate) ?? 0, this.#markers.get(meta.template) ?? 0);
    return meta.createdAt <= at;
  }

  async #onMessage(message: string): Promise<void> {
    let template: string | undefined;
    try {
      const parsed = JSON.parse(message) as { template?: unknown };
      template = typeof parsed.template === 'string' ? parsed.template : undefined;
    } catch {
      return;
    }
    await this.refresh().catch(() => undefined);
    for (const listener of this.#listeners) listener({ template, scope: 'local' });
  }
}
