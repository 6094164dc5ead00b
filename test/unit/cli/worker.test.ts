import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { serveMetrics } from '../../../src/cli/commands/worker.js';

/** Issue 18 item 10: `mergeshot worker --metrics-port` asks for no credentials, so it listens on loopback unless --metrics-host says otherwise. */
describe('worker metrics', () => {
  it('listen on 127.0.0.1 by default and answer /metrics there', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ worker: 'test' });
    const server = await serveMetrics(registry, { port: 0 });
    try {
      const { address, port } = server.address() as AddressInfo;
      expect(address).toBe('127.0.0.1');
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(registry.contentType);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it('listen where --metrics-host says (every interface with 0.0.0.0)', async () => {
    const server = await serveMetrics(new Registry(), { port: 0, host: '0.0.0.0' });
    try {
      expect((server.address() as AddressInfo).address).toBe('0.0.0.0');
    } finally {
      server.close();
    }
  });
});
