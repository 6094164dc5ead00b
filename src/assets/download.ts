/**
 * The HTTP download of one image URL through undici, redirects followed by hand so that every hop
 * is vetted. Threats it stops, driven by hostile record values:
 *  - SSRF: each hop's host goes through the address guard before a request is made, and the
 *    agent's connector opens sockets only to vetted addresses (see addressGuard.ts); a redirect
 *    may only lead to http: or https:, and no more than maxRedirects times.
 *  - Resource exhaustion: the body is counted on the wire against maxBytes (a Content-Length
 *    header is a claim, not a limit), and redirect and error bodies are drained with a small cap.
 */
import type { Dispatcher } from 'undici';
import { AssetError } from '../errors/index.js';
import type { AddressGuard } from './addressGuard.js';
import { Reason, tooManyBytes } from './imageFailure.js';
import type { ResolvedOptions } from './imageFetcherOptions.js';
import { describeUrl } from './sourceUrl.js';

interface DownloadContext {
  readonly signal: AbortSignal;
  readonly config: ResolvedOptions;
  readonly guard: AddressGuard;
  readonly agent: Dispatcher;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

export async function download(first: URL, context: DownloadContext): Promise<Buffer> {
  const { signal, config, guard, agent } = context;
  let url = first;
  for (let hop = 0; ; hop += 1) {
    const via = hop === 0 ? '' : `redirect to ${describeUrl(url)}: `;
    try {
      guard.checkHost(url.hostname);
    } catch (error) {
      throw prefixed(error, via);
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await agent.request({
        origin: url.origin,
        // No fragment (it is never sent) and no userinfo (credentials are not forwarded).
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        // Identity only: undici's request() does not decompress (a missing Accept-Encoding would
        // allow any coding), and an uncompressed body keeps the byte cap a cap on what we decode.
        headers: {
          'user-agent': config.userAgent,
          accept: 'image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8',
          'accept-encoding': 'identity',
        },
        signal,
      });
    } catch (error) {
      throw prefixed(error, via);
    }
    const { statusCode, headers, body } = response;
    if (redirectStatuses.has(statusCode)) {
      await body.dump({ limit: 64 * 1024, signal }).catch(() => undefined);
      const location = firstHeader(headers.location);
      if (location === undefined) throw new Reason('ASSET_FAILED', `${via}HTTP ${statusCode} without a Location header.`);
      if (hop >= config.maxRedirects) {
        throw new Reason('ASSET_FAILED', `more than ${config.maxRedirects} redirects (maxRedirects).`, 'Link the final image URL instead of a redirecting one.');
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new Reason('ASSET_FAILED', `${via}HTTP ${statusCode} redirects to a URL that cannot be parsed.`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new Reason('ASSET_REFUSED', `redirect to ${describeUrl(next)} refused: only http: and https: images are fetched.`);
      }
      url = next;
      continue;
    }
    if (statusCode < 200 || statusCode > 299) {
      await body.dump({ limit: 64 * 1024, signal }).catch(() => undefined);
      throw new Reason('ASSET_FAILED', `${via}HTTP ${statusCode}.`, 'Check that the image URL is public and still exists.');
    }
    const declared = Number(firstHeader(headers['content-length']));
    if (Number.isFinite(declared) && declared > config.maxBytes) {
      body.destroy();
      throw tooManyBytes(config.maxBytes, `${via}declared body`);
    }
    return readBody(body, config.maxBytes, via);
  }
}

/** Counts bytes as they arrive and stops reading at the cap: Content-Length may be absent or false. */
async function readBody(body: Dispatcher.ResponseData['body'], maxBytes: number, via: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      throw tooManyBytes(maxBytes, `${via}body`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** Adds "redirect to <host>: " to a guard refusal met on a redirect hop. */
function prefixed(error: unknown, via: string): unknown {
  if (via === '' || !(error instanceof AssetError)) return error;
  return new AssetError(error.code, `${via}${error.message}`, error.detail, { cause: error });
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
