import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createImageFetcher, type FetchedImage, type ImageFetcher, type ImageFetcherOptions } from '../../../src/assets/index.js';
import { AssetError, ConfigError, UsageError } from '../../../src/errors/index.js';

/**
 * A real HTTP server on loopback serving real images made with sharp. Nothing here reaches the
 * internet: every URL is either loopback (refused or allowed by the guard) or refused before a
 * socket is opened.
 */
interface Fixtures {
  readonly alphaPng: Buffer;
  readonly opaqueRgbaPng: Buffer;
  readonly rotatedJpeg: Buffer;
  readonly gif: Buffer;
  readonly tiff: Buffer;
  readonly avif: Buffer;
  readonly bombPng: Buffer;
  readonly svg: string;
}

async function makeFixtures(): Promise<Fixtures> {
  const alphaPng = await sharp({ create: { width: 400, height: 300, channels: 4, background: { r: 20, g: 120, b: 200, alpha: 0.5 } } })
    .png()
    .withExif({ IFD0: { Copyright: 'Jane Doe' } })
    .toBuffer();
  const opaqueRgbaPng = await sharp({ create: { width: 300, height: 300, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 1 } } }).png().toBuffer();
  // Left half red, right half blue; EXIF orientation 6 means "rotate 90° clockwise to display",
  // so once oriented the image is 200×400 with red on top.
  const halves = Buffer.alloc(400 * 200 * 3);
  for (let y = 0; y < 200; y += 1) {
    for (let x = 0; x < 400; x += 1) {
      const offset = (y * 400 + x) * 3;
      halves.set(x < 200 ? [230, 20, 20] : [20, 20, 230], offset);
    }
  }
  const rotatedJpeg = await sharp(halves, { raw: { width: 400, height: 200, channels: 3 } })
    .jpeg({ quality: 95 })
    .withExif({ IFD0: { Copyright: 'Jane Doe', ImageDescription: 'private note' } })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const gif = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a3' } }).gif().toBuffer();
  const tiff = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#33a' } }).tiff().toBuffer();
  const avif = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#a33' } }).avif().toBuffer();
  // 100 megapixels of one colour deflate to ~115 kB: small on the wire, 300 MB once decoded.
  const bombPng = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#fff' } })
    .toColourspace('b-w')
    .png({ compressionLevel: 9, adaptiveFiltering: false })
    .toBuffer();
  const svg = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="http://169.254.169.254/x.png" width="10" height="10"/></svg>';
  return { alphaPng, opaqueRgbaPng, rotatedJpeg, gif, tiff, avif, bombPng, svg };
}

class FixtureServer extends EventEmitter {
  readonly requests: string[] = [];
  lastHeaders: http.IncomingHttpHeaders = {};
  /** Bytes written by /huge before the client hung up. */
  hugeBytesSent = 0;
  private readonly server: http.Server;

  constructor(private readonly handle: (request: http.IncomingMessage, response: http.ServerResponse, server: FixtureServer) => void) {
    super();
    this.server = http.createServer((request, response) => {
      this.requests.push(request.url ?? '');
      this.lastHeaders = request.headers;
      this.emit('request');
      this.handle(request, response, this);
    });
  }

