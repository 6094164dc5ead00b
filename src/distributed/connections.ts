import { NoSuchBucket, S3ServiceException } from '@aws-sdk/client-s3';
import { ReplyError, type Redis } from 'ioredis';
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

/**
 * A connection that answered PING, or an error naming the setting (the URL without its
 * password): CONFIG_INVALID when Redis answered but refused us (a password missing or wrong:
 * restarting Redis would not help), QUEUE_UNAVAILABLE when it does not answer.
 */
export async function openRedis(url: string, role: RedisRole, onError?: (error: Error) => void): Promise<Redis> {
  const redis = connectRedis(url, role, onError);
  let timer: NodeJS.Timeout | undefined;
  let refused: ((error: Error) => void) | undefined;
  try {
    // 'ready', not a PING: a `fast` connection refuses commands until it is connected.
    if (redis.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5_000);
        // ioredis retries a refused AUTH for ever; the first refusal is the answer.
        refused = (error) => {
          if (authRefusal(error)) reject(error);
        };
        redis.on('error', refused);
        redis.once('ready', () => resolve());
      });
    }
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const refusal = authRefusal(error);
    if (refusal) throw new ConfigError('CONFIG_INVALID', `distributed.redisUrl ${redactRedisUrl(url)}: Redis answered ${refusal}: ${refusal === 'NOAUTH' ? 'it needs a password and the URL gives none' : 'it refused the user name or password of the URL'}. Give the password in the URL, redis://:password@host:port (redis://user:password@host:port for an ACL user), with --redis, MERGESHOT_REDIS_URL or distributed.redisUrl in mergeshot.config.json.`, { source: 'distributed.redisUrl' }, { cause: error });
    throw new CacheError('QUEUE_UNAVAILABLE', `distributed.redisUrl ${redactRedisUrl(url)}: Redis does not answer (${(error as Error).message}). Start Redis or correct --redis / MERGESHOT_REDIS_URL.`, { source: 'distributed.redisUrl' }, { cause: error });
  } finally {
    clearTimeout(timer);
    if (refused) redis.off('error', refused);
  }
  return redis;
}

/** Redis's reply code (the first word of an error reply, RESP's convention) when it refused our credentials. */
function authRefusal(error: unknown): 'NOAUTH' | 'WRONGPASS' | undefined {
  if (!(error instanceof ReplyError) || !(error instanceof Error)) return undefined;
  const code = error.message.split(' ', 1)[0];
  return code === 'NOAUTH' || code === 'WRONGPASS' ? code : undefined;
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
