/**
 * Threat: server-side request forgery. Image URLs come from CSV rows and query strings, so an
 * attacker chooses them. Without this guard a row saying `http://169.254.169.254/latest/meta-data/`
 * or `http://localhost:6379/` makes the renderer fetch from the cloud metadata service, an admin
 * port or the office network, and the response would come back inside a rendered image.
 *
 * The guard refuses every destination that is not a globally routable unicast address, unless the
 * operator allow-listed it. It runs at two points, both needed:
 *  - `checkHost` for IP literals in the URL: Node's `net.connect` skips the lookup function for
 *    them, so the resolver below would never see `http://10.0.0.1/`.
 *  - `lookup`, handed to the socket layer (`net.connect({ lookup })`, via undici's connector), for
 *    hostnames. The check happens after DNS and the socket connects to exactly the address that
 *    was checked, so a DNS answer that changes between a check and the connect (DNS rebinding)
 *    cannot slip a private address through.
 * `createGuardedConnector` wires both into undici, so no code path can open an unchecked socket.
 *
 * Spellings such as `http://2130706433/`, `http://0x7f.1/`, `http://127.1/` and `http://0177.0.0.1/`
 * are canonicalised to a dotted quad by the WHATWG URL parser before they reach us; `checkHost`
 * parses the legacy forms too, and an unparsed one would reach `lookup`, whose resolved address is
 * checked like any other.
 */
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { buildConnector } from 'undici';
import { AssetError, ConfigError } from '../errors/index.js';

type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;
type LookupCallback = Parameters<LookupFunction>[2];

/** Resolves a hostname to all its addresses; `dns.lookup` with `all: true` has this shape. */
export type ResolveAll = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

export interface AddressGuardOptions {
  /**
   * Hostnames, IP addresses or CIDR ranges allowed even though they are not public, e.g.
   * `'127.0.0.1'` for tests or `'10.20.0.0/16'` for an internal image server. A hostname entry
   * allows whatever that name resolves to; an address or range entry allows matching addresses
   * however they were reached (literal or resolved).
   */
  readonly allowHosts?: readonly string[];
  /** The resolver whose answers are vetted. Defaults to the OS resolver (`dns.lookup`), as browsers and curl use. */
  readonly resolve?: ResolveAll;
}

export interface AddressGuard {
  /** Throws ASSET_REFUSED when `hostname` is an IP literal that is neither public nor allow-listed. Hostnames pass: `lookup` vets them. */
  checkHost(hostname: string): void;
  /** A `dns.lookup`-compatible function that fails with ASSET_REFUSED when any resolved address is refused. */
  readonly lookup: LookupFunction;
}

/**
 * 2000::/3 is the only IPv6 block IANA hands out for global unicast. Checking it as well as
 * ipaddr.js's ranges also refuses blocks ipaddr.js calls unicast though no router forwards them,
 * notably the deprecated IPv4-compatible ::a.b.c.d form.
 */
const globalUnicastV6 = ipaddr.parseCIDR('2000::/3');

/**
 * True only for globally routable unicast addresses. IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is
 * unwrapped first and judged as the IPv4 address it reaches. Anything that does not parse is not public.
 */
export function isPublicAddress(ip: string): boolean {
  const address = parseAddress(ip);
  return address !== undefined && isPublic(address);
}

function isPublic(address: IpAddress): boolean {
  if (address.range() !== 'unicast') return false;
  return address.kind() === 'ipv4' || address.match(globalUnicastV6);
}

/** Parses an address, unwrapping IPv4-mapped IPv6 and stripping URL brackets. */
function parseAddress(ip: string): IpAddress | undefined {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (!ipaddr.isValid(bare)) return undefined;
  try {
    return ipaddr.process(bare);
  } catch {
    return undefined;
  }
}

interface AllowList {
  readonly hostnames: ReadonlySet<string>;
  readonly ranges: readonly (readonly [IpAddress, number])[];
}

function parseAllowList(entries: readonly string[]): AllowList {
  const hostnames = new Set<string>();
  const ranges: (readonly [IpAddress, number])[] = [];
  entries.forEach((entry, index) => {
    const where = `fetch.allowHosts[${index}]`;
    if (entry.includes('/')) {
      if (!ipaddr.isValidCIDR(entry)) {
        throw new ConfigError('CONFIG_INVALID', `${where} must be a hostname, an IP address or a CIDR range, got "${entry}". Write a range like 10.0.0.0/8.`);
      }
      const [base, bits] = ipaddr.parseCIDR(entry);
      // An IPv4-mapped range such as ::ffff:127.0.0.0/104 is stored as its IPv4 equivalent, so it
      // matches the unwrapped addresses parseAddress produces.
      if (base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
        ranges.push([(base as ipaddr.IPv6).toIPv4Address(), bits - 96]);
      } else {
        ranges.push([base, bits]);
      }
      return;
    }
    const address = parseAddress(entry);
    if (address !== undefined) {
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
      return;
    }
    const hostname = normalizeHostname(entry);
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(hostname)) {
      throw new ConfigError('CONFIG_INVALID', `${where} must be a hostname, an IP address or a CIDR range, got "${entry}". Write the bare host without scheme or port: images.example.com.`);
    }
    hostnames.add(hostname);
  });
  return { hostnames, ranges };
}

