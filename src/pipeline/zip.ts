import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { ZipArchive } from 'archiver';
import { manifestCsv, type ManifestEntry } from './manifest.js';

/**
 * A batch's outputs as one zip, the same for every front end (`render --zip`, a server batch's
 * download): the images in row order, then manifest.csv. `imagePath` says where each output
 * file is on disk; rows without a file (failed) are in the manifest only.
 */
export async function writeOutputsZip(destination: Writable, entries: Iterable<ManifestEntry>, imagePath: (file: string) => string): Promise<void> {
  const rows = [...entries].sort((a, b) => a.row - b.row);
  const archive = new ZipArchive({ zlib: { level: 1 } }); // images are already compressed
  const sent = streamPipeline(archive, destination);
  for (const entry of rows) {
    // append(stream), not file(path): file() stats first, so a later entry could overtake it.
    if (entry.file) archive.append(createReadStream(imagePath(entry.file)), { name: entry.file });
  }
  archive.append(manifestCsv(rows), { name: 'manifest.csv' });
  await archive.finalize();
  await sent;
}
