import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/index.js';
import { parseStoreUrl, redactRedisUrl, requireDistributed } from '../../../src/distributed/index.js';

describe('distributed settings', () => {
  it('are all optional: the embedded default needs neither Redis nor a store', () => {
    const config = parseConfig({});
    expect(config.distributed.redisUrl).toBeUndefined();
    expect(config.distributed.storeUrl).toBeUndefined();
    expect(config.distributed.chunkRows).toBe(50);
  });

  it('name the setting of a bad store URL, Redis URL or endpoint', () => {
    expect(() => parseConfig({ distributed: { storeUrl: 'https://bucket/prefix' } }, 'mergeshot.config.json')).toThrowError(/distributed\.storeUrl.*s3:\/\/bucket\/prefix/);
    expect(() => parseConfig({ distributed: { redisUrl: 'localhost:6379' } }, 'mergeshot.config.json')).toThrowError(/distributed\.redisUrl.*redis:\/\/host:6379/);
    expect(() => parseConfig({ distributed: { endpoint: 'minio:9000' } }, 'mergeshot.config.json')).toThrowError(/distributed\.endpoint/);
    expect(() => parseConfig({ distributed: { chunkRow: 10 } }, 'mergeshot.config.json')).toThrowError('unknown key "distributed.chunkRow". Did you mean "chunkRows"?');
  });

  it('come from MERGESHOT_* env and AWS_REGION, env booleans checked', async () => {
    const config = await loadConfig({ cwd: tmpdir(), env: { MERGESHOT_REDIS_URL: 'redis://r:6379', MERGESHOT_STORE_URL: 's3://images/prod', MERGESHOT_S3_ENDPOINT: 'http://minio:9000', AWS_REGION: 'eu-west-1', MERGESHOT_S3_FORCE_PATH_STYLE: 'true' } });
    expect(config.distributed).toMatchObject({ redisUrl: 'redis://r:6379', storeUrl: 's3://images/prod', endpoint: 'http://minio:9000', region: 'eu-west-1', forcePathStyle: true });
    await expect(loadConfig({ cwd: tmpdir(), env: { MERGESHOT_S3_FORCE_PATH_STYLE: 'yes please' } })).rejects.toThrowError('env MERGESHOT_S3_FORCE_PATH_STYLE must be true or false');
  });

  it('require both URLs in distributed mode and say how to give the missing one', () => {
    const { distributed } = parseConfig({ distributed: { redisUrl: 'redis://127.0.0.1:6379' } });
    expect(() => requireDistributed(distributed, 'mergeshot worker')).toThrowError('mergeshot worker in distributed mode needs distributed.storeUrl (--store s3://bucket/prefix or MERGESHOT_STORE_URL).');
  });

  it('parse s3://bucket/prefix and refuse dot segments', () => {
    expect(parseStoreUrl('s3://mergeshot-images/prod/eu/')).toEqual({ bucket: 'mergeshot-images', prefix: 'prod/eu' });
    expect(parseStoreUrl('s3://mergeshot-images')).toEqual({ bucket: 'mergeshot-images', prefix: '' });
    expect(() => parseStoreUrl('s3://b/../x')).toThrowError(/distributed\.storeUrl/);
    expect(() => parseStoreUrl('s3://mergeshot-images/a/../b')).toThrowError('the prefix may not contain "." or ".." segments');
  });

  it('never print a Redis password', () => {
    expect(redactRedisUrl('redis://:s3cret@redis.internal:6379/2')).toBe('redis://:***@redis.internal:6379/2');
    expect(redactRedisUrl('rediss://app:s3cret@redis.internal:6380')).not.toContain('s3cret');
  });
});
