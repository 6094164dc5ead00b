import { buildMergeTagUrl, type UrlCommandOptions } from '../../server/index.js';
import type { Pipeline } from '../../pipeline/index.js';

/** `mergeshot url <template> --esp <platform>`: prints the merge-tag URL, the `<img>` snippet and the platform's note. */
export async function runUrl(pipeline: Pipeline, templateId: string, options: UrlCommandOptions, out: NodeJS.WritableStream): Promise<void> {
  const { url, img, note } = await buildMergeTagUrl(pipeline, templateId, options);
  out.write(`${url}\n\n${img}\n\n# ${note}\n`);
}
