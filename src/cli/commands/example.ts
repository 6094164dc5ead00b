import { join } from 'node:path';
import { confinedPath } from '../../files/index.js';
import type { Pipeline } from '../../pipeline/index.js';
import { runRender } from './render.js';

/**
 * `mergeshot example` (`npm run example`): renders each bundled template's example.csv with
 * its default preset into <out>/<template>/. Returns the number of failed rows.
 */
export async function runExample(pipeline: Pipeline, options: { out: string; signal: AbortSignal }, log: NodeJS.WritableStream): Promise<number> {
  let failed = 0;
  for (const id of await pipeline.registry.list()) {
    const template = await pipeline.registry.get(id);
    // Read only where it really is inside the template: a link out of it is refused (FILE_OUTSIDE_ROOT).
    const data = await confinedPath(template.dir, 'example.csv').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (data === undefined) continue;
    if (options.signal.aborted) break;
    const summary = await runRender(pipeline, id, { data, out: join(options.out, id), name: '{{row}}', map: {}, resume: false, signal: options.signal });
    failed += summary.failed;
    log.write(`${id}: ${summary.ok + summary.warning} images (${summary.warning} with warnings, ${summary.failed} failed) in ${summary.outDir}\n  manifest: ${summary.manifestPath}\n`);
  }
  return failed;
}
