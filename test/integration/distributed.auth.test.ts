import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis } from '../../src/distributed/connections.js';
import { cancelBatch } from '../../src/distributed/index.js';
import { parseConfig } from '../../src/config/index.js';
import { isMergeshotError } from '../../src/errors/index.js';
import { startOwnRedis, type OwnRedis } from '../support/redis.js';

/**
 * Issue 18 item 10: a Redis that asks for a password answered, and the error says so and names
 * the setting, instead of "Redis does not answer". A real redis-server with requirepass.
 */
const password = 'pässwörd-"quoted"-42';
let redis: OwnRedis;

beforeAll(async () => {
  redis = await startOwnRedis({ password });
});

afterAll(async () => {
  await redis?.close();
});

const withPassword = (secret: string) => `redis://:${encodeURIComponent(secret)}@127.0.0.1:${redis.port}`;

async function refusal(url: string): Promise<{ code: string; message: string; source: unknown }> {
  const error: unknown = await openRedis(url, 'queue').then(
    (connection) => {
      connection.disconnect();
      return undefined;
    },
    (failure: unknown) => failure,
  );
  if (!isMergeshotError(error)) throw new Error(`expected a MergeshotError, got ${String(error)}`);
  return { code: error.code, message: error.message, source: error.detail.source };
}

describe('a Redis that needs a password', () => {
  it('no password in the URL: CONFIG_INVALID saying Redis answered NOAUTH, naming the URL form and the settings', async () => {
    const error = await refusal(redis.url);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.source).toBe('distributed.redisUrl');
    expect(error.message).toContain('Redis answered NOAUTH');
    expect(error.message).not.toContain('does not answer');
    for (const named of ['redis://:password@host:port', 'MERGESHOT_REDIS_URL', '--redis', 'distributed.redisUrl']) expect(error.message).toContain(named);
  });

  it('a wrong password: WRONGPASS, and the message never holds the password it was given', async () => {
    const wrong = 'wrong-sëcret-99';
    const error = await refusal(withPassword(wrong));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('Redis answered WRONGPASS');
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(encodeURIComponent(wrong));
    expect(error.message).toContain('***');
  });

  it('the right password connects; a Redis that is down is still "does not answer"', async () => {
    const connection = await openRedis(withPassword(password), 'queue');
    expect(await connection.ping()).toBe('PONG');
    connection.disconnect();
    const config = parseConfig({ distributed: { redisUrl: redis.url, storeUrl: 's3://bucket/x' } }, 'test', process.cwd());
    // A front end's path (render --cancel): the same refusal, not a queue outage.
    await expect(cancelBatch(config.distributed, 'some-batch')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await redis.stop();
    try {
      const down = await refusal(withPassword(password));
      expect(down.code).toBe('QUEUE_UNAVAILABLE');
      expect(down.message).toContain('Redis does not answer');
    } finally {
      await redis.start();
    }
  }, 30_000);
});
