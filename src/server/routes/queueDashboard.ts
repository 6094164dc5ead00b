import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Router } from 'express';

/** Where the dashboard lives: under /api, so the API's own authentication guards it. */
const basePath = '/api/queues';

/**
 * bull-board, the queue dashboard BullMQ users already know, for a node in distributed mode:
 * the chunk queue's jobs by state, their data and errors. It sits behind the API's
 * authentication (a key, or the studio's session in a browser) and is read-only: its retry and
 * clean buttons could not carry the studio's CSRF token, and retrying a chunk is BullMQ's job.
 */
export function queueDashboard(queue: Queue): { mount(router: Router): void } {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(basePath);
  createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: true })], serverAdapter: adapter, options: { uiConfig: { boardTitle: 'mergeshot' } } });
  return { mount: (router) => router.use(basePath.slice('/api'.length), adapter.getRouter() as Router) };
}
