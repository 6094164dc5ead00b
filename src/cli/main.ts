/**
 * The `mergeshot` command. The only place that installs signal handlers, prints to the
 * terminal for the user and chooses exit codes: 0 every row rendered, 1 some rows failed
 * (the rest still rendered), 2 usage or configuration errors, 130 interrupted.
 */
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig, type MergeshotConfigInput } from '../config/index.js';
import { isMergeshotError, UsageError } from '../errors/index.js';
import { createPipeline, type Pipeline } from '../pipeline/index.js';
import { runCheck } from './commands/check.js';
import { runDoctor } from './commands/doctor.js';
import { runExample } from './commands/example.js';
import { runNew } from './commands/new.js';
import { runPreflightCommand } from './commands/preflight.js';
import { runPreview } from './commands/preview.js';
import { assertReadable, runRender } from './commands/render.js';
import { runServe } from './commands/serve.js';
import { cancelDistributedRender, runDistributedRender } from './commands/renderDistributed.js';
import { runWorker } from './commands/worker.js';
import { espNames } from '../server/index.js';
import { runUrl } from './commands/url.js';
import { runUrls } from './commands/urls.js';

const interrupt = new AbortController();
/** Set by commands that finish their work in flight on a signal (render, example, serve). */
let drainsOnInterrupt = false;
let interrupts = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupts += 1;
    // A second Ctrl-C forces; a command with nothing to finish stops at the first. Playwright
    // kills the Chromium it launched when this process exits.
    if (interrupts > 1 || !drainsOnInterrupt) process.exit(130);
    process.stderr.write(`\n${signal}: finishing work in flight (again to force)\n`);
    interrupt.abort();
  });
}

// A closed pipe (`mergeshot render … | head`) must not kill a batch half-way: drop the output.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

/** A repeatable `field=value` option: --map firstName="First Name", --date-format date=DD/MM/YYYY. */
function parseAssignment(flag: string, example: string) {
  return (value: string, previous: Record<string, string>): Record<string, string> => {
    const at = value.indexOf('=');
    if (at < 1 || at === value.length - 1) throw new UsageError('USAGE', `${flag} ${value}: expected ${example}`);
    return { ...previous, [value.slice(0, at).trim()]: value.slice(at + 1).trim() };
  };
}

const parseMap = parseAssignment('--map', 'field=Column, e.g. --map firstName="First Name"');
const parseDateFormat = parseAssignment('--date-format', 'field=FORMAT, e.g. --date-format date=DD/MM/YYYY (or MM/DD/YYYY, DD.MM.YYYY, "D MMMM YYYY", excel, unix, en-GB)');
const parseNumberFormat = parseAssignment('--number-format', 'field=SAMPLE, e.g. --number-format price=1.234,50 (or 1,234.50, de-DE)');

function parsePositiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError('USAGE', `${name} ${value}: expected a whole number ≥ 1`);
    return Number(value);
  };
}

async function withPipeline<T>(overrides: MergeshotConfigInput, work: (pipeline: Pipeline) => Promise<T>): Promise<T> {
  const config = await loadConfig({ overrides });
  const pipeline = createPipeline(config, { onWarning: (message) => process.stderr.write(`warning: ${message}\n`) });
  try {
    return await work(pipeline);
  } finally {
    await pipeline.close();
  }
}

const program = new Command('mergeshot')
  .description('Personalized images from HTML/CSS templates and data: one image per record, sized for its channel.')
  .option('--templates <dir>', 'templates folder (default ./templates)')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

