import { describe, expect, it } from 'vitest';
import { FailureThrottle } from '../../../src/studio/index.js';

// The mechanism under the Bearer throttle (server/keyThrottle.ts gives it its policy).
describe('FailureThrottle, as wrong Bearer keys use it', () => {
  it('blocks an address after its free failures, doubling up to the cap, and forgets it after a quiet while', () => {
    let now = 1_000_000;
    const throttle = new FailureThrottle({ freeFailures: 3, firstBlockMs: 1_000, maxBlockMs: 8_000, forgetMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) throttle.failed('203.0.113.7');
    expect(throttle.blockedFor('203.0.113.7')).toBe(0);
    const blocks: number[] = [];
    for (let i = 0; i < 6; i++) {
      throttle.failed('203.0.113.7');
      blocks.push(throttle.blockedFor('203.0.113.7'));
      now += blocks.at(-1)!;
    }
    // 1 s, 2 s, 4 s, then never more than the cap: a right key behind the address waits at most 8 s.
    expect(blocks).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect(throttle.blockedFor('198.51.100.1')).toBe(0);
    now += 60_001;
    throttle.failed('203.0.113.7');
    expect(throttle.blockedFor('203.0.113.7')).toBe(0);
  });

  it('counts IPv6 per /64 and an IPv4-mapped address as its IPv4', () => {
    const throttle = new FailureThrottle({ freeFailures: 1, firstBlockMs: 1_000, maxBlockMs: 60_000, forgetMs: 15 * 60_000 });
    throttle.failed('2001:db8:1:2::1');
    throttle.failed('2001:db8:1:2:ffff::9');
    expect(throttle.blockedFor('2001:db8:1:2::abcd')).toBeGreaterThan(0);
    expect(throttle.blockedFor('2001:db8:1:3::1')).toBe(0);
    throttle.failed('::ffff:192.0.2.1');
    throttle.failed('192.0.2.1');
    expect(throttle.blockedFor('192.0.2.1')).toBeGreaterThan(0);
  });
});
