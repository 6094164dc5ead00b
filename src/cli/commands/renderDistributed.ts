import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cancelBatch, openBatchSubmitter, collectRow, type BatchProgress, type DistributedSettings } from '../../distributed/index.js';
import { UsageError } from '../../errors/index.js';
import { assertMapFields, targetOf, writeFileAtomic, writeOutputsZip, type ManifestEntry, type Pipeline } from '../../pipeline/index.js';
import { createNamer, writeManifest } from '../outputFiles.js';
import { createProgress } from '../progress.js';
import { templateRows, type RenderCommandOptions, type RenderSummary } from './render.js';

/**
 * `mergeshot render … --redis … --store …`: the same outputs as a local render (images named
 * the same, the same manifest.csv), rendered by however many `mergeshot worker`s take the
 * chunks. This process reads the input into chunk jobs, follows the batch's counters, then
 * fetches the images from the store into --out. It never starts Chromium.
 *
 * Restarts: the batch id is kept in `<out>/.mergeshot-batch.json`; `--resume` follows that
 * batch again instead of submitting a new one (chunks already queued are not added twice,
 * rows already recorded are not rendered twice). Ctrl-C stops following, never the workers:
 * the batch goes on and `--resume` collects it, or `--cancel` stops it.
 */
const batchFile = '.mergeshot-batch.json';
/** Images fetched from the store at once. */
const fetchConcurrency = 16;

export async function runDistributedRender(pipeline: Pipeline, settings: DistributedSettings, templateRef: string, options: RenderCommandOptions): Promise<RenderSummary & { readonly batchId: string }> {
  const template = await pipeline.registry.get(templateRef);
  assertMapFields(template, options.map);
  const { presetName, size } = targetOf(pipeline, template, { preset: options.preset, size: options.size });
  const outDir = resolve(options.out);
  await mkdir(outDir, { recursive: true });
  const previous = options.resume ? await readBatchFile(outDir) : undefined;
  const batchId = previous ?? randomUUID();
  if (!previous) await writeFileAtomic(join(outDir, batchFile), JSON.stringify({ batchId }));

  const submitter = await openBatchSubmitter(settings);
  const progress = createProgress(undefined);
  try {
    const { batches, store } = submitter;
    const withRecord = options.name !== '{{row}}';
    // Re-submitting a resumed batch is safe and cheap: job ids dedupe, recorded rows are skipped.
    const { total } = await batches.submit(batchId, { template: template.id, templateVersion: template.version, preset: presetName, size: size.name, withRecord, fields: template.manifest.fields }, templateRows(template, options, progress));
    let shown = 0;
    let lastNote = '';
    for (let wait = 50; ; wait = Math.min(wait * 2, 500)) {
      const state: BatchProgress | undefined = await batches.progress(batchId).catch(() => undefined);
      if (state) {
        for (; shown < state.done; shown += 1) progress.tick(shown < state.ok ? 'ok' : shown < state.ok + state.warning ? 'warning' : 'failed');
        const note = state.retrying ? `retrying ${state.retrying} chunk(s) after a store or Redis error (backoff)` : '';
        if (note && note !== lastNote) progress.log(`note: ${note}`);
        lastNote = note;
        if (state.done >= total) break;
        if (state.cancelled) {
          // Another terminal ran --cancel: its results are gone, nothing will complete it.
          progress.log(`batch ${batchId} was cancelled (render --cancel); nothing more to collect. Run the command again without --resume for a new batch.`);
          return { ok: 0, warning: 0, failed: 0, skipped: 0, interrupted: true, manifestPath: '', outDir, batchId };
        }
        if (state.done > 0) wait = 50;
      }
      if (options.signal.aborted) break;
      await sleep(wait);
    }
    if (options.signal.aborted) {
      progress.log(`interrupted: the workers go on with batch ${batchId}; collect it with the same command and --resume, or stop it with the same command and --cancel`);
      return { ok: 0, warning: 0, failed: 0, skipped: 0, interrupted: true, manifestPath: '', outDir, batchId };
    }
    const results = await batches.results(batchId);
    const namer = createNamer(options.name);
    const files = results.map((result) => (result.key ? namer(result.row, result.record ?? {}, result.format === 'jpeg' ? 'jpg' : (result.format ?? 'png')) : ''));
    const entries: ManifestEntry[] = new Array(results.length);
    let next = 0;
    const fetchOne = async (): Promise<void> => {
      for (let at = next++; at < results.length; at = next++) {
        entries[at] = await collectRow(results[at]!, store, files[at]!, async (file, bytes) => {
          await writeFileAtomic(join(outDir, file), bytes);
        });
      }
    };
    await Promise.all(Array.from({ length: fetchConcurrency }, fetchOne));
    const counts = { ok: 0, warning: 0, failed: 0, skipped: 0 };
    for (const entry of entries) counts[entry.status] += 1;
    const manifestPath = await writeManifest(outDir, entries);
    if (options.zip) await writeOutputsZip(createWriteStream(resolve(options.zip)), entries, (file) => join(outDir, file));
    // Collected: Redis's copy of the results (alt texts, and fields for --name) goes now, and
    // the batch file with it: a later --resume starts a new batch, not one Redis has forgotten.
    await batches.forget(batchId);
    await rm(join(outDir, batchFile), { force: true });
    return { ...counts, interrupted: false, manifestPath, outDir, batchId };
  } finally {
    progress.stop();
    await submitter.close();
  }
}

/**
 * `mergeshot render … --redis … --cancel`: stops the batch that --out follows, for good. Its
 * queued chunks are removed, a worker on one stops within a few rows, its state leaves Redis
 * (images already in the store stay: they are shared by content key). The batch file goes too,
 * so a later run of the same command starts a new batch instead of following a cancelled one.
 */
export async function cancelDistributedRender(settings: DistributedSettings, out: string): Promise<{ readonly batchId: string; readonly chunksRemoved: number }> {
  const outDir = resolve(out);
  const batchId = await readBatchFile(outDir);
  if (!batchId) throw new UsageError('BATCH_NOT_FOUND', `no distributed batch to cancel in ${outDir}: it has no ${batchFile}.`, { field: '--out', hint: 'Give the --out folder of the distributed render to stop.' });
  const chunksRemoved = await cancelBatch(settings, batchId);
  await rm(join(outDir, batchFile), { force: true });
  return { batchId, chunksRemoved };
}

async function readBatchFile(outDir: string): Promise<string | undefined> {
  const text = await readFile(join(outDir, batchFile), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as { batchId?: unknown };
    return typeof parsed.batchId === 'string' && /^[A-Za-z0-9_-]{1,80}$/.test(parsed.batchId) ? parsed.batchId : undefined;
  } catch {
    return undefined;
  }
}