program
  .command('render')
  .description('render one image per record of a CSV, JSON or NDJSON file')
  .argument('<template>', 'template id (folder under templates/) or a template folder')
  .requiredOption('--data <file>', 'CSV, JSON or NDJSON file, or - for standard input')
  .option('--preset <name>', 'channel preset: email, email-png, whatsapp, og, web, original, or one from mergeshot.config.json')
  .option('--size <name>', "one of the template's named sizes")
  .option('--out <dir>', 'output folder', 'out')
  .option('--name <pattern>', 'file name pattern (Handlebars over the row and fields)', '{{row}}')
  .option('--map <field=Column>', 'match a field to a column by hand (repeatable)', parseMap, {})
  .option('--date-format <field=FORMAT>', "how a date field's column writes dates: DD/MM/YYYY, MM/DD/YYYY, DD.MM.YYYY, \"D MMMM YYYY\", excel, unix, a locale like en-GB (repeatable; default: decided from the column's values)", parseDateFormat, {})
  .option('--number-format <field=SAMPLE>', "how a number field's column writes numbers: 1.234,50, 1,234.50 or a locale like de-DE (repeatable; default: decided from the column's values)", parseNumberFormat, {})
  .addOption(new Option('--concurrency <n>', 'renders in flight (default: 2 × pages)').argParser(parsePositiveInt('--concurrency')))
  .option('--zip <file>', 'also write a zip of the images and manifest.csv')
  .option('--resume', 'skip rows already rendered with the same inputs in --out', false)
  .option('--redis <url>', 'distributed: queue the rows for `mergeshot worker`s on this Redis (MERGESHOT_REDIS_URL)')
  .option('--store <s3url>', 'distributed: where the workers put the images, s3://bucket/prefix (MERGESHOT_STORE_URL)')
  .option('--cancel', 'distributed: stop the batch that --out follows (queued chunks removed, workers stop within a few rows)', false)
  .action(async (template: string, flags: { data: string; preset?: string; size?: string; out: string; name: string; map: Record<string, string>; dateFormat: Record<string, string>; numberFormat: Record<string, string>; concurrency?: number; zip?: string; resume: boolean; redis?: string; store?: string; cancel: boolean }) => {
    const { dateFormat, numberFormat, ...rest } = flags;
    const options = { ...rest, formats: { ...dateFormat, ...numberFormat } };
    if (options.cancel) {
      const config = await loadConfig({ overrides: { ...globalOverrides(), ...distributedOverrides(options) } });
      const { batchId, chunksRemoved } = await cancelDistributedRender(config.distributed, options.out);
      process.stderr.write(`cancelled batch ${batchId}: ${chunksRemoved} queued chunk(s) removed; a chunk in progress stops within a few rows\n`);
      return;
    }
    await assertReadable(options.data);
    drainsOnInterrupt = true;
    const overrides = { ...globalOverrides(), ...distributedOverrides(options) };
    const summary = await withPipeline(overrides, (pipeline) =>
      pipeline.config.distributed.redisUrl || pipeline.config.distributed.storeUrl
        ? runDistributedRender(pipeline, pipeline.config.distributed, template, { ...options, signal: interrupt.signal, stdin: process.stdin })
        : runRender(pipeline, template, { ...options, signal: interrupt.signal, stdin: process.stdin }),
    );
    const total = summary.ok + summary.warning + summary.failed;
    process.stderr.write(
      `${summary.interrupted ? 'interrupted: ' : ''}${total} rows rendered (${summary.ok} ok, ${summary.warning} with warnings, ${summary.failed} failed${summary.skipped ? `, ${summary.skipped} skipped by --resume` : ''})\n` +
        `images: ${summary.outDir}\nmanifest: ${summary.manifestPath}\n`,
    );
    process.exitCode = summary.interrupted ? 130 : summary.failed > 0 ? 1 : 0;
  });

program
  .command('new')
  .description('create a template folder to begin from: the starter (base stylesheet, fitted headline, fallbacks, ugly-data samples) or a copy')
  .argument('<id>', 'template id: the folder name and the URL /i/<id>.png')
  .option('--name <text>', 'display name (default from the id)')
  .option('--from <template>', 'copy this template instead of the starter')
  .action(async (id: string, options: { name?: string; from?: string }) => {
    const config = await loadConfig({ overrides: globalOverrides() });
    const dir = await runNew(id, { templatesDir: config.templatesDir, name: options.name, from: options.from });
    process.stdout.write(
      `created ${dir}\n` +
        `  edit      ${join(dir, 'template.html')} and template.json (fields, fallbacks, samples)\n` +
        `  look      mergeshot preview ${id} --out ${id}.png   (every sample on one sheet, with its warnings)\n` +
        `  serve     mergeshot serve, then http://localhost:3000/i/${id}.png?headline=Hello\n`,
    );
  });

program
  .command('preview')
  .description('a contact sheet of every sample of a template, each labelled with its warnings')
  .argument('<template>', 'template id or folder')
  .option('--size <name>', "one of the template's named sizes")
  .option('--preset <name>', 'channel preset to show (default original: lossless)')
  .option('--out <file>', 'output PNG', 'preview.png')
  .action(async (template: string, options: { size?: string; preset?: string; out: string }) => {
    const path = await withPipeline(globalOverrides(), (pipeline) => runPreview(pipeline, template, options));
    process.stderr.write(`contact sheet: ${path}\n`);
  });

