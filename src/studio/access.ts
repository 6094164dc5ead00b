import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import { LRUCache } from 'lru-cache';

/**
 * Who may use the studio.
 *
 * Threats: anyone who reaches the port, directly or through a reverse proxy on the same host
 * (whose requests arrive from loopback, often with `Host: 127.0.0.1:<port>`), could read
 * uploaded lists (personal data) and render under the sender's templates; from the user's own
 * browser, any web page could fire requests at the studio (CSRF) or, through DNS rebinding, read
 * it as if same-origin; another app on the same host name receives the browser's cookies.
 * - Every bind asks for a login, loopback too: the bind address says nothing about who is on the
 *   other end of a proxy. The login is the studio password or an API key (only in a POST body,
 *   never in a URL), or, with no password configured, the one-time login URL printed at start
 *   (the Jupyter way: one click on the first run), which works once, within `loginLinkMs`.
 * - On a loopback bind a page is served only for a loopback Host header (a rebinding domain names
 *   itself in Host), unless the request comes through a proxy the operator declared with
 *   `server.trustProxy`: a request carrying forwarding headers is never taken for a local one.
 * - A session is a cookie named after the port the browser used (`mergeshot_studio_<port>`,
 *   `__Host-` prefixed over HTTPS), HttpOnly and SameSite=Strict, created only at a login; every
 *   state-changing call must carry the session's CSRF token, which only the studio's own pages
 *   are given.
 * Sessions live in memory (a restart logs everyone out), bounded (least recently used first),
 * and end when idle for `idleMs` or `maxMs` after the login, whichever comes first; their
 * `signal` aborts then, so whatever the session opened (an event stream) ends with it.
 */

/** How a session logged in: the password, the one-time token, or an API key (its index in server.apiKeys). */
export interface StudioPrincipal {
  readonly kind: 'password' | 'token' | 'apiKey';
  readonly apiKeyIndex?: number;
}

export interface StudioSession {
  readonly id: string;
  readonly csrf: string;
  readonly principal: StudioPrincipal;
  readonly createdAt: number;
  lastUsedAt: number;
  /** Aborted when the session ends: logout, idle or absolute expiry, eviction, server close. */
  readonly signal: AbortSignal;
}

export interface StudioAccessOptions {
  readonly password?: string | undefined;
  readonly apiKeys: readonly string[];
  /** A session ends after this long without use… */
  readonly idleMs: number;
  /** …or this long after its login, whichever comes first. */
  readonly maxMs: number;
  /** The one-time login token (no password configured) logs in once, within this long. */
  readonly loginLinkMs: number;
  /** The server listens on loopback only: a direct request must name loopback in Host. */
  readonly loopbackBind: boolean;
  /** `server.trustProxy` is set: forwarded requests come from a proxy the operator declared. */
  readonly trustProxy: boolean;
  /** Sessions kept at most; the least recently used goes first. */
  readonly maxSessions?: number;
  readonly now?: () => number;
}

/** What the API needs to let a studio page through (server/routes/api.ts declares its use). */
export interface StudioSessions {
  session(req: IncomingMessage): StudioSession | undefined;
  checkCsrf(req: IncomingMessage, session: StudioSession): boolean;
}

interface SessionEntry {
  readonly session: StudioSession;
  readonly controller: AbortController;
}

interface LoginLink {
  readonly token: string;
  readonly digest: Buffer;
  readonly expiresAt: number;
}

const sweepMs = 1_000;

/** Headers a proxy adds: a request carrying one is never a local one. */
const forwardingHeaders = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'via'];

export class StudioAccess implements StudioSessions {
  #loginLink: LoginLink | undefined;
  readonly #secrets: { readonly digest: Buffer; readonly principal: StudioPrincipal }[];
  readonly #sessions: LRUCache<string, SessionEntry>;
  readonly #idleMs: number;
  readonly #maxMs: number;
  readonly #loopbackBind: boolean;
  readonly #trustProxy: boolean;
  readonly #now: () => number;
  readonly #sweep: NodeJS.Timeout;

