import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('config', () => {
  it('fills nested defaults when a section is absent', () => {
    const config = parseConfig({});
    expect(config.render.timeoutMs).toBe(10_000);
    expect(config.render.pages).toBeGreaterThanOrEqual(1);
    expect(config.fetch.allowHosts).toEqual([]);
    expect(config.data.maxLength).toBe(200);
  });

  it('layers file < env < flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mergeshot-config-'));
    dirs.push(dir);
    await writeFile(join(dir, 'mergeshot.config.json'), JSON.stringify({ render: { pages: 3, timeoutMs: 5000 } }));
    const config = await loadConfig({ cwd: dir, env: { MERGESHOT_RENDER_TIMEOUT_MS: '7000' }, overrides: { render: { pages: 1 } } });
    expect(config.render.pages).toBe(1);
    expect(config.render.timeoutMs).toBe(7000);
    expect(config.templatesDir).toBe(join(dir, 'templates'));
  });

  it('listens on PORT, which MERGESHOT_PORT and --port override', async () => {
    expect((await loadConfig({ cwd: tmpdir(), env: { PORT: '8080' } })).server.port).toBe(8080);
    expect((await loadConfig({ cwd: tmpdir(), env: { PORT: '8080', MERGESHOT_PORT: '9090' } })).server.port).toBe(9090);
    expect((await loadConfig({ cwd: tmpdir(), env: { PORT: '8080', MERGESHOT_PORT: '9090' }, overrides: { server: { port: 7070 } } })).server.port).toBe(7070);
    await expect(loadConfig({ cwd: tmpdir(), env: { PORT: 'http' } })).rejects.toThrowError('env PORT must be a whole number');
  });

  it('names the env variable that is wrong', async () => {
    await expect(loadConfig({ cwd: tmpdir(), env: { MERGESHOT_PAGES: 'four' } })).rejects.toThrowError('env MERGESHOT_PAGES must be a whole number');
  });

  it('rejects unknown keys with a suggestion', () => {
    expect(() => parseConfig({ render: { timeoutMS: 5 } }, 'mergeshot.config.json')).toThrowError('mergeshot.config.json: unknown key "render.timeoutMS". Did you mean "timeoutMs"?');
  });
});