program
  .command('doctor')
  .description('check the browser, fonts and a test render')
  .action(async () => {
    const ok = await withPipeline(globalOverrides(), (pipeline) => runDoctor(pipeline, process.stdout));
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('example')
  .description('render the bundled example data of every bundled template into ./out')
  .option('--out <dir>', 'output folder', 'out')
  .action(async (options: { out: string }) => {
    drainsOnInterrupt = true;
    const failed = await withPipeline(globalOverrides(), (pipeline) => runExample(pipeline, { out: options.out, signal: interrupt.signal }, process.stderr));
    process.exitCode = interrupt.signal.aborted ? 130 : failed > 0 ? 1 : 0;
  });

program
  .command('serve')
  .description('serve image URLs (/i/<template>.<ext>?field=value), tokens, the API, health and metrics over HTTP')
  .addOption(new Option('--port <n>', 'port (default 3000, MERGESHOT_PORT; 0 picks a free one)').argParser(parsePort))
  .option('--host <address>', 'address to listen on (default 0.0.0.0)')
  .option('--redis <url>', 'distributed: render locks and purges shared over this Redis (MERGESHOT_REDIS_URL)')
  .option('--store <s3url>', 'distributed: the image cache shared by every node, s3://bucket/prefix (MERGESHOT_STORE_URL)')
  .option('--strict', 'refuse to start when a template does not load (server.strict); by default the others are served')
  .action(async (options: { port?: number; host?: string; redis?: string; store?: string; strict?: boolean }) => {
    const config = await loadConfig({ overrides: { ...globalOverrides(), ...distributedOverrides(options), server: { ...(options.port !== undefined ? { port: options.port } : {}), ...(options.host ? { host: options.host } : {}), ...(options.strict ? { strict: true } : {}) } } });
    drainsOnInterrupt = true;
    await runServe(config, { signal: interrupt.signal, stderr: process.stderr });
    process.exitCode = 0; // a drained shutdown is a clean exit
  });

program
  .command('check')
  .description('lint a template: fields, markup, and renders of its samples and of generated edge cases (overflow, glyphs, contrast, channel budgets)')
  .argument('[template]', 'template id or folder')
  .option('--all', 'check every template under the templates folder', false)
  .option('--json', 'print the findings as JSON', false)
  .option('--size <name>', "one of the template's named sizes (default: its default size)")
  .action(async (template: string | undefined, options: { all: boolean; json: boolean; size?: string }) => {
    process.exitCode = await withPipeline(globalOverrides(), (pipeline) => runCheck(pipeline, template, { ...options, signal: interrupt.signal, stdout: process.stdout }));
  });

program
  .command('preflight')
  .description('the pre-send checklist over a campaign list: every row measured (fallbacks, merge tags, overflow, fitted size, glyphs, images, duplicates), the worst cases rendered, an HTML report')
  .argument('<template>', 'template id or folder')
  .requiredOption('--data <file>', 'CSV, JSON or NDJSON file, or - for standard input')
  .option('--preset <name>', "the campaign's channel preset (default: the template's)")
  .option('--size <name>', "one of the template's named sizes")
  .option('--map <field=Column>', 'match a field to a column by hand (repeatable)', parseMap, {})
  .option('--date-format <field=FORMAT>', "how a date field's column writes dates, as for render (repeatable; default: decided from the column's values)", parseDateFormat, {})
  .option('--number-format <field=SAMPLE>', "how a number field's column writes numbers, as for render (repeatable; default: decided from the column's values)", parseNumberFormat, {})
  .option('--recipient <column>', 'the column naming the recipient, for duplicates (default: an e-mail column)')
  .option('--out <dir>', 'report folder: report.html, summary.json, images/', 'preflight')
  .addOption(new Option('--concurrency <n>', 'rows measured at once (default: 2 × pages)').argParser(parsePositiveInt('--concurrency')))
  .action(async (template: string, flags: { data: string; preset?: string; size?: string; map: Record<string, string>; dateFormat: Record<string, string>; numberFormat: Record<string, string>; recipient?: string; out: string; concurrency?: number }) => {
    // Preflight reads rows as render does (readFieldRows), so an ambiguous column asks the same question and takes the same answer.
    const { dateFormat, numberFormat, ...rest } = flags;
    const options = { ...rest, formats: { ...dateFormat, ...numberFormat } };
    await assertReadable(options.data);
    drainsOnInterrupt = true;
    const summary = await withPipeline(globalOverrides(), (pipeline) => runPreflightCommand(pipeline, template, { ...options, signal: interrupt.signal, stdin: process.stdin }));
    process.stderr.write(
      `${summary.interrupted ? 'interrupted: ' : ''}${summary.rows} rows checked: ${summary.clean} clean, ${summary.warned} with warnings, ${summary.failed} would fail (${summary.measuredRowsPerSecond} rows/s)\n` +
        summary.kinds.map((k) => `  ${k.code}: ${k.rows} rows\n`).join('') +
        `report: ${join(resolve(options.out), 'report.html')}\n`,
    );
    process.exitCode = summary.interrupted ? 130 : summary.failed > 0 ? 1 : 0;
  });

program
  .command('url')
  .description("print an image URL with an email platform's merge tags, and an <img> snippet")
  .argument('<template>', 'template id')
  .addOption(new Option('--esp <platform>', 'email platform').choices(espNames).makeOptionMandatory())
  .option('--base <url>', 'where the server is reachable', 'http://localhost:3000')
  .option('--preset <name>', 'channel preset (default email)')
  .option('--size <name>', "one of the template's named sizes")
  .action(async (template: string, options: { esp: (typeof espNames)[number]; base: string; preset?: string; size?: string }) => {
    await withPipeline(globalOverrides(), (pipeline) => runUrl(pipeline, template, options, process.stdout));
  });

program
  .command('urls')
  .description('write the data file back as CSV with an image URL per row, for upload to an email platform')
  .argument('<template>', 'template id')
  .requiredOption('--data <file>', 'CSV, JSON or NDJSON file, or - for standard input')
  .requiredOption('--base <url>', 'where the server is reachable, e.g. https://img.example.com')
  .option('--preset <name>', 'channel preset')
  .option('--size <name>', "one of the template's named sizes")
  .option('--column <name>', 'name of the added column', 'image_url')
  .option('--out <file>', 'output CSV (default: standard output)')
  .option('--sign', 'sign each URL (MERGESHOT_SIGNING_KEYS)', false)
  .option('--token', 'put the data in an encrypted token instead of the query (MERGESHOT_TOKEN_KEY)', false)
  .option('--prerender', "request every URL once so the server's cache holds it before the send", false)
  .addOption(new Option('--concurrency <n>', 'requests in flight for --prerender').argParser(parsePositiveInt('--concurrency')).default(4))
  .action(async (template: string, options: { data: string; base: string; preset?: string; size?: string; column: string; out?: string; sign: boolean; token: boolean; prerender: boolean; concurrency: number }) => {
    await assertReadable(options.data);
    drainsOnInterrupt = true;
    const summary = await withPipeline(globalOverrides(), (pipeline) => runUrls(pipeline, template, { ...options, signal: interrupt.signal, stdin: process.stdin, stdout: process.stdout }));
    process.stderr.write(`${summary.rows} URLs written${summary.out ? ` to ${summary.out}` : ''}${summary.unreadable ? ` (${summary.unreadable} rows unreadable, their URLs empty)` : ''}${summary.prerendered !== undefined ? `; prerendered ${summary.prerendered}, ${summary.prerenderFailed} failed` : ''}\n`);
    process.exitCode = interrupt.signal.aborted ? 130 : summary.prerenderFailed > 0 || summary.unreadable > 0 ? 1 : 0;
  });

program
  .command('worker')
  .description('render chunk jobs of distributed batches (mergeshot render --redis --store) until SIGTERM')
  .option('--redis <url>', 'the queue: redis://host:6379 (MERGESHOT_REDIS_URL)')
  .option('--store <s3url>', 'where images go: s3://bucket/prefix (MERGESHOT_STORE_URL)')
  .addOption(new Option('--pages <n>', 'Chromium pages of this worker (default: one per core, MERGESHOT_PAGES)').argParser(parsePositiveInt('--pages')))
  .addOption(new Option('--concurrency <n>', 'renders in flight per chunk (default: 2 × pages)').argParser(parsePositiveInt('--concurrency')))
  .addOption(new Option('--metrics-port <n>', 'serve Prometheus metrics on this port').argParser(parsePort))
  .option('--metrics-host <address>', 'the address --metrics-port listens on (default 127.0.0.1: loopback only; 0.0.0.0 for every interface)')
  .action(async (options: { redis?: string; store?: string; pages?: number; concurrency?: number; metricsPort?: number; metricsHost?: string }) => {
    const config = await loadConfig({ overrides: { ...globalOverrides(), ...distributedOverrides(options), ...(options.pages ? { render: { pages: options.pages } } : {}) } });
    drainsOnInterrupt = true;
    await runWorker(config, { signal: interrupt.signal, concurrency: options.concurrency, metricsPort: options.metricsPort, metricsHost: options.metricsHost });
    process.exitCode = 0;
  });

/** --redis / --store as config overrides (they win over MERGESHOT_REDIS_URL / MERGESHOT_STORE_URL). */
function distributedOverrides(options: { redis?: string; store?: string }): MergeshotConfigInput {
  if (!options.redis && !options.store) return {};
  return { distributed: { ...(options.redis ? { redisUrl: options.redis } : {}), ...(options.store ? { storeUrl: options.store } : {}) } };
}

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new UsageError('USAGE', `--port ${value}: expected a whole number 0–65535`);
  return Number(value);
}

function globalOverrides(): MergeshotConfigInput {
  const { templates } = program.opts<{ templates?: string }>();
  return templates ? { templatesDir: templates } : {};
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (isMergeshotError(error)) {
    process.stderr.write(`error ${error.code}: ${error.message}\n${error.detail.hint ? `  hint: ${error.detail.hint}\n` : ''}`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
