/**
 * npm run bench:scale [-- --records N]
 *
 * The same records of event-invite (email preset), in the same run on the same machine:
 *  - local:     one pipeline with one page, renderBatch (what `mergeshot render` does);
 *  - 1 worker:  one `mergeshot worker` process with one page, behind a real Redis and a real
 *               S3 server (s3rver) on loopback, fed by a BullMQ submitter in this process;
 *  - 2 workers: two such processes, one page each (so each has one of the 2 cores).
 * Distributed runs count from the submit to the last row recorded (the images are in the
 * store), after a warm-up batch, as the local run counts after a warm-up render. Also printed:
 * chunk p50/p95, queue overhead per chunk (1 worker vs local), CPU-ms per image of the whole
 * process tree, Redis commands per image, store requests per image. The last line is JSON.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config/index.js';
import { openBatchSubmitter } from '../src/distributed/index.js';
import { createPipeline, renderBatch, type BatchRow } from '../src/pipeline/index.js';
import { cliRig } from '../test/support/distributed.js';
import { repoRoot } from '../test/support/pipeline.js';
import { startRedis } from '../test/support/redis.js';
import { startS3 } from '../test/support/s3.js';
import { treeCpuMs } from './cpu.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '2000' } } });
const records = Number(values.records);
const template = 'event-invite';
const preset = 'email';
const chunkRows = 50;

const firstNames = ['Ada', 'Grace', 'محمد', '山田', 'Zoë', 'Oluwaseun', 'Ngozi', 'François', 'Björk', 'Siobhán', 'Wei', 'Ana María'];
const lastNames = ['Lovelace', 'Hopper', 'عبد الرحمن', '太郎', 'Ñúñez', 'Adeyemi', 'Okafor', 'Dupont', 'Guðmundsdóttir', "O'Brien", 'Zhang', 'de la Cruz'];
function record(i: number, run: string): Record<string, unknown> {
  return {
    // The run's name in every record: no run finds another run's images in the store.
    name: `${firstNames[i % firstNames.length]} ${lastNames[(i * 7) % lastNames.length]} ${run}${i}`,
    event: ['Design Systems Summit', 'Product Night', 'Annual Gala 2026'][i % 3],
    date: `2026-0${1 + (i % 9)}-1${i % 9}`,
    venue: ['Kulturbrauerei, Berlin', 'The Warehouse, London', ''][i % 3],
    vip: i % 4 === 0 ? 'yes' : 'no',
  };
}
async function* rows(count: number, run: string): AsyncGenerator<BatchRow> {
  for (let i = 0; i < count; i++) yield { row: i + 1, values: record(i, run) };
}
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const redis = await startRedis();
const s3 = await startS3('mergeshot-bench');
const rig = await cliRig(redis, s3, 'bench', { templatesDir: join(repoRoot, 'templates'), template, distributed: { chunkRows, stalledMs: 30_000 } });
Object.assign(process.env, s3.env);
const config = parseConfig({ templatesDir: join(repoRoot, 'templates'), stylesDir: join(repoRoot, 'styles'), render: { pages: 1 }, distributed: { redisUrl: redis.url, storeUrl: rig.storeUrl, endpoint: s3.endpoint, forcePathStyle: true, queuePrefix: 'bench', chunkRows } }, 'bench', repoRoot);
const stats = new Redis(redis.url);
/** Redis commands of one BatchQueue.progress(): HGETALL, HLEN, and getJobCounts' one script call. */
const progressCommands = 3;
const redisCommands = async () => Number(/total_commands_processed:(\d+)/.exec(await stats.info('stats'))?.[1] ?? 0);
console.log(`bench:scale: ${records} records of ${template} with preset ${preset}, one page per worker, chunks of ${chunkRows}, Node ${process.version}`);

