import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparableImage, currentFingerprint, goldenInputs, sidecarJson, sidecarOf, visualSuite } from '../../src/visual/index.js';
import { bundledTemplates, repoRoot } from '../support/pipeline.js';
import { createWorkspace, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

/**
 * The visual review over HTTP, real Chromium and real files: a copy of welcome-banner with its
 * goldens in a workspace of its own, its CSS edited so its images differ, then accepted.
 */
const apiKey = 'visual-api-key-0123456789';
const id = 'welcome-banner';
let workspace: TestWorkspace;
let server: TestServer;
let templateDir: string;

beforeAll(async () => {
  // Accept needs `admin`, which implies every other scope.
  workspace = await createWorkspace({ server: { apiKeys: [{ name: 'admin', key: apiKey, scopes: ['admin'] }] } });
  templateDir = join(workspace.templatesDir, id);
  await cp(join(bundledTemplates, id), templateDir, { recursive: true });
  await cp(join(bundledTemplates, '__golden__'), join(workspace.templatesDir, '__golden__'), { recursive: true });
  server = await startServer(workspace.pipeline, workspace.config);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

const api = (method: 'get' | 'post', path: string) => request(server.url)[method](path).set('Authorization', `Bearer ${apiKey}`);

interface Review {
  status: string;
  counts: Record<string, number>;
  renderer: { change?: string; stored?: unknown };
  cases: { name: string; status: string; diffPixels?: number; changedInputs: string[]; tolerance: string; urls: Record<string, string> }[];
}

async function review(): Promise<Review> {
  const response = await api('get', `/api/templates/${id}/visual`).expect(200);
  return response.body as Review;
}

async function png(path: string): Promise<Buffer> {
  const response = await api('get', path).buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  });
  expect(response.status, String(response.body)).toBe(200);
  expect(response.headers['content-type']).toBe('image/png');
  return response.body as Buffer;
}

/** A 40×40 CSS px pure green square in the top-left corner: a change the diff must show there. */
async function paintCorner(): Promise<void> {
  const path = join(templateDir, 'template.html');
  const html = await readFile(path, 'utf8');
  await writeFile(path, html.replace('</style>', '  .banner::after { content: ""; position: absolute; left: 0; top: 0; width: 40px; height: 40px; background: #00ff00; }\n</style>'));
  // Re-reads the templates now instead of waiting for the file watcher.
  await api('post', '/api/purge').send({ template: id }).expect(200);
}

/** What the template suite writes for one case under --update-snapshots, computed its way. */
async function suiteWrites(caseName: string): Promise<{ image: Buffer; sidecar: string }> {
  const template = await workspace.pipeline.registry.getById(id);
  const entry = visualSuite(id, template.dir, template.manifest).cases.find((c) => c.name === caseName)!;
  const result = await workspace.pipeline.renderOne({ template: template.dir, data: entry.data, preset: entry.preset, size: entry.size });
  const image = await comparableImage(result, entry.sizeWidth, entry.masks);
  const fingerprint = await currentFingerprint(workspace.pipeline);
  const inputs = await goldenInputs(template.dir, join(repoRoot, 'styles'), fingerprint.fonts, entry.data);
  return { image, sidecar: sidecarJson(sidecarOf(image, result.warnings, inputs)) };
}

describe('/api/templates/:id/visual', () => {
  it('agrees with the suite on the bundled goldens: every image passes', async () => {
    const before = await review();
    expect(before.renderer.change).toBeUndefined();
    expect(before.cases.length).toBeGreaterThan(3);
    expect(before.cases.filter((c) => c.status !== 'pass').map((c) => c.name)).toEqual([]);
    expect(before.status).toBe('pass');
    expect(before.cases[0]!.tolerance).toBe('exact (maxDiffPixels 0, threshold 0), no masks; set in template.json check.visual');
  }, 120_000);

  it('after a CSS edit: every image differs, the diff is red where the CSS painted, the inputs say template.html', async () => {
    await paintCorner();
    const after = await review();
    expect(after.status).toBe('fail');
    expect(after.counts.differs).toBe(after.cases.length);
    const typical = after.cases.find((c) => c.name === 'typical.default.original')!;
    expect(typical.status).toBe('differs');
    expect(typical.changedInputs).toEqual(['template.html changed']);

    const actual = await png(typical.urls.actual!);
    const expected = await png(typical.urls.expected!);
    expect(expected.equals(await readFile(join(templateDir, '__golden__/typical.default.original.png')))).toBe(true);
    const { width } = await sharp(actual).metadata();
    const scale = width! / 600;
    const square = Math.round(40 * scale);
    // The golden holds no green there; the render does.
    const pixel = async (image: Buffer, x: number, y: number) => [...(await sharp(image).extract({ left: x, top: y, width: 1, height: 1 }).removeAlpha().raw().toBuffer())];
    expect(await pixel(actual, 5, 5)).toEqual([0, 255, 0]);
    expect(await pixel(expected, 5, 5)).not.toEqual([0, 255, 0]);

    // Playwright's diff image: changed pixels red, the rest a faded grey copy.
    const diff = await png(typical.urls.diff!);
    const raw = await sharp(diff).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const isRed = (x: number, y: number) => {
      const at = (y * raw.info.width + x) * 3;
      return raw.data[at] === 255 && raw.data[at + 1] === 0 && raw.data[at + 2] === 0;
    };
    let inside = 0;
    let outside = 0;
    for (let y = 0; y < raw.info.height; y++) {
      for (let x = 0; x < raw.info.width; x++) {
        if (!isRed(x, y)) continue;
        if (x < square && y < square) inside += 1;
        else outside += 1;
      }
    }
    // pixelmatch calls some pixels of a flat area over a gradient anti-aliasing (yellow, not counted).
    expect(inside).toBeGreaterThan(square * square * 0.5);
    expect(outside).toBe(0);
    expect(inside).toBe(typical.diffPixels);
  }, 120_000);

  it('accepts one image: the golden and sidecar on disk are what --update-snapshots writes', async () => {
    const name = 'typical.default.original';
    const response = await api('post', `/api/templates/${id}/visual/accept`).send({ cases: [name] }).expect(200);
    expect(response.body.written).toEqual([name]);
    expect(response.body.renderer).toBe(false);
    const cases = (response.body.review as Review).cases;
    expect(cases.find((c) => c.name === name)!.status).toBe('pass');
    expect(cases.filter((c) => c.status === 'differs').length).toBe(cases.length - 1);

    const suite = await suiteWrites(name);
    expect((await readFile(join(templateDir, `__golden__/${name}.png`))).equals(suite.image)).toBe(true);
    expect(await readFile(join(templateDir, `__golden__/${name}.json`), 'utf8')).toBe(suite.sidecar);
    // No diff for an image that matches.
    const noDiff = await api('get', `/api/templates/${id}/visual/${name}/diff.png`).expect(404);
    expect(noDiff.body.error.code).toBe('VISUAL_NO_DIFF');
  }, 120_000);

  it('a missing golden shows as missing, and "all" accepts it with the rest; the renderer fingerprint is written when absent', async () => {
    const name = 'xss.default.original';
    await rm(join(templateDir, `__golden__/${name}.png`));
    await rm(join(templateDir, `__golden__/${name}.json`));
    await rm(join(workspace.templatesDir, '__golden__/renderer.json'));
    const before = await review();
    expect(before.cases.find((c) => c.name === name)!.status).toBe('missing');
    expect(before.renderer.stored).toBeUndefined();
    const noGolden = await api('get', `/api/templates/${id}/visual/${name}/expected.png`).expect(404);
    expect(noGolden.body.error.code).toBe('GOLDEN_NOT_FOUND');

    const response = await api('post', `/api/templates/${id}/visual/accept`).send({ all: true }).expect(200);
    expect(response.body.written).toHaveLength(before.cases.length - 1);
    expect(response.body.written).toContain(name);
    expect(response.body.unchanged).toEqual(['typical.default.original']);
    expect(response.body.renderer).toBe(true);
    expect(response.body.review.status).toBe('pass');
    const suite = await suiteWrites(name);
    expect((await readFile(join(templateDir, `__golden__/${name}.png`))).equals(suite.image)).toBe(true);
    expect(await readFile(join(templateDir, `__golden__/${name}.json`), 'utf8')).toBe(suite.sidecar);
    expect(await readFile(join(workspace.templatesDir, '__golden__/renderer.json'), 'utf8')).toBe(await readFile(join(bundledTemplates, '__golden__/renderer.json'), 'utf8'));
  }, 120_000);

  it('refuses what it cannot do with a code and a message naming the field', async () => {
    const unknown = await api('get', `/api/templates/${id}/visual/nope.default.original/actual.png`).expect(404);
    expect(unknown.body.error.code).toBe('VISUAL_CASE_NOT_FOUND');
    const badName = await api('get', `/api/templates/${id}/visual/..%2F..%2Fetc/actual.png`).expect(400);
    expect(badName.body.error).toMatchObject({ code: 'USAGE', field: 'case' });
    const badKind = await api('get', `/api/templates/${id}/visual/typical.default.original/golden.png`).expect(400);
    expect(badKind.body.error).toMatchObject({ code: 'USAGE', field: 'kind' });
    const neither = await api('post', `/api/templates/${id}/visual/accept`).send({}).expect(400);
    expect(neither.body.error.message).toContain('send either "cases"');
    const both = await api('post', `/api/templates/${id}/visual/accept`).send({ all: true, cases: ['typical.default.original'] }).expect(400);
    expect(both.body.error.code).toBe('USAGE');
    const extra = await api('post', `/api/templates/${id}/visual/accept`).send({ all: true, force: true }).expect(400);
    expect(extra.body.error.message).toContain('force');
    const acceptUnknown = await api('post', `/api/templates/${id}/visual/accept`).send({ cases: ['nope.default.original'] }).expect(404);
    expect(acceptUnknown.body.error.code).toBe('VISUAL_CASE_NOT_FOUND');
    await api('get', '/api/templates/no-such-template/visual').expect(404);
    await request(server.url).get(`/api/templates/${id}/visual`).expect(401);
  }, 120_000);
});
