import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, metricValue, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

const apiKey = 'test-api-key-0123456789';
let workspace: TestWorkspace;
let server: TestServer;

beforeAll(async () => {
  workspace = await createWorkspace({ server: { apiKeys: [apiKey] } });
  server = await startServer(workspace.pipeline, workspace.config);
});

afterAll(async () => {
  await server?.close();
  await workspace?.close();
});

const api = (target: TestServer, method: 'get' | 'post', path: string) => request(target.url)[method](path).set('Authorization', `Bearer ${apiKey}`);

async function waitForDone(target: TestServer, id: string): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const status = (await api(target, 'get', `/api/batches/${id}`).expect(200)).body as Record<string, unknown>;
    if (status.status === 'done') return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`batch ${id} did not finish`);
}

function binaryParser(res: NodeJS.ReadableStream, done: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

describe('/api/batches', () => {
  it('renders a CSV upload and serves a zip with manifest.csv', async () => {
    const csv = 'Name;VIP\r\nAda;yes\r\n*|FNAME|*;no\r\nGrace;\r\n';
    const created = await api(server, 'post', '/api/batches?template=mini&preset=web').set('Content-Type', 'text/csv').send(csv).expect(202);
    expect(created.body).toMatchObject({ template: 'mini', preset: 'web', total: 3 });
    expect(created.headers.location).toBe(`/api/batches/${created.body.id}`);
    await api(server, 'get', `/api/batches/${created.body.id}/download`).expect((res) => expect([200, 409]).toContain(res.status));
    const status = await waitForDone(server, created.body.id as string);
    expect(status).toMatchObject({ done: 3, failed: 0, download: `/api/batches/${created.body.id}/download` });
    const zip = await api(server, 'get', `/api/batches/${created.body.id}/download`).buffer(true).parse(binaryParser as never).expect(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    const bytes = zip.body as Buffer;
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    for (const name of ['00001.webp', '00002.webp', '00003.webp', 'manifest.csv']) expect(bytes.includes(Buffer.from(name))).toBe(true);
  });

  it('refuses bad batches up front and unknown ids', async () => {
    expect((await api(server, 'post', '/api/batches').send({ template: 'nope', rows: [{}] }).expect(404)).body.error.code).toBe('TEMPLATE_NOT_FOUND');
    expect((await api(server, 'post', '/api/batches').send({ template: 'mini', rows: [] }).expect(400)).body.error.code).toBe('USAGE');
    expect((await api(server, 'post', '/api/batches').send({ template: 'mini', preset: 'nope', rows: [{}] }).expect(400)).body.error.code).toBe('PRESET_UNKNOWN');
    expect((await api(server, 'get', '/api/batches/not-an-id').expect(404)).body.error.code).toBe('BATCH_NOT_FOUND');
    await api(server, 'get', '/api/batches/00000000-0000-0000-0000-000000000000').expect(404);
  });

  it('survives a restart and resumes where it stopped, rendering no row twice', async () => {
    const first = await startServer(workspace.pipeline, workspace.config);
    const rows = Array.from({ length: 12 }, (_, i) => ({ name: `Resume ${i}` }));
    const created = await api(first, 'post', '/api/batches').send({ template: 'mini', rows }).expect(202);
    const id = created.body.id as string;
    // Stop while the job is running: rows in flight finish, the rest wait for the next start.
    for (let attempt = 0; attempt < 100; attempt++) {
      if (((await api(first, 'get', `/api/batches/${id}`)).body.done as number) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await first.close();
    const stopped = (await api(server, 'get', `/api/batches/${id}`).expect(200)).body as { done: number; status: string };
    expect(stopped.status).not.toBe('done');
    expect(stopped.done).toBeLessThan(12);
    const second = await startServer(workspace.pipeline, workspace.config);
    try {
      const status = await waitForDone(second, id);
      expect(status).toMatchObject({ total: 12, done: 12, failed: 0 });
      const text = (await request(second.url).get('/metrics')).text;
      expect(metricValue(text, 'mergeshot_renders_total', { template: 'mini' })).toBe(12 - stopped.done);
    } finally {
      await second.close();
    }
  });
});
