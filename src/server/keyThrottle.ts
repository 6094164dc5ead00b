import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';

/**
 * Wrong Bearer keys, per client address (`req.ip`, so `server.trustProxy` decides whose address
 * that is). An address gets `freeFailures` wrong keys; then each further wrong key blocks it for
 * a time that doubles (1 s, 2 s, 4 s … `maxBlockMs`). While an address is blocked, every Bearer
 * request from it is answered 429 with Retry-After, unchecked: checking would let guesses go on
 * at full speed (a right guess would simply answer). So a right key behind the same address (a
 * NAT, an office proxy) waits at most the current block, never more than `maxBlockMs`, and a
 * guesser gets about one try per `maxBlockMs`. Failures are forgotten `forgetMs` after the
 * last one; a right key does not reset them (a guesser holding one weak key could otherwise
 * clear its count between guesses). IPv6 addresses count per /64, what one host usually holds.
 */
export interface BearerThrottleOptions {
  readonly freeFailures?: number;
  readonly firstBlockMs?: number;
  readonly maxBlockMs?: number;
  readonly forgetMs?: number;
  /** Addresses remembered at most; the least recently failing goes first. */
  readonly maxAddresses?: number;
  readonly now?: () => number;
}

interface Failures {
  count: number;
  blockedUntil: number;
}

export class BearerThrottle {
  readonly #failures: LRUCache<string, Failures>;
  readonly #free: number;
  readonly #firstBlockMs: number;
  readonly #maxBlockMs: number;
  readonly #now: () => number;

  constructor(options: BearerThrottleOptions = {}) {
    this.#free = options.freeFailures ?? 10;
    this.#firstBlockMs = options.firstBlockMs ?? 1_000;
    this.#maxBlockMs = options.maxBlockMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    // The TTL is checked on read against our clock, so a test's clock drives expiry too.
    this.#failures = new LRUCache({ max: options.maxAddresses ?? 10_000, ttl: options.forgetMs ?? 15 * 60_000, ttlAutopurge: false, ttlResolution: 0, perf: { now: this.#now } });
  }

  /** Milliseconds the address must still wait; 0 when it may try a key. */
  blockedFor(address: string | undefined): number {
    const entry = this.#failures.get(addressKey(address));
    return entry ? Math.max(0, entry.blockedUntil - this.#now()) : 0;
  }

  /** Records a wrong key from the address; past the free ones, blocks it for the next step of the backoff. */
  failed(address: string | undefined): void {
    const key = addressKey(address);
    const entry = this.#failures.get(key) ?? { count: 0, blockedUntil: 0 };
    entry.count += 1;
    const over = entry.count - this.#free;
    if (over > 0) entry.blockedUntil = this.#now() + Math.min(this.#maxBlockMs, this.#firstBlockMs * 2 ** Math.min(over - 1, 30));
    this.#failures.set(key, entry);
  }
}

function addressKey(address: string | undefined): string {
  if (!address || !ipaddr.isValid(address)) return address ?? '';
  const parsed = ipaddr.process(address);
  return parsed.kind() === 'ipv6' ? `${(parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16)).join(':')}::/64` : parsed.toString();
}
