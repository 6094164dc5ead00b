/**
 * npm run bench [-- --records N]
 *
 * Renders event-invite with the email preset and compares, in the same run on the same machine:
 *  - mergeshot: the pipeline with its default pool;
 *  - naive: a new browser per image, load the document, Playwright screenshot, sharp encode;
 *  - floor: Chromium's fastest PNG capture (CDP captureScreenshot, optimizeForSpeed) repeated on
 *    an already-rendered, unchanged page of the same size, with the same number of pages.
 * The last line is JSON, for scripts.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { StaticResolver } from '../src/assets/index.js';
import { loadConfig } from '../src/config/index.js';
import { normalizeRecord } from '../src/data/index.js';
import { createPipeline, renderBatch, type BatchRow } from '../src/pipeline/index.js';
import { chromiumArgs, resolveExecutable } from '../src/render/index.js';
import { mergeDocument, TemplateRegistry } from '../src/template/index.js';
import { sampleTreeRss } from './rss.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000' }, naive: { type: 'string', default: '12' } } });
const records = Number(values.records);
const naiveRecords = Math.min(records, Number(values.naive));
const template = 'event-invite';
const preset = 'email';

const firstNames = ['Ada', 'Grace', 'محمد', '山田', 'Zoë', 'Oluwaseun', 'Ngozi', 'François', 'Björk', 'Siobhán', 'Wei', 'Ana María'];
const lastNames = ['Lovelace', 'Hopper', 'عبد الرحمن', '太郎', 'Ñúñez', 'Adeyemi', 'Okafor', 'Dupont', 'Guðmundsdóttir', "O'Brien", 'Zhang', 'de la Cruz'];
function record(i: number): Record<string, unknown> {
  return {
    name: `${firstNames[i % firstNames.length]} ${lastNames[(i * 7) % lastNames.length]}`,
    event: ['Design Systems Summit', 'Product Night', 'Annual Gala 2026'][i % 3],
    date: `2026-0${1 + (i % 9)}-1${i % 9}`,
    venue: ['Kulturbrauerei, Berlin', 'The Warehouse, London', ''][i % 3],
    vip: i % 4 === 0 ? 'yes' : 'no',
    photo: '',
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const config = await loadConfig();
const pages = config.render.pages;
console.log(`bench: ${records} records of ${template} with preset ${preset}, ${pages} pages, Node ${process.version}`);

// --- mergeshot ---
const rss = sampleTreeRss();
const pipeline = createPipeline(config);
await pipeline.warm();
await pipeline.renderOne({ template, data: record(0), preset }); // compile + first document, outside the timing
const latencies: number[] = [];
const started = performance.now();
async function* rows(): AsyncGenerator<BatchRow> {
  for (let i = 0; i < records; i++) yield { row: i + 1, values: record(i) };
}
let failed = 0;
const rowStarted = new Map<number, number>();
async function* timedRows(): AsyncGenerator<BatchRow> {
  for await (const row of rows()) {
    rowStarted.set(row.row, performance.now());
    yield row;
  }
}
for await (const outcome of renderBatch(pipeline, timedRows(), { template, preset, concurrency: pages * 2 })) {
  if (outcome.status === 'failed') failed += 1;
  latencies.push(performance.now() - rowStarted.get(outcome.row)!);
}
const elapsed = (performance.now() - started) / 1000;
const imagesPerSec = records / elapsed;
const stats = pipeline.stats();
await pipeline.close();
const peakRssMb = await rss.stop();
latencies.sort((a, b) => a - b);
const p50Ms = percentile(latencies, 50);
const p95Ms = percentile(latencies, 95);
console.log(`mergeshot: ${imagesPerSec.toFixed(1)} images/s, p50 ${p50Ms.toFixed(0)} ms, p95 ${p95Ms.toFixed(0)} ms, peak RSS ${peakRssMb} MB, ${failed} failed, ${stats.warmSwaps} warm body swaps`);

// --- shared pieces for the baselines: the same document and resources ---
const registry = new TemplateRegistry({ templatesDir: config.templatesDir, stylesDir: config.stylesDir });
const loaded = await registry.get(template);
const statics = new StaticResolver({ stylesDir: config.stylesDir });
const prefix = `/t/${template}/`;
const executable = await resolveExecutable(config.render.chromiumPath);
const documentFor = (i: number) => {
  const normalized = normalizeRecord(loaded.manifest.fields, record(i));
  return mergeDocument(loaded, normalized.record).html;
};
const { width, height } = loaded.size(undefined);

async function routeAll(page: import('playwright-core').Page, html: () => string): Promise<void> {
  await page.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === prefix) return route.fulfill({ body: html(), contentType: 'text/html' });
    const resource = await statics.resolve(url, prefix, loaded.dir);
    return resource ? route.fulfill({ body: resource.body, contentType: resource.contentType }) : route.abort();
  });
}

// --- naive: a new browser per image ---
const naiveStarted = performance.now();
for (let i = 0; i < naiveRecords; i++) {
  const browser = await chromium.launch({ executablePath: executable.path, args: [...chromiumArgs] });
  const page = await browser.newPage({ viewport: { width, height } });
  const html = documentFor(i);
  await routeAll(page, () => html);
  await page.goto(`http://mergeshot.invalid${prefix}`);
  await page.evaluate('document.fonts.ready');
  const png = await page.screenshot({ type: 'png' });
  await sharp(png).jpeg({ quality: 82, mozjpeg: true }).toBuffer();
  await browser.close();
}
const naiveImagesPerSec = naiveRecords / ((performance.now() - naiveStarted) / 1000);
console.log(`naive:     ${naiveImagesPerSec.toFixed(2)} images/s (${naiveRecords} images)`);

// --- floor: capture an unchanged, rendered page, same page count ---
const browser = await chromium.launch({ executablePath: executable.path, args: [...chromiumArgs] });
const captures = Math.max(60, Math.min(records, 400));
const floorPages = await Promise.all(
  Array.from({ length: pages }, async () => {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    const html = documentFor(1);
    await routeAll(page, () => html);
    await page.goto(`http://mergeshot.invalid${prefix}`);
    await page.evaluate('document.fonts.ready');
    return context.newCDPSession(page);
  }),
);
const floorStarted = performance.now();
await Promise.all(
  floorPages.map(async (cdp, index) => {
    for (let i = index; i < captures; i += pages) {
      await cdp.send('Page.captureScreenshot', { format: 'png', optimizeForSpeed: true, clip: { x: 0, y: 0, width, height, scale: 1 } });
    }
  }),
);
const floorImagesPerSec = captures / ((performance.now() - floorStarted) / 1000);
await browser.close();
console.log(`floor:     ${floorImagesPerSec.toFixed(1)} captures/s (${captures} captures on ${pages} pages)`);
console.log(
  `ratios:    ${(imagesPerSec / naiveImagesPerSec).toFixed(1)}× naive (target ≥ 12×), ${(imagesPerSec / floorImagesPerSec).toFixed(2)}× floor (target ≥ 0.6×), p95/p50 ${(p95Ms / p50Ms).toFixed(2)} (target < 2)`,
);
console.log(
  JSON.stringify({
    imagesPerSec: round(imagesPerSec),
    naiveImagesPerSec: round(naiveImagesPerSec),
    floorImagesPerSec: round(floorImagesPerSec),
    p50Ms: round(p50Ms),
    p95Ms: round(p95Ms),
    peakRssMb,
  }),
);

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