  async listen(host: string): Promise<void> {
    this.server.listen(0, host);
    await once(this.server, 'listening');
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  hits(path: string): number {
    return this.requests.filter((url) => url === path || url.startsWith(`${path}?`)).length;
  }

  /** Resolves once `path` has been requested `count` times. */
  hitsReach(path: string, count: number): Promise<void> {
    if (this.hits(path) >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const onRequest = (): void => {
        if (this.hits(path) < count) return;
        this.off('request', onRequest);
        resolve();
      };
      this.on('request', onRequest);
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

let fixtures: Fixtures;
let primary: FixtureServer;
let secondary: FixtureServer;
let base: string;

function routes(request: http.IncomingMessage, response: http.ServerResponse, server: FixtureServer): void {
  const path = (request.url ?? '').split('?')[0] ?? '';
  const send = (type: string, body: Buffer | string): void => {
    response.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    response.end(body);
  };
  const redirect = (location: string): void => {
    response.writeHead(302, { location, 'content-length': 0 });
    response.end();
  };
  if (path === '/alpha.png') return send('image/png', fixtures.alphaPng);
  if (path === '/opaque.png') return send('image/png', fixtures.opaqueRgbaPng);
  if (path === '/photo.jpg') return send('image/jpeg', fixtures.rotatedJpeg);
  if (path === '/as-text') return send('text/plain', fixtures.alphaPng);
  if (path === '/bomb.png') return send('image/png', fixtures.bombPng);
  if (path === '/fake.png') return send('image/png', '<!doctype html><html><body><img src="x.png"></body></html>');
  if (path === '/image.svg') return send('image/svg+xml', fixtures.svg);
  if (path === '/svg-as.png') return send('image/png', fixtures.svg);
  if (path === '/slow') {
    // Headers and a few bytes, then nothing: the body never completes.
    response.writeHead(200, { 'content-type': 'image/png' });
    response.write(fixtures.alphaPng.subarray(0, 64));
    response.on('close', () => server.emit('slow-closed'));
    return;
  }
  if (path === '/huge') {
    // No Content-Length: the only limit is the one the client counts.
    response.writeHead(200, { 'content-type': 'image/png' });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const pump = (): void => {
      while (server.hugeBytesSent < 50 * 1024 * 1024) {
        server.hugeBytesSent += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      response.end();
    };
    response.on('close', () => server.emit('huge-closed'));
    return pump();
  }
  if (path === '/declared-huge') {
    response.writeHead(200, { 'content-type': 'image/png', 'content-length': 50 * 1024 * 1024 });
    response.write(fixtures.alphaPng.subarray(0, 64));
    return;
  }
  if (path === '/redirect/relative') return redirect('/alpha.png');
  if (path === '/redirect/other-host') return redirect(`http://127.0.0.2:${secondary.port}/alpha.png`);
  if (path === '/redirect/metadata') return redirect('http://169.254.169.254/latest/meta-data/');
  if (path === '/redirect/file') return redirect('file:///etc/passwd');
  const loop = /^\/redirect\/loop\/(\d+)$/.exec(path);
  if (loop) return redirect(`/redirect/loop/${Number(loop[1]) + 1}`);
  response.writeHead(404, { 'content-type': 'text/plain' });
  response.end('not found');
}

beforeAll(async () => {
  fixtures = await makeFixtures();
  primary = new FixtureServer(routes);
  secondary = new FixtureServer(routes);
  await primary.listen('127.0.0.1');
  // A second loopback address stands in for "another internal host" a redirect may aim at.
  await secondary.listen('127.0.0.2');
  base = `http://127.0.0.1:${primary.port}`;
});

afterAll(async () => {
  await primary?.close();
  await secondary?.close();
});

const open: ImageFetcher[] = [];
function fetcher(options: ImageFetcherOptions = {}): ImageFetcher {
  const created = createImageFetcher(options);
  open.push(created);
  return created;
}
const trusted = (options: ImageFetcherOptions = {}): ImageFetcher => fetcher({ allowHosts: ['127.0.0.1'], ...options });

beforeEach(() => {
  primary.requests.length = 0;
  secondary.requests.length = 0;
  primary.hugeBytesSent = 0;
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((each) => each.close()));
});

const box = { maxWidth: 1000, maxHeight: 1000 };
const request = (size: { maxWidth: number; maxHeight: number } = box, signal: AbortSignal = new AbortController().signal) => ({ signal, ...size });

async function rejection(promise: Promise<unknown>): Promise<AssetError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AssetError);
  return error as AssetError;
}

async function pixel(image: FetchedImage, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image.bytes).raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return [...data.subarray(offset, offset + 3)];
}

describe('refused before any connection', () => {
  // Loopback spellings carry the fixture server's port, so a guard failure would show up as a hit.
  // The rest are refused by checkHost before a socket exists: no packet leaves the machine.
  it.each([
    ['http://127.0.0.1:PORT/alpha.png', 'http://127.0.0.1:PORT', '127.0.0.1 is a loopback address'],
    ['http://2130706433:PORT/alpha.png', 'http://127.0.0.1:PORT', '127.0.0.1 is a loopback address'],
    ['http://0x7f.0.0.1:PORT/alpha.png', 'http://127.0.0.1:PORT', '127.0.0.1 is a loopback address'],
    ['http://0x7f.1:PORT/alpha.png', 'http://127.0.0.1:PORT', '127.0.0.1 is a loopback address'],
    ['http://127.1:PORT/alpha.png', 'http://127.0.0.1:PORT', '127.0.0.1 is a loopback address'],
    ['http://0177.0.0.1:PORT/alpha.png', 'http://127.0.0.1:PORT', '127.0.0.1 is a loopback address'],
    ['http://[::ffff:127.0.0.1]:PORT/alpha.png', 'http://[::ffff:7f00:1]:PORT', '127.0.0.1 is a loopback address'],
    ['http://[::1]:PORT/alpha.png', 'http://[::1]:PORT', '::1 is a loopback address'],
    ['http://0.0.0.0:PORT/alpha.png', 'http://0.0.0.0:PORT', '0.0.0.0 is an unspecified address'],
    ['http://169.254.169.254/latest/meta-data/', 'http://169.254.169.254', '169.254.169.254 is a link-local address'],
    ['http://10.0.0.1/photo.jpg', 'http://10.0.0.1', '10.0.0.1 is a private address'],
    ['https://192.168.1.1/photo.jpg', 'https://192.168.1.1', '192.168.1.1 is a private address'],
    ['http://100.64.0.1/photo.jpg', 'http://100.64.0.1', '100.64.0.1 is a carrier-grade NAT address'],
    ['http://[fd00::1]/photo.jpg', 'http://[fd00::1]', 'fd00::1 is a unique-local address'],
  ])('%s', async (template, where, reason) => {
    const url = template.replace('PORT', String(primary.port));
    const error = await rejection(fetcher().fetch(url, request()));
    expect(error.code).toBe('ASSET_REFUSED');
    expect(error.message).toBe(`image ${where.replace('PORT', String(primary.port))}: ${reason}, not a public one. Add it to allowHosts if this server is trusted.`);
    expect(primary.requests).toEqual([]);
  });

  it('refuses a hostname that resolves to loopback after DNS, without connecting', async () => {
    const error = await rejection(fetcher().fetch(`http://localhost:${primary.port}/alpha.png`, request()));
    expect(error.code).toBe('ASSET_REFUSED');
    expect(error.message).toMatch(new RegExp(`^image http://localhost:${primary.port}: localhost resolves to (127\\.0\\.0\\.1|::1), which is a loopback address`));
    expect(primary.requests).toEqual([]);
  });

  it.each([
    ['file:///etc/passwd', 'image file:: file: URLs are refused: only http:, https: and data: images are read.'],
    ['ftp://files.example/photo.jpg', 'image ftp://files.example: ftp: URLs are refused: only http:, https: and data: images are read.'],
    ['javascript:alert(1)', 'image javascript:: javascript: URLs are refused: only http:, https: and data: images are read.'],
  ])('refuses the scheme of %s', async (url, message) => {
    const error = await rejection(fetcher().fetch(url, request()));
    expect(error.code).toBe('ASSET_REFUSED');
    expect(error.message).toBe(message);
  });

  it('fails on a value that is not a URL', async () => {
    const error = await rejection(fetcher().fetch('jane-photo.jpg', request()));
    expect(error.code).toBe('ASSET_FAILED');
    expect(error.message).toBe('image URL: not an absolute URL or data: URI.');
  });
});

describe('fetching from an allowed host', () => {
  it('fetches and normalises a PNG with alpha: PNG out, bounded, metadata stripped', async () => {
    const image = await trusted().fetch(`${base}/alpha.png`, request({ maxWidth: 100, maxHeight: 100 }));
    expect(image).toMatchObject({ contentType: 'image/png', width: 100, height: 75 });
    const metadata = await sharp(image.bytes).metadata();
    expect(metadata).toMatchObject({ format: 'png', width: 100, height: 75, hasAlpha: true, space: 'srgb' });
    expect(metadata.exif).toBeUndefined();
    expect(metadata.icc).toBeUndefined();
  });

  it('asks for identity encoding and sends no credentials', async () => {
    await trusted({ userAgent: 'mergeshot-test' }).fetch(`http://user:secret@127.0.0.1:${primary.port}/alpha.png#frag`, request());
    expect(primary.requests).toEqual(['/alpha.png']);
    expect(primary.lastHeaders).toMatchObject({ 'user-agent': 'mergeshot-test', 'accept-encoding': 'identity' });
    expect(primary.lastHeaders.authorization).toBeUndefined();
    expect(primary.lastHeaders.cookie).toBeUndefined();
  });

  it('never enlarges', async () => {
    const image = await trusted().fetch(`${base}/alpha.png`, request({ maxWidth: 4000, maxHeight: 4000 }));
    expect(image).toMatchObject({ width: 400, height: 300 });
  });

  it('applies EXIF orientation (dimensions swap, red on top) and strips EXIF', async () => {
    const image = await trusted().fetch(`${base}/photo.jpg`, request());
    expect(image).toMatchObject({ contentType: 'image/jpeg', width: 200, height: 400 });
    const metadata = await sharp(image.bytes).metadata();
    expect(metadata).toMatchObject({ format: 'jpeg', width: 200, height: 400 });
    expect(metadata.orientation).toBeUndefined();
    expect(metadata.exif).toBeUndefined();
    expect(metadata.xmp).toBeUndefined();
    const [top, bottom] = [await pixel(image, 100, 50), await pixel(image, 100, 350)];
    expect(top[0]).toBeGreaterThan(180);
    expect(top[2]).toBeLessThan(80);
    expect(bottom[2]).toBeGreaterThan(180);
    expect(bottom[0]).toBeLessThan(80);
  });

  it('turns an alpha channel that is fully opaque into JPEG', async () => {
    const image = await trusted().fetch(`${base}/opaque.png`, request());
    expect(image).toMatchObject({ contentType: 'image/jpeg', width: 300, height: 300 });
  });

  it('sniffs the type and ignores Content-Type', async () => {
    const image = await trusted().fetch(`${base}/as-text`, request());
    expect(image.contentType).toBe('image/png');
  });

  it('follows a relative redirect on an allowed host', async () => {
    const image = await trusted().fetch(`${base}/redirect/relative`, request());
    expect(image).toMatchObject({ width: 400, height: 300 });
    expect(primary.requests).toEqual(['/redirect/relative', '/alpha.png']);
  });

  it('refuses a redirect to a host that is not allowed, without contacting it', async () => {
    const error = await rejection(trusted().fetch(`${base}/redirect/other-host`, request()));
    expect(error.code).toBe('ASSET_REFUSED');
    expect(error.message).toBe(
      `image ${base}: redirect to http://127.0.0.2:${secondary.port}: 127.0.0.2 is a loopback address, not a public one. Add it to allowHosts if this server is trusted.`,
    );
    expect(secondary.requests).toEqual([]);

    // The same redirect succeeds once that host is allowed: the refusal above was the guard's doing.
    const image = await fetcher({ allowHosts: ['127.0.0.1', '127.0.0.2'] }).fetch(`${base}/redirect/other-host`, request());
    expect(image.width).toBe(400);
    expect(secondary.requests).toEqual(['/alpha.png']);
  });

  it('refuses a redirect to the metadata service and to file:', async () => {
    const metadata = await rejection(trusted().fetch(`${base}/redirect/metadata`, request()));
    expect(metadata.code).toBe('ASSET_REFUSED');
    expect(metadata.message).toContain('redirect to http://169.254.169.254: 169.254.169.254 is a link-local address');
    const file = await rejection(trusted().fetch(`${base}/redirect/file`, request()));
    expect(file.code).toBe('ASSET_REFUSED');
    expect(file.message).toBe(`image ${base}: redirect to file: refused: only http: and https: images are fetched.`);
  });

  it('stops after maxRedirects', async () => {
    const error = await rejection(trusted({ maxRedirects: 2 }).fetch(`${base}/redirect/loop/0`, request()));
    expect(error.code).toBe('ASSET_FAILED');
    expect(error.message).toBe(`image ${base}: more than 2 redirects (maxRedirects).`);
    expect(primary.requests).toEqual(['/redirect/loop/0', '/redirect/loop/1', '/redirect/loop/2']);
  });

  it('fails on HTTP 404, naming scheme and host but no path or query', async () => {
    const error = await rejection(trusted().fetch(`${base}/missing/jane-doe.jpg?email=jane.doe%40example.com&name=Jane`, request()));
    expect(error.code).toBe('ASSET_FAILED');
    expect(error.message).toBe(`image ${base}: HTTP 404.`);
    expect(error.detail).toEqual({ source: base, hint: 'Check that the image URL is public and still exists.' });
    expect(JSON.stringify({ message: error.message, detail: error.detail })).not.toMatch(/jane|email|missing/i);
  });

  it('stops reading at maxBytes when no Content-Length is sent', async () => {
    const closed = once(primary, 'huge-closed');
    const error = await rejection(trusted({ maxBytes: 1024 * 1024 }).fetch(`${base}/huge`, request()));
    expect(error.code).toBe('ASSET_REFUSED');
    expect(error.message).toBe(`image ${base}: body is larger than maxBytes (1048576 bytes).`);
    await closed;
    expect(primary.hugeBytesSent).toBeLessThan(50 * 1024 * 1024);
  });

  it('refuses at once when Content-Length already exceeds maxBytes', async () => {
    const error = await rejection(trusted({ maxBytes: 1024 * 1024 }).fetch(`${base}/declared-huge`, request()));
    expect(error.code).toBe('ASSET_REFUSED');
    expect(error.message).toBe(`image ${base}: declared body is larger than maxBytes (1048576 bytes).`);
  });

  it('gives up at timeoutMs on a body that never ends', async () => {
    const closed = once(primary, 'slow-closed');
    const error = await rejection(trusted({ timeoutMs: 300 }).fetch(`${base}/slow`, request()));
    expect(error.code).toBe('ASSET_FAILED');
    expect(error.message).toBe(`image ${base}: no complete image within timeoutMs (300 ms).`);
    await closed; // the connection was dropped, not left hanging
  });

  it('refuses a pixel bomb from its header, before decoding', async () => {
    const error = await rejection(trusted().fetch(`${base}/bomb.png`, request()));
    expect(error.code).toBe('ASSET_REFUSED');
    expect(error.message).toBe(`image ${base}: the image is 10000×10000 = 100000000 pixels, more than maxPixels (40000000).`);
  });

  it('fails on HTML served as image/png', async () => {
    const error = await rejection(trusted().fetch(`${base}/fake.png`, request()));
    expect(error.code).toBe('ASSET_FAILED');
    expect(error.message).toBe(`image ${base}: not an image in a supported format (PNG, JPEG, WebP, GIF, AVIF, HEIF, TIFF).`);
  });

  it.each(['/image.svg', '/svg-as.png'])('refuses SVG (%s)', async (path) => {
    const error = await rejection(trusted().fetch(`${base}${path}`, request()));
    expect(error.code).toBe('ASSET_REFUSED');
    expect(error.message).toBe(`image ${base}: SVG images are refused: they can load external resources.`);
  });
});

describe('cache and single flight', () => {
  it('serves a repeat from the cache; another size is another entry', async () => {
    const images = trusted();
    const first = await images.fetch(`${base}/alpha.png`, request({ maxWidth: 200, maxHeight: 200 }));
    const second = await images.fetch(`${base}/alpha.png`, request({ maxWidth: 200, maxHeight: 200 }));
    expect(second).toBe(first);
    expect(primary.hits('/alpha.png')).toBe(1);
    await images.fetch(`${base}/alpha.png`, request({ maxWidth: 100, maxHeight: 100 }));
    expect(primary.hits('/alpha.png')).toBe(2);
  });

  it('shares one request among 10 concurrent fetches of one key', async () => {
    const images = trusted();
    const results = await Promise.all(Array.from({ length: 10 }, () => images.fetch(`${base}/photo.jpg`, request())));
    expect(primary.hits('/photo.jpg')).toBe(1);
    for (const image of results) expect(image).toBe(results[0]);
  });

  it('remembers a failure for every size, so a dead link is fetched once', async () => {
    const images = trusted();
    for (const size of [box, box, { maxWidth: 50, maxHeight: 50 }]) {
      expect((await rejection(images.fetch(`${base}/dead.jpg`, request(size)))).message).toBe(`image ${base}: HTTP 404.`);
    }
    expect(primary.hits('/dead.jpg')).toBe(1);
  });

  it('does not remember failures with failureTtlMs 0', async () => {
    const images = trusted({ failureTtlMs: 0 });
    await rejection(images.fetch(`${base}/dead.jpg`, request()));
    await rejection(images.fetch(`${base}/dead.jpg`, request()));
    expect(primary.hits('/dead.jpg')).toBe(2);
  });

  it('lets one caller leave a shared fetch; the work stops when the last one leaves', async () => {
    const images = trusted({ timeoutMs: 30_000 });
    const [first, second] = [new AbortController(), new AbortController()];
    const a = images.fetch(`${base}/slow`, request(box, first.signal));
    const b = images.fetch(`${base}/slow`, request(box, second.signal));
    await primary.hitsReach('/slow', 1);

    first.abort();
    const left = await rejection(a);
    expect(left.code).toBe('ABORTED');
    expect(left.message).toBe('image fetch cancelled by the caller.');

    const closed = once(primary, 'slow-closed');
    second.abort();
    expect((await rejection(b)).code).toBe('ABORTED');
    await closed; // the shared request was cancelled, not left to run to its deadline
    expect(primary.hits('/slow')).toBe(1);

    // A cancellation is not a verdict on the image: the next caller fetches again.
    const third = new AbortController();
    const c = images.fetch(`${base}/slow`, request(box, third.signal));
    const again = once(primary, 'slow-closed');
    await primary.hitsReach('/slow', 2);
    third.abort();
    await rejection(c);
    await again;
  });

  it('rejects at once when the caller has already given up', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(trusted().fetch(`${base}/alpha.png`, request(box, controller.signal)));
    expect(error.code).toBe('ABORTED');
    expect(primary.requests).toEqual([]);
  });
});

