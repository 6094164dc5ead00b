import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../../../src/cache/index.js';

describe('SingleFlight', () => {
  it('runs concurrent work for one key once and forgets it when settled', async () => {
    const flight = new SingleFlight<number>();
    let runs = 0;
    let release!: (value: number) => void;
    const gate = new Promise<number>((resolve) => (release = resolve));
    const calls = Array.from({ length: 20 }, () => flight.run('k', async () => {
      runs += 1;
      return gate;
    }));
    expect(calls.filter((call) => call.leader)).toHaveLength(1);
    expect(flight.size).toBe(1);
    release(7);
    expect(await Promise.all(calls.map((call) => call.promise))).toEqual(Array(20).fill(7));
    expect(runs).toBe(1);
    expect(flight.size).toBe(0);
  });

  it('shares a failure and lets the next call retry', async () => {
    const flight = new SingleFlight<number>();
    const first = flight.run('k', async () => {
      throw new Error('boom');
    });
    const second = flight.run('k', async () => 1);
    await expect(first.promise).rejects.toThrow('boom');
    await expect(second.promise).rejects.toThrow('boom');
    expect(await flight.run('k', async () => 2).promise).toBe(2);
  });
});
