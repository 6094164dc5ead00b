import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/index.js';

/** server.apiKeys and MERGESHOT_API_KEYS: plain keys stay render-only, scoped keys are checked, no key is ever echoed. */

const ciKey = 'ci-key-3fX9+q/Z0123456789==';

function message(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('server.apiKeys', () => {
  it('keeps a plain key render-only, named by its digest, and takes named keys with scopes', () => {
    const { apiKeys } = parseConfig({ server: { apiKeys: ['plain-key-0123456789abc', { name: 'ci', key: ciKey, scopes: ['render', 'campaigns', 'render'] }, { name: 'bot.2', key: 'bot-key-0123456789abcdef' }] } }).server;
    // sha256("plain-key-0123456789abc") starts 3ccb00e0: an operator can tell which key a log line means.
    expect(apiKeys).toEqual([
      { name: 'key-3ccb00e0', key: 'plain-key-0123456789abc', scopes: ['render'] },
      { name: 'ci', key: ciKey, scopes: ['render', 'campaigns'] },
      { name: 'bot.2', key: 'bot-key-0123456789abcdef', scopes: ['render'] },
    ]);
  });

  it('refuses an unknown scope, naming the key by index and name, the scope and the valid ones, never the key', () => {
    const text = message(() => parseConfig({ server: { apiKeys: ['plain-key-0123456789abc', { name: 'ci', key: ciKey, scopes: ['render', 'campaing'] }] } }, 'mergeshot.config.json'));
    expect(text).toBe('mergeshot.config.json: server.apiKeys.1.scopes.1 (key "ci") is an unknown scope "campaing". Scopes: render, campaigns, admin.');
  });

  it('does not echo a scope that may be the key put in the wrong place', () => {
    const text = message(() => parseConfig({ server: { apiKeys: [{ name: 'ci', key: 'another-key-0123456789', scopes: [ciKey] }] } }));
    expect(text).toContain(`server.apiKeys.0.scopes.0 (key "ci") is an unknown scope of ${ciKey.length} characters (not shown`);
    expect(text).not.toContain(ciKey);
  });

  it('refuses two keys with one name and one key listed twice, never echoing a key', () => {
    const text = message(() => parseConfig({ server: { apiKeys: [{ name: 'ci', key: ciKey }, { name: 'ci', key: 'other-key-0123456789abc' }, { name: 'copy', key: ciKey, scopes: ['admin'] }] } }));
    expect(text).toContain('server.apiKeys.1.name "ci" is also the name of server.apiKeys.0');
    expect(text).toContain('server.apiKeys.2.key (key "copy") is the same key as server.apiKeys.0 ("ci")');
    for (const key of [ciKey, 'other-key-0123456789abc']) expect(text).not.toContain(key);
  });

  it('refuses a short key and a misspelt field, never echoing a key', () => {
    const text = message(() => parseConfig({ server: { apiKeys: [{ name: 'short', key: 'short-key' }, 'short-plain', { name: 'typo', key: 'typo-key-0123456789abc', scope: ['admin'] }] } }));
    expect(text).toContain('server.apiKeys.0.key Too small');
    expect(text).toContain('server.apiKeys.1 Too small');
    expect(text).toContain('unknown key "server.apiKeys.2.scope". Did you mean "scopes"?');
    for (const key of ['short-key', 'short-plain', 'typo-key-0123456789abc']) expect(text).not.toContain(key);
  });

  it('refuses a name that could not be read back from a log line or the env form, an empty scope list, and the studio sessions\' name', () => {
    expect(message(() => parseConfig({ server: { apiKeys: [{ name: 'ci:admin', key: ciKey }] } }))).toContain('server.apiKeys.0.name must be 1–40 letters');
    expect(message(() => parseConfig({ server: { apiKeys: [{ name: 'ci', key: ciKey, scopes: [] }] } }))).toContain('server.apiKeys.0.scopes must list at least one scope: render, campaigns, admin');
    // The studio's sessions own their batches under this name: a key named so would read them.
    expect(message(() => parseConfig({ server: { apiKeys: [{ name: 'studio', key: ciKey }] } }))).toContain('server.apiKeys.0.name "studio" is the name of the studio\'s sessions');
  });
});

describe('MERGESHOT_API_KEYS', () => {
  it('reads comma-separated plain keys as before, base64 ones included, and name:scope+scope:key as a scoped key', async () => {
    const config = await loadConfig({ cwd: tmpdir(), env: { MERGESHOT_API_KEYS: ` plain+key/0123456789abc= , ci:render+campaigns:${ciKey},ops:admin:k:with:colons-0123456789` } });
    expect(config.server.apiKeys).toEqual([
      { name: expect.stringMatching(/^key-[0-9a-f]{8}$/), key: 'plain+key/0123456789abc=', scopes: ['render'] },
      { name: 'ci', key: ciKey, scopes: ['render', 'campaigns'] },
      { name: 'ops', key: 'k:with:colons-0123456789', scopes: ['admin'] },
    ]);
  });

  it('names the env entry whose scope is unknown, not its key', async () => {
    const refused = loadConfig({ cwd: tmpdir(), env: { MERGESHOT_API_KEYS: `plain-key-0123456789abc,ci:render+admn:${ciKey}` } });
    await expect(refused).rejects.toThrowError('server.apiKeys.1.scopes.1 (key "ci") is an unknown scope "admn". Scopes: render, campaigns, admin.');
    await expect(refused).rejects.not.toThrowError(ciKey);
  });
});
