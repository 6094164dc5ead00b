import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMergeTagUrl, espNames } from '../../src/server/index.js';
import { runUrls, type UrlsCommandOptions } from '../../src/cli/commands/urls.js';
import { createWorkspace, metricValue, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

let workspace: TestWorkspace;
let server: TestServer;
let csvPath: string;

beforeAll(async () => {
  workspace = await createWorkspace({ server: { signingKeys: ['current-signing-key-0123456789'], tokenKey: randomBytes(32).toString('hex') } }, { signed: true });
  server = await startServer(workspace.pipeline, workspace.config);
  csvPath = join(workspace.root, 'recipients.csv');
  await writeFile(csvPath, '\uFEFFName;VIP;Email\r\nAda Lovelace;yes;ada@example.com\r\n"Zoë 🎉";no;zoe@example.com\r\n*|FNAME|*;;x@example.com\r\n');
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

async function urls(template: string, options: Partial<UrlsCommandOptions> = {}): Promise<Record<string, string>[]> {
  const out = join(workspace.root, `urls-${Math.random().toString(36).slice(2)}.csv`);
  await runUrls(workspace.pipeline, template, { data: csvPath, base: server.url, column: 'image_url', out, sign: false, token: false, prerender: false, concurrency: 2, signal: new AbortController().signal, stdout: new PassThrough(), ...options });
  return parse(await readFile(out, 'utf8'), { columns: true }) as Record<string, string>[];
}

async function renders(): Promise<number> {
  return metricValue((await request(server.url).get('/metrics')).text, 'mergeshot_renders_total');
}

describe('mergeshot urls', () => {
  it('writes the data back with an image URL per row; --prerender makes every first open a cache hit', async () => {
    const rows = await urls('mini', { prerender: true });
    expect(rows.map((row) => row.Email)).toEqual(['ada@example.com', 'zoe@example.com', 'x@example.com']);
    expect(Object.keys(rows[0]!)).toEqual(['Name', 'VIP', 'Email', 'image_url']);
    expect(rows[0]!.image_url).toBe(`${server.url}/i/mini.jpg?name=Ada%20Lovelace&vip=yes&preset=email`);
    const before = await renders();
    for (const row of rows) {
      const answer = await request(row.image_url!).get('').expect(200);
      expect(answer.headers['content-type']).toBe('image/jpeg');
    }
    expect(await renders()).toBe(before);
  });

  it('--sign makes URLs a signed template answers; --token keeps the data out of the URL', async () => {
    const signed = await urls('mini-signed', { sign: true });
    for (const row of signed) await request(row.image_url!).get('').expect(200);
    const tokens = await urls('mini-signed', { token: true });
    for (const row of tokens) {
      expect(row.image_url).toMatch(new RegExp(`^${server.url}/t/[A-Za-z0-9_-]+\\.jpg$`));
      expect(row.image_url).not.toContain('Ada');
      await request(row.image_url!).get('').expect(200);
    }
    await expect(urls('mini-signed')).rejects.toThrow('add --sign or --token');
  });
});

describe('mergeshot url --esp', () => {
  it('prints a merge-tag URL and an <img> snippet for every platform', async () => {
    for (const esp of espNames) {
      const { url, img } = await buildMergeTagUrl(workspace.pipeline, 'mini', { esp, base: 'https://img.example.com/' });
      expect(url.startsWith('https://img.example.com/i/mini.jpg?name=')).toBe(true);
      expect(img).toMatch(/^<img src="https:\/\/img\.example\.com\/i\/mini\.jpg\?name=[^"]+" width="600" height="300" alt="Card for [^"]+" style="display: block; border: 0;[^"]*max-width: 600px; height: auto;">$/);
    }
    expect((await buildMergeTagUrl(workspace.pipeline, 'mini', { esp: 'mailchimp', base: 'https://x' })).url).toBe('https://x/i/mini.jpg?name=*|URL:NAME|*&vip=*|URL:VIP|*&photo=*|URL:PHOTO|*&color=*|URL:COLOR|*');
  });

  it('a URL whose tags the platform left unreplaced renders the fallback image', async () => {
    const fallback = await request(server.url).get('/i/mini.jpg').expect(200);
    for (const esp of espNames) {
      const { url } = await buildMergeTagUrl(workspace.pipeline, 'mini', { esp, base: server.url });
      // What the mail client requests: the raw tags, percent-encoded as a browser would.
      const answer = await request(encodeURI(url)).get('').expect(200);
      expect(answer.headers.etag, esp).toBe(fallback.headers.etag);
    }
  });
});
