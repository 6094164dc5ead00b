import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/pipeline/index.js';
import { meanColour, testPipeline } from '../support/pipeline.js';

let pipeline: Pipeline;
let server: Server;
let serverHits = 0;
let port = 0;

beforeAll(async () => {
  pipeline = testPipeline();
  server = createServer((_, res) => {
    serverHits += 1;
    res.end('nope');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await pipeline.close();
  await new Promise((resolve) => server.close(resolve));
});

const red: [number, number, number] = [220, 38, 38];
const green: [number, number, number] = [16, 185, 129];
const near = (actual: number[], expected: number[], tolerance = 12) => actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);

describe('rendering with real Chromium', () => {
  it('shows the VIP badge only when vip is true', async () => {
    const region = { left: 310, top: 160, width: 80, height: 35 };
    const withBadge = await pipeline.renderOne({ template: 'mini', data: { name: 'Ada', vip: 'yes' }, preset: 'original' });
    const without = await pipeline.renderOne({ template: 'mini', data: { name: 'Ada', vip: 'no' }, preset: 'original' });
    expect(near(await meanColour(withBadge.bytes, region), red)).toBe(true);
    expect(near(await meanColour(without.bytes, region), [255, 255, 255])).toBe(true);
  });

  it('shows the placeholder when the photo is missing', async () => {
    const result = await pipeline.renderOne({ template: 'mini', data: { name: 'Ada', photo: '' }, preset: 'original' });
    expect(near(await meanColour(result.bytes, { left: 50, top: 130, width: 20, height: 20 }), green)).toBe(true);
  });

  it('renders a data: URI photo instead of the placeholder', async () => {
    const blue = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#2563eb' } }).png().toBuffer();
    const result = await pipeline.renderOne({ template: 'mini', data: { name: 'Ada', photo: `data:image/png;base64,${blue.toString('base64')}` }, preset: 'original' });
    expect(near(await meanColour(result.bytes, { left: 50, top: 130, width: 20, height: 20 }), [37, 99, 235])).toBe(true);
    expect(result.warnings.filter((w) => w.code === 'image-failed')).toEqual([]);
  });

  it('sizes output per preset and size', async () => {
    const original = await pipeline.renderOne({ template: 'mini', data: { name: 'Ada' }, preset: 'original' });
    expect([original.width, original.height, original.format]).toEqual([400, 200, 'png']);
    const email = await pipeline.renderOne({ template: 'mini', data: { name: 'Ada' }, preset: 'email' });
    expect([email.width, email.height, email.format]).toEqual([1200, 600, 'jpeg']);
    expect(email.bytes.length).toBeLessThanOrEqual(200_000);
    const meta = await sharp(email.bytes).metadata();
    expect([meta.format, meta.width, meta.height, meta.exif]).toEqual(['jpeg', 1200, 600, undefined]);
    const square = await pipeline.renderOne({ template: 'mini', data: { name: 'Ada' }, preset: 'original', size: 'square' });
    expect([square.width, square.height]).toEqual([300, 300]);
    const web = await pipeline.renderOne({ template: 'mini', data: { name: 'Ada' }, preset: 'web' });
    expect((await sharp(web.bytes).metadata()).format).toBe('webp');
  });

  it('gives byte-identical lossless output for the same inputs, warm page or not', async () => {
    const data = { name: 'Zoë 🎉 محمد 山田', vip: 'true' };
    const first = await pipeline.renderOne({ template: 'mini', data, preset: 'original' });
    await pipeline.renderOne({ template: 'mini', data: { name: 'Someone else entirely' }, preset: 'original' });
    const second = await pipeline.renderOne({ template: 'mini', data, preset: 'original' });
    expect(second.bytes.equals(first.bytes)).toBe(true);
  });

  it('renders a prepared record without preparing it again, unless the template changed since', async () => {
    const template = await pipeline.registry.get('mini');
    const prepared = pipeline.prepare(template, { name: 'Prepared', vip: 'yes' });
    const direct = await pipeline.renderOne({ template: 'mini', data: { name: 'Prepared', vip: 'yes' }, preset: 'original' });
    // `data` says otherwise: a current PreparedRecord wins, so nothing is mapped or normalized twice.
    const fromPrepared = await pipeline.renderOne({ template: 'mini', data: { name: 'Other' }, prepared, preset: 'original' });
    expect(fromPrepared.record.name).toBe('Prepared');
    expect(fromPrepared.bytes.equals(direct.bytes)).toBe(true);
    const stale = await pipeline.renderOne({ template: 'mini', data: { name: 'Other' }, prepared: { ...prepared, templateVersion: 'older' }, preset: 'original' });
    expect(stale.record.name).toBe('Other');
  });

  it('reports overflow for a value too long to fit even after shrinking', async () => {
    const result = await pipeline.renderOne({ template: 'mini', data: { name: 'W'.repeat(60) }, preset: 'original' });
    expect(result.warnings.map((w) => `${w.code}:${w.field}`)).toContain('overflow:name');
  });

  it('shrinks a [data-fit] element no further than its --fit-min (18px in mini)', async () => {
    const result = await pipeline.renderOne({ template: 'mini', data: { name: 'W'.repeat(60) }, preset: 'original' });
    // The name box is 20,20 360×60 on white: the rows with ink are the capitals' height.
    const { data, info } = await sharp(result.bytes).extract({ left: 20, top: 20, width: 360, height: 60 }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const inked: number[] = [];
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        const i = (y * info.width + x) * 3;
        if (data[i]! + data[i + 1]! + data[i + 2]! < 384) {
          inked.push(y);
          break;
        }
      }
    }
    // Inter's capital height is 0.727 em: 13 px at 18 px; the 14 px default minimum would give 10.
    const capHeight = inked.length ? inked[inked.length - 1]! - inked[0]! + 1 : 0;
    expect(capHeight).toBeGreaterThanOrEqual(12);
    expect(capHeight).toBeLessThanOrEqual(14);
  });

  it('keeps hostile values as visible text: no request, no layout change', async () => {
    const hostile = await pipeline.renderOne({ template: 'mini', data: { name: `<img src="http://127.0.0.1:${port}/x.png" onerror=alert(1)>` }, preset: 'original' });
    expect(hostile.warnings.filter((w) => w.code === 'request-blocked')).toEqual([]);
    expect(serverHits).toBe(0);
  });

  it('never fetches a loopback photo URL: falls back with a warning', async () => {
    const result = await pipeline.renderOne({ template: 'mini', data: { name: 'Ada', photo: `http://127.0.0.1:${port}/me.jpg` }, preset: 'original' });
    expect(result.warnings.map((w) => `${w.code}:${w.field}`)).toContain('image-failed:photo');
    expect(serverHits).toBe(0);
    expect(near(await meanColour(result.bytes, { left: 50, top: 130, width: 20, height: 20 }), green)).toBe(true);
  });

  it('treats unreplaced merge tags as missing and uses the fallback', async () => {
    const result = await pipeline.renderOne({ template: 'mini', data: { name: '*|FNAME|*' }, preset: 'original' });
    expect(result.record.name).toBe('Friend');
    expect(result.warnings.map((w) => w.code)).toContain('unreplaced-merge-tag');
  });
});

describe('request refusal', () => {
  it('refuses and reports every request outside the allow-list; nothing reaches the server', async () => {
    const result = await pipeline.renderOne({ template: 'leaky', data: { port }, preset: 'original' });
    const blocked = result.warnings.filter((w) => w.code === 'request-blocked').map((w) => w.field);
    expect(blocked).toContain(`http://127.0.0.1:${port}`);
    expect(blocked).toContain('http://127.0.0.1:9');
    expect(blocked).toContain('http://mergeshot.invalid');
    expect(serverHits).toBe(0);
  });
});
