import { ConfigError } from '../errors/index.js';

/** `s3://bucket/prefix` → its parts; the prefix without slashes at either end ('' for the bucket root). */
export interface StoreLocation {
  readonly bucket: string;
  readonly prefix: string;
}

export function parseStoreUrl(url: string, setting = 'distributed.storeUrl'): StoreLocation {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) throw new ConfigError('CONFIG_INVALID', `${setting} must look like s3://bucket/prefix, got ${url.length} characters that do not. Example: --store s3://mergeshot-images/prod`, { source: setting });
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((part) => part === '.' || part === '..')) throw new ConfigError('CONFIG_INVALID', `${setting}: the prefix may not contain "." or ".." segments.`, { source: setting });
  return { bucket: match[1]!, prefix };
}

/** A Redis URL for messages and logs: the password replaced, so it never reaches a log line. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.username && parsed.username !== 'default') parsed.username = '***';
    return parsed.toString();
  } catch {
    return 'redis://(unparseable)';
  }
}
