/**
 * Scale-out (docs/scale.md): BullMQ on Redis for batch work, an S3-compatible store for images.
 * Front ends (cli worker/render/serve, the server) import this folder through here only; it
 * imports the pipeline, stages and base, never a front end.
 */
export { BatchQueue, type BatchProgress, type BatchTarget } from './batchQueue.js';
export { chunkQueueName, collectRow, resultManifestEntry, type ChunkJob, type RowResult, type StoredImages } from './chunkJobs.js';
export { openStore, requireDistributed, type DistributedSettings } from './connections.js';
export { createDistributedMetrics, type DistributedMetrics } from './metrics.js';
export { RenderLocks, type RenderCoordinator } from './renderLocks.js';
export { RenderWorker } from './renderWorker.js';
export { S3Store, type S3StoreOptions, type StoreOperation } from './s3Store.js';
export { openServerDistribution, type BatchSubmission, type ServerDistribution } from './serverDistribution.js';
export { parseStoreUrl, redactRedisUrl } from './storeUrl.js';
export { cancelBatch, openBatchSubmitter, openWorkerProcess, type BatchSubmitter, type WorkerProcess } from './workerProcess.js';
