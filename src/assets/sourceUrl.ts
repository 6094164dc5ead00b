/**
 * Which image URLs are read, and how they are named in messages. Only http: and https: are
 * fetched (data: URIs are decoded in dataUri.ts): file:, ftp: and the rest would let a record value
 * read the server's own disk or reach services the address guard does not vet.
 */
import { Reason } from './imageFailure.js';

export function parseSourceUrl(source: string): URL {
  try {
    return new URL(source);
  } catch {
    throw new Reason('ASSET_FAILED', 'not an absolute URL or data: URI.', 'Write the full URL, starting with https://.');
  }
}

export function checkScheme(url: URL): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Reason('ASSET_REFUSED', `${url.protocol} URLs are refused: only http:, https: and data: images are read.`);
  }
}

/** Scheme and host (with port) only: paths and queries of record URLs carry personal data. */
export function describeUrl(url: URL): string {
  return url.host === '' ? url.protocol : `${url.protocol}//${url.host}`;
}
