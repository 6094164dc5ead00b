import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, metricValue, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

let workspace: TestWorkspace;
let server: TestServer;

beforeAll(async () => {
  // No memory layer, so every hit reads the file on disk: the file is what the test damages.
  workspace = await createWorkspace({ server: { memoryMaxBytes: 0 } });
  server = await startServer(workspace.pipeline, workspace.config);
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

async function renders(): Promise<number> {
  return metricValue((await request(server.url).get('/metrics').expect(200)).text, 'mergeshot_renders_total', { template: 'mini' });
}

/** Renders `name` once, waits for the disk write and returns the first answer and its cache file. */
async function cached(name: string): Promise<{ body: Buffer; etag: string; file: string }> {
  const first = await request(server.url).get('/i/mini.png').query({ name }).expect(200);
  await server.server.images.settled();
  const etag = first.headers.etag!;
  const file = join(workspace.config.server.cacheDir, 'objects', 'mini', etag.slice(1, -1));
  expect((await readFile(file)).length).toBeGreaterThan(first.body.length);
  return { body: first.body as Buffer, etag, file };
}

describe('a damaged cache file', () => {
  it.each([
    ['a flipped image byte', (file: Buffer) => {
      const damaged = Buffer.from(file);
      damaged[damaged.length - 20]! ^= 0x40;
      return damaged;
    }],
    ['a truncated file', (file: Buffer) => file.subarray(0, file.length - 100)],
    ['an edited content type', (file: Buffer) => Buffer.from(file.toString('latin1').replace('image/png', 'text/html'), 'latin1')],
  ])('with %s is rendered again and served as a valid image', async (label, damage) => {
    const { body, etag, file } = await cached(`Damaged ${label}`);
    const hit = await request(server.url).get('/i/mini.png').query({ name: `Damaged ${label}` }).expect(200);
    expect(Buffer.compare(hit.body, body)).toBe(0);
    await writeFile(file, damage(await readFile(file)));

    const before = await renders();
    const answer = await request(server.url).get('/i/mini.png').query({ name: `Damaged ${label}` }).expect(200);
    expect(answer.headers['content-type']).toBe('image/png');
    expect(answer.headers['x-mergeshot-fallback']).toBeUndefined();
    expect(answer.headers.etag).toBe(etag);
    expect(await renders()).toBe(before + 1);
    // Rendering is byte-identical within a run: the re-render is exactly the image first served.
    expect(Buffer.compare(answer.body, body)).toBe(0);
    const { data, info } = await sharp(answer.body).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([400, 200]);
    expect(data.length).toBe(400 * 200 * info.channels);

    // The re-render replaced the damaged file: the next request is a hit again.
    await server.server.images.settled();
    const again = await request(server.url).get('/i/mini.png').query({ name: `Damaged ${label}` }).expect(200);
    expect(Buffer.compare(again.body, body)).toBe(0);
    expect(await renders()).toBe(before + 1);
  });
});