try {
  // --- local: one pipeline, one page ---
  const pipeline = createPipeline(config);
  await pipeline.warm();
  await pipeline.renderOne({ template, data: record(0, 'warm'), preset });
  const localCpu = await treeCpuMs();
  const started = performance.now();
  const rowStarted = new Map<number, number>();
  const latencies: number[] = [];
  async function* timed(): AsyncGenerator<BatchRow> {
    for await (const row of rows(records, 'local')) {
      rowStarted.set(row.row, performance.now());
      yield row;
    }
  }
  let localFailed = 0;
  for await (const outcome of renderBatch(pipeline, timed(), { template, preset, concurrency: 2 })) {
    if (outcome.status === 'failed') localFailed += 1;
    latencies.push(performance.now() - rowStarted.get(outcome.row)!);
  }
  const localSeconds = (performance.now() - started) / 1000;
  const localCpuMs = ((await treeCpuMs()) - localCpu) / records;
  await pipeline.close();
  latencies.sort((a, b) => a - b);
  const local = { imagesPerSec: records / localSeconds, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95), cpuMsPerImage: localCpuMs, failed: localFailed };
  console.log(`local:     ${local.imagesPerSec.toFixed(1)} images/s, row p50 ${local.p50Ms.toFixed(0)} ms, p95 ${local.p95Ms.toFixed(0)} ms, ${local.cpuMsPerImage.toFixed(0)} CPU-ms/image, ${localFailed} failed`);

  // --- distributed: 1 and 2 workers ---
  const probe = createPipeline(config);
  const loaded = await probe.registry.get(template);
  const templateVersion = loaded.version;
  const sizeName = loaded.size(undefined).name;
  await probe.close();
  const submitter = await openBatchSubmitter(config.distributed, 'bench:scale');
  const distributedRun = async (workers: number) => {
    const children = await Promise.all(Array.from({ length: workers }, () => rig.startWorker(1)));
    try {
      const run = `w${workers}-`;
      let polls = 0;
      const follow = async (batchId: string, total: number) => {
        for (;;) {
          polls += 1;
          const progress = await submitter.batches.progress(batchId);
          if (progress.done >= total) return progress;
          await sleep(100);
        }
      };
      // Warm-up: each worker's first chunk compiles the template and opens its first document.
      const warm = `warm-${workers}`;
      await submitter.batches.submit(warm, { template, templateVersion, preset, size: sizeName, withRecord: false }, rows(workers * 2, `warm${workers}`));
      await follow(warm, workers * 2);
      const batchId = `run-${workers}`;
      const commandsBefore = await redisCommands();
      polls = 0;
      const cpuBefore = await treeCpuMs();
      const t0 = performance.now();
      const submitted = await submitter.batches.submit(batchId, { template, templateVersion: templateVersion, preset, size: sizeName, withRecord: false }, rows(records, run));
      const progress = await follow(batchId, submitted.total);
      const seconds = (performance.now() - t0) / 1000;
      const cpuMs = ((await treeCpuMs()) - cpuBefore) / records;
      // Without this bench's own progress polls (one MULTI of HGETALL, HLEN and the job counts each)
      // and the INFO calls themselves: what the workers and the submit cost.
      const commands = ((await redisCommands()) - commandsBefore - polls * progressCommands - 2) / records;
      const jobs = (await submitter.batches.queue.getJobs(['completed'])).filter((job) => job.data.batchId === batchId);
      const chunkMs = jobs.map((job) => (job.finishedOn ?? 0) - (job.processedOn ?? 0)).sort((a, b) => a - b);
      return { workers, imagesPerSec: records / seconds, seconds, chunks: submitted.chunks, chunkP50Ms: percentile(chunkMs, 50), chunkP95Ms: percentile(chunkMs, 95), cpuMsPerImage: cpuMs, redisCommandsPerImage: commands, failed: progress.failed };
    } finally {
      await Promise.all(children.map((child) => child.stop()));
    }
  };
  const one = await distributedRun(1);
  console.log(`1 worker:  ${one.imagesPerSec.toFixed(1)} images/s, chunk p50 ${one.chunkP50Ms.toFixed(0)} ms, p95 ${one.chunkP95Ms.toFixed(0)} ms, ${one.cpuMsPerImage.toFixed(0)} CPU-ms/image, ${one.redisCommandsPerImage.toFixed(1)} Redis commands/image, ${one.failed} failed`);
  const two = await distributedRun(2);
  console.log(`2 workers: ${two.imagesPerSec.toFixed(1)} images/s, chunk p50 ${two.chunkP50Ms.toFixed(0)} ms, p95 ${two.chunkP95Ms.toFixed(0)} ms, ${two.cpuMsPerImage.toFixed(0)} CPU-ms/image, ${two.redisCommandsPerImage.toFixed(1)} Redis commands/image, ${two.failed} failed`);
  await submitter.close();
  const queueOverheadMsPerChunk = ((one.seconds - records / local.imagesPerSec) * 1000) / one.chunks;
  const scaling = two.imagesPerSec / one.imagesPerSec;
  const distributedVsLocal = one.imagesPerSec / local.imagesPerSec;
  console.log(`2 workers / 1 worker: ${scaling.toFixed(2)}× (target ≥ 1.8×); 1 worker / local: ${distributedVsLocal.toFixed(2)}× (target ≥ 0.9×); queue overhead ${queueOverheadMsPerChunk.toFixed(0)} ms per chunk of ${chunkRows} (${(queueOverheadMsPerChunk / chunkRows).toFixed(1)} ms per image)`);
  // Store requests per image, by construction of the worker and the submitter (not sampled): one PUT by the worker, one GET to fetch it back into --out.
  const storeRequestsPerImage = { workerPut: 1, submitterGet: 1 };
  const result = { records, template, preset, chunkRows, local, oneWorker: one, twoWorkers: two, scaling, distributedVsLocal, queueOverheadMsPerChunk, storeRequestsPerImage };
  await writeFile(join(rig.dir, 'result.json'), JSON.stringify(result));
  console.log(JSON.stringify(result));
} finally {
  stats.disconnect();
  await rig.close();
  await s3.close();
  await redis.close();
}
