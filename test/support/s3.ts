import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { freePort } from './redis.js';

/**
 * A real S3-protocol server (s3rver from npm, objects on disk in a temp dir) on loopback, for
 * one test file. The code under test talks to it with the official AWS SDK, as to AWS S3 or
 * MinIO. stop()/start() take it down and bring it back on the same port and data, for the
 * store-outage tests.
 */
export interface TestS3 {
  readonly endpoint: string;
  readonly bucket: string;
  /** Env for the AWS default credential chain: s3rver accepts its fixed key pair. */
  readonly env: Readonly<Record<string, string>>;
  storeUrl(prefix: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startS3(bucket = 'mergeshot-test'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'mergeshot-s3-'));
  const port = await freePort();
  let server: S3rver | undefined;
  let closed = false;
  const start = async () => {
    const next = new S3rver({ address: '127.0.0.1', port, silent: true, directory, configureBuckets: [{ name: bucket }] });
    await next.run();
    server = next;
  };
  const stop = async () => {
    const running = server;
    server = undefined;
    await running?.close();
  };
  await start();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    storeUrl: (prefix) => `s3://${bucket}/${prefix}`,
    stop,
    start,
    close: async () => {
      if (closed) return;
      closed = true;
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