function normalizeHostname(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, '');
}

function inAllowedRange(allow: AllowList, address: IpAddress): boolean {
  return allow.ranges.some(([base, bits]) => base.kind() === address.kind() && address.match(base, bits));
}

/** Readable names for ipaddr.js ranges, with their article, for messages. */
const rangeLabels: Readonly<Record<string, string>> = {
  unspecified: 'an unspecified',
  broadcast: 'a broadcast',
  multicast: 'a multicast',
  linkLocal: 'a link-local',
  loopback: 'a loopback',
  carrierGradeNat: 'a carrier-grade NAT',
  private: 'a private',
  reserved: 'a reserved',
  uniqueLocal: 'a unique-local',
  deprecatedSiteLocal: 'a site-local',
};

function refusal(address: IpAddress, resolvedFrom?: string): AssetError {
  const range = address.range();
  const subject = resolvedFrom === undefined ? `${address.toString()} is` : `${resolvedFrom} resolves to ${address.toString()}, which is`;
  const kind =
    range === 'unicast' ? 'not a globally routable address' : `${rangeLabels[range] ?? `a special-purpose (${range})`} address, not a public one`;
  return new AssetError('ASSET_REFUSED', `${subject} ${kind}. Add it to allowHosts if this server is trusted.`, {
    hint: 'allowHosts lists hostnames, addresses or CIDR ranges that may be fetched even though they are private.',
  });
}

export function createAddressGuard(options: AddressGuardOptions = {}): AddressGuard {
  const allow = parseAllowList(options.allowHosts ?? []);
  const resolve: ResolveAll = options.resolve ?? ((hostname, lookupOptions, callback) => dns.lookup(hostname, lookupOptions, callback));

  const isAllowed = (address: IpAddress, hostname?: string): boolean =>
    isPublic(address) || inAllowedRange(allow, address) || (hostname !== undefined && allow.hostnames.has(normalizeHostname(hostname)));

  function checkHost(hostname: string): void {
    const address = parseAddress(hostname);
    if (address !== undefined && !isAllowed(address)) throw refusal(address);
  }

  // Typed as net's LookupFunction (what the socket layer calls); the `(hostname, callback)` and
  // numeric-family forms of dns.lookup are accepted too so it can stand in for dns.lookup anywhere.
  const lookup = ((hostname: string, optionsOrCallback: dns.LookupOptions | number | LookupCallback, maybeCallback?: LookupCallback): void => {
    const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as LookupCallback;
    const lookupOptions: dns.LookupOptions =
      typeof optionsOrCallback === 'number' ? { family: optionsOrCallback } : typeof optionsOrCallback === 'function' ? {} : optionsOrCallback;
    resolve(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '');
        return;
      }
      if (addresses.length === 0) {
        const notFound: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
        callback(notFound, '');
        return;
      }
      // One refused address refuses the host: an answer mixing public and private addresses is a
      // rebinding setup or a misconfiguration, and either way not something to half-trust.
      for (const { address } of addresses) {
        const parsed = parseAddress(address);
        if (parsed === undefined || !isAllowed(parsed, hostname)) {
          callback(parsed === undefined ? new AssetError('ASSET_REFUSED', `${hostname} resolves to an address that cannot be parsed.`) : refusal(parsed, hostname), '');
          return;
        }
      }
      if (lookupOptions.all === true) {
        callback(null, addresses);
      } else {
        const [first] = addresses as [dns.LookupAddress];
        callback(null, first.address, first.family);
      }
    });
  }) as LookupFunction;

  return { checkHost, lookup };
}

/**
 * An undici connector that opens sockets only to vetted addresses: IP literals go through
 * `checkHost` (net.connect would skip `lookup` for them), names through the guarded `lookup`.
 */
export function createGuardedConnector(guard: AddressGuard, options: { readonly timeoutMs?: number } = {}): buildConnector.connector {
  const connect = buildConnector({ lookup: guard.lookup, ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }) });
  return (connectOptions, callback) => {
    try {
      guard.checkHost(connectOptions.hostname);
    } catch (error) {
      callback(error as Error, null);
      return;
    }
    connect(connectOptions, callback);
  };
}