  constructor(options: StudioAccessOptions) {
    this.#idleMs = options.idleMs;
    this.#maxMs = options.maxMs;
    this.#loopbackBind = options.loopbackBind;
    this.#trustProxy = options.trustProxy;
    this.#now = options.now ?? Date.now;
    this.#secrets = [
      ...(options.password ? [{ digest: digest(options.password), principal: { kind: 'password' } as const }] : []),
      ...options.apiKeys.map((key, apiKeyIndex) => ({ digest: digest(key), principal: { kind: 'apiKey', apiKeyIndex } as const })),
    ];
    // Resolution 0 reads the clock each time (tests move it).
    this.#sessions = new LRUCache<string, SessionEntry>({
      max: options.maxSessions ?? 1_000,
      ttl: Math.min(this.#idleMs, this.#maxMs),
      ttlResolution: 0,
      perf: { now: this.#now },
      dispose: (entry) => entry.controller.abort(),
    });
    // Expired sessions are dropped within a second, not only at their next request, so their
    // signals abort then (lru-cache's own ttlAutopurge can miss an entry whose timer fires a
    // millisecond early by the wall clock).
    this.#sweep = setInterval(() => this.#sessions.purgeStale(), sweepMs);
    this.#sweep.unref();
    if (!options.password) {
      const token = randomBytes(24).toString('base64url');
      this.#loginLink = { token, digest: digest(token), expiresAt: this.#now() + options.loginLinkMs };
    }
  }

  /** The one-time login token while it is unspent and unexpired (only without a password). */
  get loginToken(): string | undefined {
    if (this.#loginLink && this.#now() > this.#loginLink.expiresAt) this.#loginLink = undefined;
    return this.#loginLink?.token;
  }

  /** A login from a form (POST body): the password, an API key, or the one-time token (spent). */
  verifySecret(secret: string): StudioPrincipal | undefined {
    const given = digest(secret);
    let found: StudioPrincipal | undefined;
    // Every digest is compared, so the time taken does not say which one matched.
    for (const known of this.#secrets) if (timingSafeEqual(given, known.digest)) found ??= known.principal;
    return found ?? this.redeemToken(secret);
  }

  /** A login from a URL: the one-time token only, which this spends; never the password or a key. */
  redeemToken(token: string): StudioPrincipal | undefined {
    const link = this.#loginLink;
    if (!link || !timingSafeEqual(digest(token), link.digest)) return undefined;
    this.#loginLink = undefined;
    return this.#now() > link.expiresAt ? undefined : { kind: 'token' };
  }

  /** A session for a login that succeeded (never before: a request without a login creates nothing). */
  create(principal: StudioPrincipal): StudioSession {
    const controller = new AbortController();
    const now = this.#now();
    const session: StudioSession = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), principal, createdAt: now, lastUsedAt: now, signal: controller.signal };
    this.#sessions.set(session.id, { session, controller });
    return session;
  }

  session(req: IncomingMessage): StudioSession | undefined {
    const id = parseCookies(req.headers.cookie ?? '')[sessionCookieName(req)];
    const entry = id === undefined ? undefined : this.#sessions.get(id);
    if (!entry) return undefined;
    const { session } = entry;
    const now = this.#now();
    const left = session.createdAt + this.#maxMs - now;
    if (now - session.lastUsedAt > this.#idleMs || left <= 0) {
      this.#sessions.delete(session.id);
      return undefined;
    }
    session.lastUsedAt = now;
    // Re-set with the time it has left: idle time from now, never past its absolute end.
    this.#sessions.set(session.id, entry, { ttl: Math.min(this.#idleMs, left) });
    return session;
  }

  checkCsrf(req: IncomingMessage, session: StudioSession): boolean {
    const header = req.headers['x-csrf-token'];
    return typeof header === 'string' && this.isCsrfToken(session, header);
  }

  /** For a form post, which carries the token in its body. */
  isCsrfToken(session: StudioSession, token: string): boolean {
    return timingSafeEqual(digest(token), digest(session.csrf));
  }

  end(session: StudioSession): void {
    this.#sessions.delete(session.id);
  }

  /** The Set-Cookie value for a session (or for clearing it, without one), named for this request's port. */
  cookie(req: IncomingMessage, session: StudioSession | undefined): string {
    return serializeCookie(sessionCookieName(req), session?.id ?? '', { maxAge: session ? Math.floor(this.#maxMs / 1000) : 0, path: '/', httpOnly: true, secure: isSecure(req), sameSite: 'strict' });
  }

  /**
   * True for a page request the studio must not answer (421): on a loopback bind, a Host that
   * is not loopback, from a direct client (a DNS-rebinding page names its own domain). A request
   * with forwarding headers is never taken for a local one: it passes only when
   * `server.trustProxy` declares the proxy (which chose the Host).
   */
  misdirected(req: IncomingMessage): boolean {
    if (!this.#loopbackBind) return false;
    if (this.#trustProxy && isForwarded(req)) return false;
    return !isLoopbackHost(req.headers.host);
  }

  /** Ends every session (their signals abort): the server is closing. */
  close(): void {
    clearInterval(this.#sweep);
    this.#sessions.clear();
  }
}

/**
 * The session cookie's name: one per port the browser used (cookies are shared by every port of
 * a host, so another app or a second mergeshot on the same host would otherwise receive it and
 * overwrite it), `__Host-` prefixed over HTTPS (Secure, Path=/, no Domain: no subdomain can set it).
 */
export function sessionCookieName(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  const port = /^(?:\[[^\]]*\]|[^:]*):(\d{1,5})$/.exec(host)?.[1];
  return `${isSecure(req) ? '__Host-' : ''}mergeshot_studio${port ? `_${port}` : ''}`;
}

/** True when the request carries a header a proxy adds. */
export function isForwarded(req: IncomingMessage): boolean {
  return forwardingHeaders.some((name) => req.headers[name] !== undefined);
}

/** Express's req.secure (which follows server.trustProxy) when there is one, else the socket's own TLS. */
function isSecure(req: IncomingMessage): boolean {
  const secure = (req as IncomingMessage & { secure?: unknown }).secure;
  return typeof secure === 'boolean' ? secure : (req.socket as TLSSocket | undefined)?.encrypted === true;
}

/** True for a Host header that names this machine's loopback: localhost, 127.x.y.z, [::1]. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) || name === '::1';
}

/** True for a bind address only this machine can reach. */
export function isLoopbackBind(address: string): boolean {
  return isLoopbackHost(address.includes(':') && !address.startsWith('[') ? `[${address}]` : address);
}

/** Equal-length digests, so timingSafeEqual never throws and lengths leak nothing. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
