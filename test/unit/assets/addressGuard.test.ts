import type dns from 'node:dns';
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuardedConnector } from '../../../src/assets/addressGuard.js';
import { createAddressGuard, isPublicAddress, type ResolveAll } from '../../../src/assets/index.js';
import { AssetError, ConfigError } from '../../../src/errors/index.js';

describe('isPublicAddress', () => {
  it.each([
    // IPv4
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['93.184.216.34', true],
    ['127.0.0.1', false],
    ['127.255.255.254', false],
    ['0.0.0.0', false],
    ['0.1.2.3', false],
    ['10.0.0.1', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['172.32.0.1', true],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['100.127.255.255', false],
    ['100.128.0.1', true],
    ['224.0.0.1', false],
    ['239.255.255.250', false],
    ['255.255.255.255', false],
    ['240.0.0.1', false],
    ['192.0.2.1', false],
    ['198.18.0.1', false],
    // IPv6
    ['2001:4860:4860::8888', true],
    ['2001:4860::8888', true],
    ['2606:4700:4700::1111', true],
    ['::1', false],
    ['::', false],
    ['fc00::1', false],
    ['fd12:3456:789a::1', false],
    ['fe80::1', false],
    ['fe80::1%eth0', false],
    ['febf::1', false],
    ['ff02::1', false],
    ['2001:db8::1', false],
    ['64:ff9b::a00:1', false],
    ['2002:a00:1::1', false],
    ['::7f00:1', false],
    // IPv4-mapped IPv6 is judged as the IPv4 address it reaches
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:169.254.169.254', false],
    ['::ffff:8.8.8.8', true],
    ['[::1]', false],
    // not addresses
    ['', false],
    ['localhost', false],
    ['example.com', false],
    ['999.1.1.1', false],
  ])('%s → %s', (ip, expected) => {
    expect(isPublicAddress(ip)).toBe(expected);
  });
});

describe('createAddressGuard().checkHost', () => {
  const guard = createAddressGuard();

  it.each(['127.0.0.1', '[::1]', '::1', '10.0.0.1', '169.254.169.254', '0.0.0.0', '[::ffff:127.0.0.1]', '0x7f.1', '2130706433', '0177.0.0.1', '127.1'])(
    'refuses the literal %s',
    (host) => {
      expect(() => guard.checkHost(host)).toThrow(AssetError);
      try {
        guard.checkHost(host);
      } catch (error) {
        expect((error as AssetError).code).toBe('ASSET_REFUSED');
      }
    },
  );

  it('pins the message', () => {
    expect(() => guard.checkHost('169.254.169.254')).toThrow('169.254.169.254 is a link-local address, not a public one. Add it to allowHosts if this server is trusted.');
    expect(() => guard.checkHost('[::ffff:127.0.0.1]')).toThrow('127.0.0.1 is a loopback address, not a public one.');
  });

  it('lets public literals and hostnames through (hostnames are vetted after DNS)', () => {
    expect(() => guard.checkHost('8.8.8.8')).not.toThrow();
    expect(() => guard.checkHost('[2001:4860::8888]')).not.toThrow();
    expect(() => guard.checkHost('localhost')).not.toThrow();
    expect(() => guard.checkHost('images.example.com')).not.toThrow();
  });

  it('allows listed addresses and ranges, and only those', () => {
    const allowing = createAddressGuard({ allowHosts: ['127.0.0.1', '10.20.0.0/16', 'fd00::/8', '::ffff:192.168.0.0/112'] });
    expect(() => allowing.checkHost('127.0.0.1')).not.toThrow();
    expect(() => allowing.checkHost('[::ffff:127.0.0.1]')).not.toThrow();
    expect(() => allowing.checkHost('127.0.0.2')).toThrow(AssetError);
    expect(() => allowing.checkHost('10.20.3.4')).not.toThrow();
    expect(() => allowing.checkHost('10.21.0.1')).toThrow(AssetError);
    expect(() => allowing.checkHost('[fd00::5]')).not.toThrow();
    expect(() => allowing.checkHost('192.168.7.7')).not.toThrow();
    expect(() => allowing.checkHost('192.169.0.1')).not.toThrow(); // public anyway
  });

  it('rejects malformed allowHosts entries naming the entry', () => {
    expect(() => createAddressGuard({ allowHosts: ['ok.example', 'http://x.example/'] })).toThrow(ConfigError);
    expect(() => createAddressGuard({ allowHosts: ['10.0.0.0/99'] })).toThrow(
      'fetch.allowHosts[0] must be a hostname, an IP address or a CIDR range, got "10.0.0.0/99". Write a range like 10.0.0.0/8.',
    );
  });
});

/** A resolver answering from a table, so DNS-dependent rules are tested without DNS. */
function fakeResolver(table: Record<string, readonly string[]>): ResolveAll {
  return (hostname, _options, callback) => {
    const addresses = table[hostname];
    if (addresses === undefined) {
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      return;
    }
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };
}

interface LookupOutcome {
  readonly error: NodeJS.ErrnoException | null;
  readonly address: string | dns.LookupAddress[];
  readonly family?: number;
}

function lookup(guard: ReturnType<typeof createAddressGuard>, hostname: string, options: dns.LookupOptions): Promise<LookupOutcome> {
  return new Promise((resolve) => {
    guard.lookup(hostname, options, (error, address, family) => resolve({ error, address, family }));
  });
}

describe('createAddressGuard().lookup', () => {
  const resolve = fakeResolver({
    'public.example': ['93.184.216.34', '2606:2800:220:1::1'],
    'metadata.example': ['169.254.169.254'],
    'intranet.example': ['10.0.0.7'],
    'mapped.example': ['::ffff:127.0.0.1'],
    'rebind.example': ['93.184.216.34', '127.0.0.1'],
    'empty.example': [],
  });

  it('answers like dns.lookup for public names, in both the single and the all form', async () => {
    const guard = createAddressGuard({ resolve });
    expect(await lookup(guard, 'public.example', {})).toEqual({ error: null, address: '93.184.216.34', family: 4 });
    expect(await lookup(guard, 'public.example', { all: true })).toEqual({
      error: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
      family: undefined,
    });
  });

  it('also accepts the (hostname, callback) form of dns.lookup', async () => {
    const guard = createAddressGuard({ resolve });
    const outcome = await new Promise<LookupOutcome>((done) => {
      (guard.lookup as unknown as (host: string, cb: (e: NodeJS.ErrnoException | null, a: string, f: number) => void) => void)('public.example', (error, address, family) =>
        done({ error, address, family }),
      );
    });
    expect(outcome).toEqual({ error: null, address: '93.184.216.34', family: 4 });
  });

  it.each([
    ['metadata.example', 'metadata.example resolves to 169.254.169.254, which is a link-local address, not a public one.'],
    ['intranet.example', 'intranet.example resolves to 10.0.0.7, which is a private address, not a public one.'],
    ['mapped.example', 'mapped.example resolves to 127.0.0.1, which is a loopback address, not a public one.'],
    // one private answer refuses the whole name: no half-trusting a rebinding setup
    ['rebind.example', 'rebind.example resolves to 127.0.0.1, which is a loopback address, not a public one.'],
  ])('refuses %s after resolving it', async (hostname, message) => {
    const guard = createAddressGuard({ resolve });
    const outcome = await lookup(guard, hostname, { all: true });
    expect(outcome.error).toBeInstanceOf(AssetError);
    expect((outcome.error as AssetError).code).toBe('ASSET_REFUSED');
    expect(outcome.error?.message).toContain(message);
  });

  it('passes DNS failures through and turns an empty answer into ENOTFOUND', async () => {
    const guard = createAddressGuard({ resolve });
    expect((await lookup(guard, 'missing.example', {})).error?.code).toBe('ENOTFOUND');
    expect((await lookup(guard, 'empty.example', {})).error?.code).toBe('ENOTFOUND');
  });

  it('allows a listed hostname whatever it resolves to, and listed ranges for any name', async () => {
    const byName = createAddressGuard({ resolve, allowHosts: ['Intranet.Example.'] });
    expect(await lookup(byName, 'intranet.example', {})).toEqual({ error: null, address: '10.0.0.7', family: 4 });
    expect((await lookup(byName, 'metadata.example', {})).error).toBeInstanceOf(AssetError);

    const byRange = createAddressGuard({ resolve, allowHosts: ['10.0.0.0/24'] });
    expect(await lookup(byRange, 'intranet.example', {})).toEqual({ error: null, address: '10.0.0.7', family: 4 });
  });

  it('vets real resolutions: localhost is refused after DNS', async () => {
    const guard = createAddressGuard();
    const outcome = await lookup(guard, 'localhost', { all: true });
    expect(outcome.error).toBeInstanceOf(AssetError);
    expect(outcome.error?.message).toMatch(/^localhost resolves to (127\.0\.0\.1|::1), which is a loopback address/);
  });
});

describe('createGuardedConnector', () => {
  // A bare TCP listener on loopback counts connections: the point is whether a socket is opened at all.
  let server: net.Server;
  let connections = 0;
  beforeAll(async () => {
    server = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });
  const port = (): string => String((server.address() as net.AddressInfo).port);

  function connect(guardOptions: Parameters<typeof createAddressGuard>[0], hostname: string): Promise<Error | null> {
    const connector = createGuardedConnector(createAddressGuard(guardOptions), { timeoutMs: 2_000 });
    return new Promise((resolve) => {
      connector({ hostname, host: `${hostname}:${port()}`, protocol: 'http:', port: port() }, (error, socket) => {
        socket?.destroy();
        resolve(error);
      });
    });
  }

  it('refuses an IP literal even when the caller skipped checkHost (net.connect would skip lookup)', async () => {
    const before = connections;
    const error = await connect({}, '127.0.0.1');
    expect(error).toBeInstanceOf(AssetError);
    expect(error?.message).toBe('127.0.0.1 is a loopback address, not a public one. Add it to allowHosts if this server is trusted.');
    expect(connections).toBe(before);
  });

  it('refuses a name whose answer is private, before connecting', async () => {
    const before = connections;
    const error = await connect({ resolve: fakeResolver({ 'rebind.example': ['127.0.0.1'] }) }, 'rebind.example');
    expect(error).toBeInstanceOf(AssetError);
    expect(connections).toBe(before);
  });

  it('connects to exactly the vetted address of an allowed name', async () => {
    const before = connections;
    const error = await connect({ allowHosts: ['allowed.example'], resolve: fakeResolver({ 'allowed.example': ['127.0.0.1'] }) }, 'allowed.example');
    expect(error).toBeNull();
    await new Promise<void>((resolve) => (connections > before ? resolve() : server.once('connection', () => resolve())));
    expect(connections).toBe(before + 1);
  });
});