describe('close', () => {
  it('cancels in-flight fetches, refuses new ones and is idempotent', async () => {
    const images = trusted({ timeoutMs: 30_000 });
    const closed = once(primary, 'slow-closed');
    const pending = rejection(images.fetch(`${base}/slow`, request()));
    await primary.hitsReach('/slow', 1);
    await Promise.all([images.close(), images.close()]);
    const cancelled = await pending;
    expect(cancelled.code).toBe('ABORTED');
    expect(cancelled.message).toBe('image fetch cancelled: the image fetcher is closing.');
    await closed;
    const after = await rejection(images.fetch(`${base}/alpha.png`, request()));
    expect(after.code).toBe('ABORTED');
    expect(after.message).toBe('image fetch refused: the image fetcher is closed.');
  });
});

describe('data: URIs', () => {
  it('decodes base64 and normalises like a download', async () => {
    const uri = `data:image/png;base64,${fixtures.alphaPng.toString('base64')}`;
    const image = await fetcher().fetch(uri, request({ maxWidth: 200, maxHeight: 200 }));
    expect(image).toMatchObject({ contentType: 'image/png', width: 200, height: 150 });
    expect((await sharp(image.bytes).metadata()).exif).toBeUndefined();
  });

  it('decodes percent-encoding, an upper-case scheme and base64 split by whitespace', async () => {
    const percent = `data:image/jpeg,${[...fixtures.rotatedJpeg].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')}`;
    expect(await fetcher().fetch(percent, request())).toMatchObject({ contentType: 'image/jpeg', width: 200, height: 400 });
    const wrapped = `DATA:image/png;BASE64,${fixtures.opaqueRgbaPng.toString('base64').replace(/(.{76})/g, '$1\n')}`;
    expect(await fetcher().fetch(wrapped, request())).toMatchObject({ contentType: 'image/jpeg', width: 300, height: 300 });
  });

  it.each([
    ['gif', () => fixtures.gif],
    ['tiff', () => fixtures.tiff],
    ['avif', () => fixtures.avif],
  ])('accepts %s and converts it', async (_format, bytes) => {
    const image = await fetcher().fetch(`data:application/octet-stream;base64,${bytes().toString('base64')}`, request());
    expect(image).toMatchObject({ contentType: 'image/jpeg', width: 64, height: 48 });
    expect((await sharp(image.bytes).metadata()).format).toBe('jpeg');
  });

  it.each([
    ['grey', () => sharp({ create: { width: 40, height: 30, channels: 3, background: '#777' } }).toColourspace('b-w').png(), 'image/jpeg', 3],
    ['grey with alpha', () => sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 90, g: 90, b: 90, alpha: 0.3 } } }).toColourspace('b-w').png(), 'image/png', 4],
    ['16-bit RGBA', () => sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 9, g: 90, b: 200, alpha: 0.5 } } }).toColourspace('rgb16').png(), 'image/png', 4],
    ['CMYK JPEG', () => sharp({ create: { width: 40, height: 30, channels: 3, background: '#c22' } }).toColourspace('cmyk').jpeg(), 'image/jpeg', 3],
  ] as const)('normalises %s to 8-bit sRGB', async (_name, make, contentType, channels) => {
    const source = await make().toBuffer();
    const image = await fetcher().fetch(`data:;base64,${source.toString('base64')}`, request());
    expect(image).toMatchObject({ contentType, width: 40, height: 30 });
    expect(await sharp(image.bytes).metadata()).toMatchObject({ space: 'srgb', depth: 'uchar', channels });
  });

  it('refuses data beyond maxBytes', async () => {
    const uri = `data:image/png;base64,${fixtures.alphaPng.toString('base64')}`;
    const error = await rejection(fetcher({ maxBytes: 100 }).fetch(uri, request()));
    expect(error.code).toBe('ASSET_REFUSED');
    expect(error.message).toBe('image data: URI: body is larger than maxBytes (100 bytes).');
  });

  it('refuses SVG whatever the declared type', async () => {
    const error = await rejection(fetcher().fetch(`data:image/png,${encodeURIComponent(fixtures.svg)}`, request()));
    expect(error.code).toBe('ASSET_REFUSED');
    expect(error.message).toBe('image data: URI: SVG images are refused: they can load external resources.');
  });

  it.each([
    ['data:image/png;base64', 'image data: URI: no "," separates the header from the data.'],
    ['data:image/png;base64,!!!!', 'image data: URI: the base64 data is malformed.'],
    ['data:text/html,<h1>hi</h1>', 'image data: URI: not an image in a supported format (PNG, JPEG, WebP, GIF, AVIF, HEIF, TIFF).'],
    [`data:image/png;base64,${Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).toString('base64')}`, 'image data: URI: the image data is corrupt or cannot be decoded.'],
  ])('fails on %s', async (uri, message) => {
    const error = await rejection(fetcher().fetch(uri, request()));
    expect(error.code).toBe('ASSET_FAILED');
    expect(error.message).toBe(message);
  });
});

describe('validation', () => {
  it('refuses invalid options, naming the option', () => {
    expect(() => createImageFetcher({ timeoutMs: 0 })).toThrow(ConfigError);
    expect(() => createImageFetcher({ maxBytes: 1.5 })).toThrow('fetch.maxBytes must be an integer ≥ 1, got 1.5 (number).');
    expect(() => createImageFetcher({ allowHosts: ['https://x.example'] })).toThrow(ConfigError);
  });

  it('refuses an invalid box, naming the field', async () => {
    const images = fetcher();
    await expect(images.fetch('data:,', { signal: new AbortController().signal, maxWidth: 0, maxHeight: 10 })).rejects.toThrow(UsageError);
    await expect(images.fetch('data:,', { signal: new AbortController().signal, maxWidth: 10, maxHeight: 10.5 })).rejects.toThrow(
      'fetchImage: request.maxHeight must be an integer 1–16384, got 10.5 (number). Pass twice the slot size in CSS pixels.',
    );
  });
});
