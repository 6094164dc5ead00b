import { FailureThrottle } from '../studio/index.js';

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
export function bearerThrottle(now?: () => number): FailureThrottle {
  return new FailureThrottle({ freeFailures: 10, firstBlockMs: 1_000, maxBlockMs: 60_000, forgetMs: 15 * 60_000, ...(now ? { now } : {}) });
}
