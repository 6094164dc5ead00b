import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';

/**
 * Login throttling: slows guessing of the studio password (or a key, or the one-time token)
 * without ever locking the right secret out for long.
 *
 * Policy (counted on failed logins only; loading the login page and logging in cost nothing):
 * - Per address (the client's IP, an IPv6 /64 as one; behind a proxy the real client's address
 *   only when `server.trustProxy` says which proxy to believe): the first 5 failures are free;
 *   each one after that locks the address out for 1 s, then 2 s, 4 s … at most 30 s. While
 *   locked, an attempt is refused (429, Retry-After) without looking at the secret and without
 *   counting, so a person retrying does not lengthen the lock. An address's count is forgotten
 *   15 minutes after its last failure, and at its first success.
 * - Per account (the studio has one login, so this count is global): past 100 failures in
 *   15 minutes the studio is being guessed from many addresses, and every address loses its free
 *   failures (its first failure locks it). An address that is not failing itself is never
 *   locked: the right secret from it is accepted, whatever the global count.
 * So a guesser gets a handful of tries per address and then about two per minute, and someone
 * sharing the guesser's address (a shared proxy address without trustProxy) waits 30 s at most.
 */

/**
 * The mechanism both throttles share (the login here, wrong Bearer keys in server/routes/api.ts):
 * failures per address with a doubling block past the free ones, forgotten `forgetMs` after the
 * last; with `globalFailures`, past that many failures from all addresses together within
 * `forgetMs`, no address has free failures left.
 */
export interface FailureThrottleOptions {
  readonly freeFailures: number;
  readonly firstBlockMs: number;
  readonly maxBlockMs: number;
  readonly forgetMs: number;
  readonly globalFailures?: number | undefined;
  /** Addresses remembered at most: an attacker rotating addresses gets no free failures anyway (global count). */
  readonly maxAddresses?: number;
  readonly now?: () => number;
}

/** Why an attempt was not even checked: try again after `retryAfterMs`. */
export interface LoginLockout {
  readonly retryAfterMs: number;
}

interface AddressRecord {
  failures: number;
  lockedUntil: number;
}

export class FailureThrottle {
  readonly #options: FailureThrottleOptions;
  readonly #now: () => number;
  readonly #addresses: LRUCache<string, AddressRecord>;
  #global = { failures: 0, since: 0 };

  constructor(options: FailureThrottleOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    // The TTL is checked on read against our clock, so a test's clock drives expiry too.
    this.#addresses = new LRUCache({ max: options.maxAddresses ?? 10_000, ttl: options.forgetMs, ttlResolution: 0, perf: { now: this.#now } });
  }

  /** Milliseconds `address` must still wait; 0 when its attempt is to be checked. */
  blockedFor(address: string | undefined): number {
    const record = this.#addresses.get(addressKey(address));
    return record ? Math.max(0, record.lockedUntil - this.#now()) : 0;
  }

  failed(address: string | undefined): void {
    const { freeFailures, firstBlockMs, maxBlockMs, forgetMs, globalFailures } = this.#options;
    const now = this.#now();
    if (now - this.#global.since > forgetMs) this.#global = { failures: 0, since: now };
    this.#global.failures += 1;
    const key = addressKey(address);
    const record = this.#addresses.get(key) ?? { failures: 0, lockedUntil: 0 };
    record.failures += 1;
    const free = globalFailures !== undefined && this.#global.failures > globalFailures ? 0 : freeFailures;
    if (record.failures > free) record.lockedUntil = now + Math.min(maxBlockMs, firstBlockMs * 2 ** Math.min(record.failures - free - 1, 30));
    // set() restarts the forgetting time: it runs from the last failure.
    this.#addresses.set(key, record);
  }

  succeeded(address: string | undefined): void {
    this.#addresses.delete(addressKey(address));
  }
}

/** The login's policy (above): 5 free failures, 1 s … 30 s, forgotten after 15 minutes, 100 from everywhere. */
export class LoginThrottle extends FailureThrottle {
  constructor(options: { readonly now?: () => number } = {}) {
    super({ freeFailures: 5, firstBlockMs: 1_000, maxBlockMs: 30_000, forgetMs: 15 * 60_000, globalFailures: 100, ...options });
  }

  /** A lockout when `address` may not try now; undefined when its attempt is to be checked. */
  locked(address: string | undefined): LoginLockout | undefined {
    const wait = this.blockedFor(address);
    return wait > 0 ? { retryAfterMs: wait } : undefined;
  }
}

/** One key per client: an IPv4 address, or an IPv6 /64 (one host usually holds the whole /64). */
function addressKey(address: string | undefined): string {
  if (!address || !ipaddr.isValid(address)) return `other:${address ?? ''}`;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/64`).toString()}/64`;
}
