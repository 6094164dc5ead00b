import type { Pipeline } from '../../pipeline/index.js';
import { runPreflight, type PreflightOptions, type PreflightSummary } from '../../preflight/index.js';
import { createProgress } from '../progress.js';

/** `mergeshot preflight`: the checklist over the real list, with a progress bar on a terminal. */
export async function runPreflightCommand(pipeline: Pipeline, template: string, options: Omit<PreflightOptions, 'onNote' | 'onRow'>): Promise<PreflightSummary> {
  const progress = createProgress(undefined, process.stderr, 'checked');
  try {
    return await runPreflight(pipeline, template, { ...options, onNote: (message) => progress.log(`note: ${message}`), onRow: (status) => progress.tick(status) });
  } finally {
    progress.stop();
  }
}
