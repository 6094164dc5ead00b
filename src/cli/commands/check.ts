import { UsageError } from '../../errors/index.js';
import type { Pipeline } from '../../pipeline/index.js';
import { checkTemplate, reportJson, reportText, summarize, type CheckReport } from '../../qa/index.js';

export interface CheckCommandOptions {
  readonly all: boolean;
  readonly json: boolean;
  readonly size?: string | undefined;
  readonly signal: AbortSignal;
  readonly stdout: NodeJS.WritableStream;
}

/**
 * `mergeshot check <template> | --all`: prints the report (text or JSON) and returns the exit
 * code: 0 clean or warnings only, 1 when a finding is at error level.
 */
export async function runCheck(pipeline: Pipeline, template: string | undefined, options: CheckCommandOptions): Promise<number> {
  if (options.all === (template !== undefined)) {
    throw new UsageError('USAGE', options.all ? 'check: give a template or --all, not both.' : 'check: which template? Give its id or folder, or --all for every template.', { hint: 'mergeshot check event-invite, or mergeshot check --all' });
  }
  const refs = options.all ? await pipeline.registry.list() : [template!];
  const reports: CheckReport[] = [];
  for (const ref of refs) {
    if (options.signal.aborted) break;
    reports.push(await checkTemplate(pipeline, ref, { size: options.all ? undefined : options.size, signal: options.signal }));
  }
  options.stdout.write(options.json ? reportJson(reports) : reportText(reports));
  return summarize(reports).errors > 0 ? 1 : 0;
}
