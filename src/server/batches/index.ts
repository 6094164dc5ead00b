/**
 * Batch jobs behind /api/batches: `routes.ts` (HTTP: upload, progress, download), `store.ts`
 * (one folder of state per job, so jobs survive a restart), `runner.ts` (runs queued jobs
 * through the pipeline, one at a time; owns the queue and the stop signal) and `zip.ts` (the
 * download archive). The server needs only the runner: it opens, mounts the routes, and closes.
 */
export { BatchRunner, type BatchRunnerOptions } from './runner.js';
