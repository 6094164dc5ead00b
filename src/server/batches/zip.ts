import type { Writable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { ZipArchive } from 'archiver';
import { manifestCsv } from '../../pipeline/index.js';
import type { BatchStore, OutcomeLine } from './store.js';

/** Streams a finished job as a zip into `destination`: its images in row order, then manifest.csv. */
export async function writeBatchZip(store: BatchStore, id: string, outcomes: ReadonlyMap<number, OutcomeLine>, destination: Writable): Promise<void> {
  const archive = new ZipArchive({ zlib: { level: 1 } }); // images are already compressed
  const sent = streamPipeline(archive, destination);
  for (const outcome of [...outcomes.values()].sort((a, b) => a.row - b.row)) {
    if (outcome.file) archive.file(store.imagePath(id, outcome.file), { name: outcome.file });
  }
  archive.append(manifestCsv(outcomes.values()), { name: 'manifest.csv' });
  await archive.finalize();
  await sent;
}
