import { describe, expect, it } from 'vitest';
import { batchExpiryStart } from '../../../../src/server/batches/runner.js';
import type { JobState } from '../../../../src/server/batches/store.js';
import { isExpired } from '../../../../src/server/campaigns/index.js';

/** When an API batch's server.batchTtlMs starts counting, and when a time is past its TTL. */

const job = (over: Partial<JobState>): JobState => ({ id: '0f8fad5b-d9cb-469f-a165-70867728950e', template: 'mini', preset: undefined, size: undefined, total: 3, createdAt: '2026-01-01T00:00:00.000Z', status: 'done', ...over });

describe('batchExpiryStart', () => {
  it('counts a finished batch from when it finished, not when it was made', () => {
    expect(batchExpiryStart(job({ finishedAt: '2026-01-05T00:00:00.000Z' }))).toBe('2026-01-05T00:00:00.000Z');
  });

  it('never expires a batch still queued or running, however old', () => {
    expect(batchExpiryStart(job({ status: 'queued' }))).toBeUndefined();
    expect(batchExpiryStart(job({ status: 'running' }))).toBeUndefined();
  });

  it('leaves a batch made from a studio upload to its upload (studio.uploadTtlMs)', () => {
    expect(batchExpiryStart(job({ upload: 'a1b2c3', finishedAt: '2026-01-02T00:00:00.000Z' }))).toBeUndefined();
  });

  it('falls back to the creation time for a finished batch written before finishedAt existed', () => {
    expect(batchExpiryStart(job({}))).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('isExpired', () => {
  const start = '2026-01-01T00:00:00.000Z';
  const t = Date.parse(start);
  it('is expired exactly at the TTL and after, not before', () => {
    expect(isExpired(start, 1_000, t + 999)).toBe(false);
    expect(isExpired(start, 1_000, t + 1_000)).toBe(true);
    expect(isExpired(start, 1_000, t + 5_000)).toBe(true);
  });
  it('never expires an unreadable time', () => {
    expect(isExpired('not a date', 1_000, t + 1e12)).toBe(false);
  });
});
