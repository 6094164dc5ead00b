/**
 * npm run bench:preflight [-- --rows 10000 --render 1000]
 *
 * `mergeshot preflight` on a generated campaign CSV of --rows rows of event-invite (email
 * preset), against rendering the same rows with `mergeshot render`'s batch, in the same run on
 * the same machine: rows/s of each and their ratio (target ≥ 3×). Rendering all 10,000 would take
 * minutes, so the render rate is measured on the first --render rows of the same file.
 * The last line is JSON, for scripts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { loadConfig } from '../src/config/index.js';
import { readRecords } from '../src/data/index.js';
import { createPipeline, renderBatch, type BatchRow } from '../src/pipeline/index.js';
import { runPreflight } from '../src/preflight/index.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '10000' }, render: { type: 'string', default: '1000' } } });
const rowCount = Number(values.rows);
const renderCount = Math.min(rowCount, Number(values.render));
const template = 'event-invite';
const preset = 'email';

const firstNames = ['Ada', 'Grace', 'محمد', '山田', 'Zoë', 'Oluwaseun', 'Ngozi', 'François', 'Björk', 'Siobhán', 'Wei', 'Ana María', '*|FNAME|*', ''];
const lastNames = ['Lovelace', 'Hopper', 'عبد الرحمن', '太郎', 'Ñúñez', 'Adeyemi', 'Okafor', 'Dupont', 'Guðmundsdóttir', "O'Brien", 'Zhang', 'de la Cruz y Castellanos de la Torre'];
const rows = Array.from({ length: rowCount }, (_, i) => ({
  Name: `${firstNames[i % firstNames.length]} ${lastNames[(i * 7) % lastNames.length]}`.trim(),
  Event: ['Design Systems Summit', 'Product Night', 'Annual Gala 2026 of the Iberoamerican Council for Sustainable Architecture'][i % 3],
  Date: i % 50 === 0 ? '2026-13-40' : `2026-0${1 + (i % 9)}-1${i % 9}`,
  Venue: ['Kulturbrauerei, Berlin', 'The Warehouse, London', ''][i % 3],
  VIP: i % 4 === 0 ? 'yes' : i % 97 === 0 ? 'maybe' : 'no',
  Email: `guest${i % 9000}@example.com`,
}));

const work = await mkdtemp(join(tmpdir(), 'mergeshot-bench-preflight-'));
const data = join(work, 'campaign.csv');
await writeFile(data, stringify(rows, { header: true }));
const config = await loadConfig();
const pages = config.render.pages;
console.log(`bench:preflight: ${rowCount} rows of ${template} with preset ${preset}, ${pages} pages, Node ${process.version}`);

const pipeline = createPipeline(config);
try {
  await pipeline.warm();
  await pipeline.renderOne({ template, data: {}, preset }); // compile + first document, outside the timing

  // --- render: the first renderCount rows, as `mergeshot render` does ---
  async function* firstRows(): AsyncGenerator<BatchRow> {
    let n = 0;
    for await (const row of readRecords(data)) {
      if (n++ >= renderCount) return;
      yield { row: row.row, values: row.values };
    }
  }
  const renderStarted = performance.now();
  let rendered = 0;
  for await (const outcome of renderBatch(pipeline, firstRows(), { template, preset, concurrency: pages * 2 })) if (outcome.status !== 'failed') rendered += 1;
  const renderSeconds = (performance.now() - renderStarted) / 1000;
  const renderRate = rendered / renderSeconds;
  console.log(`render:    ${rendered} rows in ${renderSeconds.toFixed(1)} s = ${renderRate.toFixed(1)} rows/s`);

  // --- preflight: every row measured, the report's cases rendered ---
  const preflightStarted = performance.now();
  const summary = await runPreflight(pipeline, template, { data, preset, map: {}, out: join(work, 'report'), signal: new AbortController().signal });
  const preflightSeconds = (performance.now() - preflightStarted) / 1000;
  const preflightRate = summary.rows / preflightSeconds;
  console.log(`preflight: ${summary.rows} rows in ${preflightSeconds.toFixed(1)} s = ${preflightRate.toFixed(1)} rows/s (measuring alone ${summary.measuredRowsPerSecond} rows/s; ${summary.cases.length} cases rendered; ${summary.warned} rows warned)`);
  const ratio = preflightRate / renderRate;
  console.log(`ratio:     ${ratio.toFixed(2)}× the render rate (target ≥ 3×) ${ratio >= 3 ? 'MET' : 'NOT MET'}`);
  console.log(JSON.stringify({ rows: summary.rows, renderRowsPerSecond: Math.round(renderRate * 10) / 10, preflightRowsPerSecond: Math.round(preflightRate * 10) / 10, measureRowsPerSecond: summary.measuredRowsPerSecond, ratio: Math.round(ratio * 100) / 100 }));
} finally {
  await pipeline.close();
  await rm(work, { recursive: true, force: true });
}
