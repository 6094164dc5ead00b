/**
 * At most one piece of work per key in flight: concurrent requests for the same image share
 * one render instead of each queueing its own (twenty opens of one email in the same second
 * would otherwise cost twenty renders). The entry is removed when the work settles, so the map
 * holds only in-flight keys and stays bounded by the render queue.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  /** `leader` is true for the caller whose `work` actually runs. */
  run(key: string, work: () => Promise<T>): { readonly promise: Promise<T>; readonly leader: boolean } {
    const existing = this.#inFlight.get(key);
    if (existing) return { promise: existing, leader: false };
    const promise = (async () => {
      try {
        return await work();
      } finally {
        this.#inFlight.delete(key);
      }
    })();
    this.#inFlight.set(key, promise);
    return { promise, leader: true };
  }

  get size(): number {
    return this.#inFlight.size;
  }

  /** Settles when every piece of work now in flight has settled (for shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inFlight.values()]);
  }
}
