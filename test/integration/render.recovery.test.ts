import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBatch, type BatchRow, type Pipeline, type RowOutcome } from '../../src/pipeline/index.js';
import { testPipeline } from '../support/pipeline.js';

let pipeline: Pipeline;

beforeAll(() => {
  pipeline = testPipeline();
});

afterAll(async () => {
  await pipeline.close();
});

async function* rows(count: number, onRow?: (row: number) => void): AsyncGenerator<BatchRow> {
  for (let i = 1; i <= count; i++) {
    onRow?.(i);
    yield { row: i, values: { name: `Guest number ${i}`, vip: i % 2 ? 'yes' : 'no' } };
  }
}

describe('recovery', () => {
  it('survives Chromium being killed mid-batch: every row ends ok or failed, none lost or duplicated', async () => {
    await pipeline.renderOne({ template: 'mini', data: { name: 'warm up' }, preset: 'original' });
    const launchesBefore = pipeline.stats().browserLaunches;
    const outcomes: RowOutcome[] = [];
    let killed = false;
    for await (const outcome of renderBatch(pipeline, rows(40), { template: 'mini', preset: 'original', concurrency: 4 })) {
      outcomes.push(outcome);
      if (outcomes.length === 10 && !killed) {
        const pid = await pipeline.browserPid();
        expect(pid).toBeTypeOf('number');
        process.kill(pid!, 'SIGKILL');
        killed = true;
      }
    }
    const rowsSeen = outcomes.map((o) => o.row).sort((a, b) => a - b);
    expect(rowsSeen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (const outcome of outcomes) {
      expect(['ok', 'warning', 'failed']).toContain(outcome.status);
      if (outcome.status === 'failed') expect(outcome.error?.code).toMatch(/BROWSER_CRASHED|BROWSER_UNAVAILABLE|RENDER_FAILED|RENDER_TIMEOUT/);
    }
    // The crash cost at most the renders in flight; the supervisor relaunched and the rest rendered.
    expect(outcomes.filter((o) => o.status !== 'failed').length).toBeGreaterThanOrEqual(36);
    expect(pipeline.stats().browserLaunches).toBeGreaterThan(launchesBefore);
    const after = await pipeline.renderOne({ template: 'mini', data: { name: 'after the crash' }, preset: 'original' });
    expect(after.width).toBe(400);
  });

  it('stops reading when aborted but finishes and reports the rows in flight', async () => {
    const controller = new AbortController();
    const read: number[] = [];
    const outcomes: RowOutcome[] = [];
    for await (const outcome of renderBatch(pipeline, rows(100, (row) => read.push(row)), { template: 'mini', preset: 'original', concurrency: 3, signal: controller.signal })) {
      outcomes.push(outcome);
      if (outcomes.length === 5) controller.abort();
    }
    expect(read.length).toBeLessThan(20);
    expect(outcomes.map((o) => o.row).sort((a, b) => a - b)).toEqual([...read].sort((a, b) => a - b));
    expect(outcomes.every((o) => o.status !== 'failed')).toBe(true);
  });

  it('fails a render that exceeds its deadline with RENDER_TIMEOUT, and the next one still works', async () => {
    const strict = testPipeline({ render: { pages: 1, timeoutMs: 150 } });
    try {
      // First render launches Chromium: far slower than 150 ms.
      await expect(strict.renderOne({ template: 'mini', data: { name: 'slow' }, preset: 'original' })).rejects.toMatchObject({ code: 'RENDER_TIMEOUT' });
    } finally {
      await strict.close();
    }
  });

  it('refuses work beyond the bounded queue with POOL_QUEUE_FULL instead of piling it up', async () => {
    const small = testPipeline({ render: { pages: 1, maxQueue: 1 } });
    try {
      await small.renderOne({ template: 'mini', data: { name: 'warm' }, preset: 'original' });
      const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => small.renderOne({ template: 'mini', data: { name: `n${i}` }, preset: 'original' })));
      const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code: string }).code));
      expect(codes.filter((c) => c === 'ok').length).toBeGreaterThanOrEqual(1);
      // With one page and one waiting slot, at most two of six can be taken; the rest are refused.
      expect(codes.filter((c) => c === 'POOL_QUEUE_FULL').length).toBeGreaterThanOrEqual(4);
      expect(codes.every((c) => c === 'ok' || c === 'POOL_QUEUE_FULL')).toBe(true);
    } finally {
      await small.close();
    }
  });
});
