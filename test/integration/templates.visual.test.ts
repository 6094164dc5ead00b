import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledTemplates, repoRoot } from '../support/pipeline.js';

/**
 * The template suite (`npm run test:templates`, test/templates/visual.spec.ts) run for real, as
 * a child `npx playwright test`, against a copy of welcome-banner in a temp templates folder:
 * a one-pixel change fails it with a diff image, `--update-snapshots=changed` accepts it, and a
 * changed renderer fingerprint is said once. Only the `typical` sample is run, to stay fast.
 */
const template = 'welcome-banner';
const golden = 'typical.default.original';
// Two tests: one worker, so one Chromium to start.
const only = ['--grep', `renderer:|${template} typical default`, '--workers=1'];
let work: string;
let templates: string;

interface SuiteRun {
  readonly code: number;
  readonly output: string;
}

async function suite(args: readonly string[], env: Record<string, string> = {}): Promise<SuiteRun> {
  const suiteEnv: NodeJS.ProcessEnv = {
    ...process.env,
    MERGESHOT_VISUAL_TEMPLATES: templates,
    MERGESHOT_VISUAL_RESULTS: join(work, 'test-results'),
    MERGESHOT_VISUAL_REPORT: join(work, 'report'),
    ...env,
  };
  // Not a CI run of its own: Playwright's CI defaults (forbidOnly) have no business here.
  delete suiteEnv.CI;
  return new Promise((resolve) => {
    execFile('npx', ['playwright', 'test', '--project=templates', ...only, ...args], { cwd: repoRoot, env: suiteEnv, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` });
    });
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [] as string[])).map(String);
}

/** How many pixels of two images of the same size differ at all. */
async function differingPixels(a: Buffer | string, b: Buffer | string): Promise<number> {
  const [left, right] = await Promise.all([a, b].map((image) => sharp(image).ensureAlpha().raw().toBuffer({ resolveWithObject: true })));
  expect([left!.info.width, left!.info.height]).toEqual([right!.info.width, right!.info.height]);
  let count = 0;
  for (let i = 0; i < left!.data.length; i += 4) if (left!.data.readUInt32BE(i) !== right!.data.readUInt32BE(i)) count += 1;
  return count;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mergeshot-visual-'));
  templates = join(work, 'templates');
  await cp(join(bundledTemplates, template), join(templates, template), { recursive: true });
  await mkdir(join(templates, '__golden__'));
  await cp(join(bundledTemplates, '__golden__', 'renderer.json'), join(templates, '__golden__', 'renderer.json'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the template suite (Playwright Test) on a copy of a bundled template', () => {
  const goldenPath = () => join(templates, template, '__golden__', `${golden}.png`);
  const sidecarPath = () => join(templates, template, '__golden__', `${golden}.json`);

  it('passes on the unchanged copy', async () => {
    const run = await suite([]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/2 passed/);
  }, 240_000);

  it('fails on a one-pixel change to the CSS, with the expected, actual and diff images in test-results and the report', async () => {
    const html = join(templates, template, 'template.html');
    const source = await readFile(html, 'utf8');
    expect(source).toContain('</style>');
    const pixel = 'body::after { content: ""; position: fixed; left: 0; top: 0; width: 1px; height: 1px; background: #00ff00; z-index: 2147483647; }';
    await writeFile(html, source.replace('</style>', `${pixel}\n</style>`));
    const before = await readFile(goldenPath());

    const run = await suite([]);
    expect(run.code, run.output).not.toBe(0);
    expect(run.output).toContain(`${template} ${golden} against`);
    expect(run.output).toContain('exact (maxDiffPixels 0, threshold 0), no masks');
    expect(run.output).toContain('1 pixels (ratio');

    const results = await filesUnder(join(work, 'test-results'));
    const actual = results.find((file) => file.endsWith(`${golden}-actual.png`));
    expect(results.some((file) => file.endsWith(`${golden}-diff.png`)), results.join('\n')).toBe(true);
    expect(actual).toBeDefined();
    expect(await differingPixels(join(work, 'test-results', actual!), before)).toBe(1);
    // The golden is untouched by a failing run.
    expect((await readFile(goldenPath())).equals(before)).toBe(true);

    const report = await filesUnder(join(work, 'report'));
    expect(report).toContain('index.html');
    // Expected, actual and diff images, copied into the report's data folder.
    expect(report.filter((file) => file.startsWith('data') && file.endsWith('.png')).length).toBeGreaterThanOrEqual(3);
    // mergeshot's own attachment: which inputs changed since the golden was accepted.
    expect(run.output).toContain('template.html changed');
  }, 240_000);

  it('accepts the change with --update-snapshots=changed, then passes', async () => {
    const before = await readFile(goldenPath());
    const sidecarBefore = JSON.parse(await readFile(sidecarPath(), 'utf8')) as { inputs: { template: Record<string, string> } };

    const update = await suite(['--update-snapshots=changed']);
    expect(update.code, update.output).toBe(0);
    const after = await readFile(goldenPath());
    expect(await differingPixels(after, before)).toBe(1);
    const sidecarAfter = JSON.parse(await readFile(sidecarPath(), 'utf8')) as { inputs: { template: Record<string, string> } };
    expect(sidecarAfter.inputs.template['template.html']).not.toBe(sidecarBefore.inputs.template['template.html']);

    const again = await suite([]);
    expect(again.code, again.output).toBe(0);
  }, 240_000);

  it('says once that the renderer changed, skipping the images for that reason, and --update-snapshots accepts it', async () => {
    const fingerprintPath = join(templates, '__golden__', 'renderer.json');
    const fingerprint = JSON.parse(await readFile(fingerprintPath, 'utf8')) as { chromium: string };
    await writeFile(fingerprintPath, JSON.stringify({ ...fingerprint, chromium: '0.0.0.1' }));
    const reportFile = join(work, 'results.json');

    const run = await suite(['--reporter=json'], { PLAYWRIGHT_JSON_OUTPUT_FILE: reportFile });
    expect(run.code, run.output).not.toBe(0);
    const message = `the renderer changed from chromium 0.0.0.1 to chromium ${fingerprint.chromium}: review and accept`;
    const tests = flatten(JSON.parse(await readFile(reportFile, 'utf8')) as JsonSuite);
    const failed = tests.filter((test) => test.status === 'unexpected');
    expect(failed.map((test) => test.title)).toEqual(['renderer: the goldens were made by this renderer (Chromium, fonts, sharp)']);
    expect(failed[0]!.errors.join('\n')).toContain(message);
    const images = tests.filter((test) => test.title !== failed[0]!.title);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      expect(image.status, image.title).toBe('skipped');
      expect(image.skipReasons.join('\n'), image.title).toContain(message);
    }

    const update = await suite(['--update-snapshots=changed']);
    expect(update.code, update.output).toBe(0);
    expect((JSON.parse(await readFile(fingerprintPath, 'utf8')) as { chromium: string }).chromium).toBe(fingerprint.chromium);
  }, 240_000);
});

interface JsonSpec {
  readonly title: string;
  readonly tests: readonly { readonly status: string; readonly annotations: readonly { type: string; description?: string }[]; readonly results: readonly { readonly errors: readonly { message?: string }[] }[] }[];
}
interface JsonSuite {
  readonly suites?: readonly JsonSuite[];
  readonly specs?: readonly JsonSpec[];
}

/** Every test of Playwright's JSON report with its outcome, errors and skip reasons. */
function flatten(suite: JsonSuite): { title: string; status: string; errors: string[]; skipReasons: string[] }[] {
  const own = (suite.specs ?? []).flatMap((spec) =>
    spec.tests.map((test) => ({
      title: spec.title,
      status: test.status,
      errors: test.results.flatMap((result) => result.errors.map((error) => error.message ?? '')),
      skipReasons: test.annotations.filter((annotation) => annotation.type === 'skip').map((annotation) => annotation.description ?? ''),
    })),
  );
  return [...own, ...(suite.suites ?? []).flatMap(flatten)];
}
