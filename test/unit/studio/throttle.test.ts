import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../../src/studio/throttle.js';

describe('LoginThrottle', () => {
  it('lets an address fail 5 times, then locks it 1 s, 2 s, 4 s … at most 30 s', () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle({ now: () => now });
    const address = '203.0.113.7';
    for (let i = 0; i < 5; i += 1) {
      expect(throttle.locked(address)).toBeUndefined();
      throttle.failed(address);
    }
    expect(throttle.locked(address)).toBeUndefined();
    const locks: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      throttle.failed(address);
      const lock = throttle.locked(address)!.retryAfterMs;
      locks.push(lock);
      now += lock;
      expect(throttle.locked(address)).toBeUndefined();
    }
    expect(locks).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    // Another address is not concerned; a success forgets the address's failures.
    expect(throttle.locked('203.0.113.8')).toBeUndefined();
    throttle.succeeded(address);
    throttle.failed(address);
    expect(throttle.locked(address)).toBeUndefined();
  });

  it('forgets an address 15 minutes after its last failure', () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle({ now: () => now });
    for (let i = 0; i < 6; i += 1) throttle.failed('203.0.113.7');
    expect(throttle.locked('203.0.113.7')).toBeDefined();
    now += 15 * 60_000 + 1;
    throttle.failed('203.0.113.7');
    expect(throttle.locked('203.0.113.7')).toBeUndefined();
  });

  it('counts an IPv6 /64 as one address, and an IPv4-mapped address as its IPv4', () => {
    const throttle = new LoginThrottle({ now: () => 1_000_000 });
    for (let i = 0; i < 6; i += 1) throttle.failed(`2001:db8:1:2::${i + 1}`);
    expect(throttle.locked('2001:db8:1:2:ffff::9')).toBeDefined();
    expect(throttle.locked('2001:db8:1:3::1')).toBeUndefined();
    for (let i = 0; i < 6; i += 1) throttle.failed('::ffff:198.51.100.4');
    expect(throttle.locked('198.51.100.4')).toBeDefined();
  });

  it('under a guess from many addresses, locks each failing address at its first failure, never one that is not failing', () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle({ now: () => now });
    for (let i = 0; i < 101; i += 1) throttle.failed(`198.51.100.${i}`);
    const fresh = '192.0.2.1';
    expect(throttle.locked(fresh)).toBeUndefined();
    throttle.failed(fresh);
    expect(throttle.locked(fresh)?.retryAfterMs).toBe(1_000);
    expect(throttle.locked('192.0.2.2')).toBeUndefined();
    // The global count is forgotten 15 minutes on: the free failures come back.
    now += 15 * 60_000 + 1;
    throttle.failed('192.0.2.3');
    expect(throttle.locked('192.0.2.3')).toBeUndefined();
  });
});
