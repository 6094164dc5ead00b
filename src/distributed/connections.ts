import { NoSuchBucket, S3ServiceException } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import type { MergeshotConfig } from '../config/index.js';
import { CacheError, ConfigError } from '../errors/index.js';
import { connectRedis, type RedisRole } from './redisConnection.js';
import { S3Store, type StoreOperation } from './s3Store.js';
import { parseStoreUrl, redactRedisUrl } from './storeUrl.js';

export type DistributedSettings = Readonly<MergeshotConfig['distributed']>;

/** Both URLs, or a CONFIG_INVALID that names the missing one and how to give it. */
export function requireDistributed(settings: DistributedSettings, command: string): { readonly redisUrl: string; readonly storeUrl: string } {
  const missing = [
    settings.redisUrl ? undefined : 'distributed.redisUrl (--redis redis://host:6379 or MERGESHOT_REDIS_URL)',
    settings.storeUrl ? undefined : 'distributed.storeUrl (--store s3://bucket/prefix or MERGESHOT_STORE_URL)',
  ].filter((item): item is string => item !== undefined);
  if (missing.length) throw new ConfigError('CONFIG_INVALID', `${command} in distributed mode needs ${missing.join(' and ')}.`, { source: 'distributed' });
  return { redisUrl: settings.redisUrl!, storeUrl: settings.storeUrl! };
}

export function openStore(settings: DistributedSettings, storeUrl: string, observe?: (operation: StoreOperation, seconds: number, failed: boolean) => void): S3Store {
  return new S3Store({ location: parseStoreUrl(storeUrl), region: settings.region, endpoint: settings.endpoint, forcePathStyle: settings.forcePathStyle, timeoutMs: settings.storeTimeoutMs, retryMs: settings.storeRetryMs, observe });
}

/** A connection that answered PING, or QUEUE_UNAVAILABLE naming the setting (the URL without its password). */
export async function openRedis(url: string, role: RedisRole, onError?: (error: Error) => void): Promise<Redis> {
  const redis = connectRedis(url, role, onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    // 'ready', not a PING: a `fast` connection refuses commands until it is connected.
    if (redis.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5_000);
        redis.once('ready', () => resolve());
      });
    }
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new CacheError('QUEUE_UNAVAILABLE', `distributed.redisUrl ${redactRedisUrl(url)}: Redis does not answer (${(error as Error).message}). Start Redis or correct --redis / MERGESHOT_REDIS_URL.`, { source: 'distributed.redisUrl' }, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

/**
 * One request against the bucket at start: a missing bucket or refused credentials are
 * configuration errors and stop the start; an unreachable store is not (the image routes answer
 * the fallback until it is back, batches retry).
 */
export async function probeStore(store: S3Store, storeUrl: string): Promise<void> {
  try {
    await store.getObject(store.objectKey('0000000000000000'));
  } catch (error) {
    const cause = error instanceof CacheError ? error.cause : error;
    if (cause instanceof NoSuchBucket || (cause instanceof S3ServiceException && [301, 403].includes(cause.$metadata.httpStatusCode ?? 0))) {
      throw new ConfigError('CONFIG_INVALID', `distributed.storeUrl ${storeUrl}: ${cause.name} (HTTP ${cause.$metadata.httpStatusCode ?? '?'}). Create the bucket, or check the region (distributed.region), the endpoint (distributed.endpoint) and the credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE / role).`, { source: 'distributed.storeUrl' }, { cause });
    }
  }
}
