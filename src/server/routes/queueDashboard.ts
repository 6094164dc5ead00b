import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Router } from 'express';
import type { ChunkJob } from '../../distributed/index.js';

/** Where the dashboard lives: under /api, so the API's own authentication guards it. */
const basePath = '/api/queues';

/**
 * bull-board, the queue dashboard BullMQ users already know, for a node in distributed mode:
 * the chunk queue's jobs by state, what each chunk is and its errors. It sits behind the API's
 * authentication (a key, or the studio's session in a browser) and is read-only: its retry and
 * clean buttons could not carry the studio's CSRF token, and retrying a chunk is BullMQ's job.
 */
export function queueDashboard(queue: Queue): { mount(router: Router): void } {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(basePath);
  const chunks = new BullMQAdapter(queue, { readOnlyMode: true });
  // The rows are the recipients' data: an operator sees which rows a chunk holds, never their
  // values (an API key is for rendering, not for reading a campaign's mailing list).
  chunks.setFormatter('data', summarizeChunk);
  createBullBoard({ queues: [chunks], serverAdapter: adapter, options: { uiConfig: { boardTitle: 'mergeshot' } } });
  return { mount: (router) => router.use(basePath.slice('/api'.length), adapter.getRouter() as Router) };
}

function summarizeChunk(data: Partial<ChunkJob> | undefined): Record<string, unknown> {
  const rows = Array.isArray(data?.rows) ? data.rows : [];
  return {
    batchId: data?.batchId,
    chunk: data?.chunk,
    template: data?.template,
    templateVersion: data?.templateVersion?.slice(0, 12),
    preset: data?.preset,
    size: data?.size,
    rows: rows.length ? `${rows.length} rows, ${rows[0]?.row}–${rows.at(-1)?.row} (values not shown)` : 'none',
  };
}
