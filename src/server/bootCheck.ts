import type { Logger } from 'pino';
import type { MergeshotConfig } from '../config/index.js';
import { checkFallbacks } from '../data/index.js';
import { ConfigError, isMergeshotError, type ErrorCode } from '../errors/index.js';
import type { Pipeline } from '../pipeline/index.js';

/**
 * What the server checks before it listens, split by who made the mistake:
 *
 * - The operator's configuration (`server.extensionPresets` naming a preset that is missing or
 *   makes the wrong format) is fatal: it breaks every template's URLs alike, it is fixed where the
 *   server is started, and starting anyway would serve nothing right.
 * - A template's own problems (it does not load: template.html does not parse, template.json is
 *   invalid; a fallback breaks its field's rules; a `defaultPreset` that is not a preset; and
 *   `"access": "signed"` with no signing key configured) belong to that template. They usually
 *   arrive with a designer's commit, so one of them must not take every other image URL down
 *   at the next deploy: the server starts, the template answers as a template broken at run
 *   time does (its error, or the fallback image where one can be made; a signed template with no
 *   key refuses every URL, which fails closed), `/readyz` lists it and the boot log warns.
 *   `server.strict` (`mergeshot serve --strict`) refuses to start instead, for teams that want a
 *   deploy to fail; `mergeshot check --all` in CI refuses it before the deploy.
 */

/** One problem of one template, as /readyz lists it (code only) and the boot log warns it. */
export interface TemplateProblem {
  readonly template: string;
  readonly code: ErrorCode;
  /** For the operator's log and the strict refusal; may hold server paths, so never on a public route. */
  readonly message: string;
}

/** Every problem of every template under templatesDir; a template may have several. */
export async function templateProblems(pipeline: Pipeline, config: Readonly<MergeshotConfig>): Promise<TemplateProblem[]> {
  const problems: TemplateProblem[] = [];
  for (const id of await pipeline.registry.list()) {
    try {
      const template = await pipeline.registry.get(id);
      for (const message of checkFallbacks(template.manifest.fields, { locale: template.manifest.locale })) problems.push({ template: id, code: 'MANIFEST_INVALID', message: `templates/${id}/template.json: ${message}` });
      if (template.manifest.access === 'signed' && config.server.signingKeys.length === 0) {
        problems.push({ template: id, code: 'CONFIG_INVALID', message: `template "${id}" has "access": "signed" but no signing key is configured: set MERGESHOT_SIGNING_KEYS (comma-separated; the first signs, all verify), or make the template "open".` });
      }
      // Own presets only: "defaultPreset": "constructor" must not pass for Object.prototype's member.
      if (template.manifest.defaultPreset && !Object.hasOwn(pipeline.presets, template.manifest.defaultPreset)) {
        problems.push({ template: id, code: 'PRESET_UNKNOWN', message: `templates/${id}/template.json: defaultPreset "${template.manifest.defaultPreset}" is not a preset. Presets: ${Object.keys(pipeline.presets).join(', ')}.` });
      }
    } catch (error) {
      problems.push({ template: id, code: isMergeshotError(error) ? error.code : 'INTERNAL', message: isMergeshotError(error) ? error.message : String(error) });
    }
  }
  return problems;
}

/** The configuration's own problems (every one listed): the server cannot start with any of them. */
function configProblems(pipeline: Pipeline, config: Readonly<MergeshotConfig>): string[] {
  const problems: string[] = [];
  const formats = { jpg: 'jpeg', png: 'png', webp: 'webp' } as const;
  for (const [ext, name] of Object.entries(config.server.extensionPresets) as [keyof typeof formats, string][]) {
    const preset = Object.hasOwn(pipeline.presets, name) ? pipeline.presets[name] : undefined;
    if (!preset) problems.push(`server.extensionPresets.${ext}: no preset "${name}". Presets: ${Object.keys(pipeline.presets).join(', ')}.`);
    else if (preset.format !== formats[ext]) problems.push(`server.extensionPresets.${ext}: preset "${name}" makes ${preset.format}, not ${formats[ext]}.`);
  }
  return problems;
}

/**
 * Throws CONFIG_INVALID listing every configuration problem, and, with `server.strict`, every
 * template problem too. Otherwise warns one line per template problem and returns them.
 */
export async function checkAtBoot(pipeline: Pipeline, config: Readonly<MergeshotConfig>, logger: Logger): Promise<TemplateProblem[]> {
  const fatal = configProblems(pipeline, config);
  const problems = await templateProblems(pipeline, config);
  if (config.server.strict) fatal.push(...problems.map((problem) => problem.message));
  if (fatal.length > 0) {
    const hint = config.server.strict && problems.length > 0 ? 'server.strict (--strict) refuses to start with a broken template; without it the server starts and serves the others.' : undefined;
    throw new ConfigError('CONFIG_INVALID', fatal.join('\n'), hint ? { hint } : {});
  }
  for (const problem of problems) logger.warn({ template: problem.template, code: problem.code, reason: problem.message }, 'template not served as written; the others are (listed by /readyz; --strict refuses to start)');
  return problems;
}
