import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Who may use the studio.
 *
 * Threats: on a shared network, anyone who reaches the port could read uploaded lists (personal
 * data) and render under the sender's templates; from the user's own browser, any web page could
 * fire requests at the studio (CSRF) or, through DNS rebinding, read it as if same-origin.
 * - Loopback bind: only this machine reaches the port, so the studio is open, but a page is
 *   served only for a loopback Host header (a rebinding domain names itself in Host).
 * - Any other bind: a login first, with the studio password, an API key, or the one-time URL
 *   printed at start (the Jupyter way, for a first run with nothing configured).
 * - Either way a session is an HttpOnly, SameSite=Strict cookie, and every state-changing call
 *   must carry the session's CSRF token, which only the studio's own pages are given.
 * Sessions live in memory (a restart logs everyone out), bounded, and expire when idle.
 */

export interface StudioSession {
  readonly id: string;
  readonly csrf: string;
  lastUsedAt: number;
}

export interface StudioAccessOptions {
  /** True on a loopback bind: no login. */
  readonly open: boolean;
  readonly password?: string | undefined;
  readonly apiKeys: readonly string[];
  readonly idleMs: number;
  /** Sessions kept at most; the least recently used goes first. */
  readonly maxSessions?: number;
  readonly now?: () => number;
}

/** What the API needs to let a studio page through (server/routes/api.ts declares its use). */
export interface StudioSessions {
  session(req: IncomingMessage): StudioSession | undefined;
  checkCsrf(req: IncomingMessage, session: StudioSession): boolean;
}

export const sessionCookie = 'mergeshot_studio';

export class StudioAccess implements StudioSessions {
  readonly open: boolean;
  /** Logs in once, then is spent: printed at start when no password is configured. */
  #loginToken: string | undefined;
  readonly #secrets: Buffer[];
  readonly #sessions = new Map<string, StudioSession>();
  readonly #idleMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: StudioAccessOptions) {
    this.open = options.open;
    this.#idleMs = options.idleMs;
    this.#max = options.maxSessions ?? 1_000;
    this.#now = options.now ?? Date.now;
    this.#secrets = [...(options.password ? [options.password] : []), ...options.apiKeys].map(digest);
    if (!options.open && !options.password) this.#loginToken = randomBytes(24).toString('base64url');
  }

  /** The one-time login token, while it is unspent (only on a non-loopback bind without a password). */
  get loginToken(): string | undefined {
    return this.#loginToken;
  }

  /** True when `secret` is the password, an API key, or the unspent one-time token (which it spends). */
  verify(secret: string): boolean {
    const given = digest(secret);
    let valid = false;
    for (const known of this.#secrets) if (timingSafeEqual(given, known)) valid = true;
    if (!valid && this.#loginToken !== undefined && timingSafeEqual(given, digest(this.#loginToken))) {
      this.#loginToken = undefined;
      valid = true;
    }
    return valid;
  }

  create(): StudioSession {
    const session: StudioSession = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), lastUsedAt: this.#now() };
    this.#sessions.set(session.id, session);
    // Map order is insertion order and session() re-inserts on use: the first key is the least recently used.
    while (this.#sessions.size > this.#max) this.#sessions.delete(this.#sessions.keys().next().value!);
    return session;
  }

  session(req: IncomingMessage): StudioSession | undefined {
    const id = cookieValue(req.headers.cookie, sessionCookie);
    const session = id === undefined ? undefined : this.#sessions.get(id);
    if (!session) return undefined;
    const now = this.#now();
    this.#sessions.delete(session.id);
    if (now - session.lastUsedAt > this.#idleMs) return undefined;
    session.lastUsedAt = now;
    this.#sessions.set(session.id, session);
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

  /** The Set-Cookie value for a session (or for clearing it, without one). */
  cookie(session: StudioSession | undefined, secure: boolean): string {
    const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])];
    if (!session) return [`${sessionCookie}=`, 'Max-Age=0', ...attributes].join('; ');
    return [`${sessionCookie}=${session.id}`, `Max-Age=${Math.floor(this.#idleMs / 1000)}`, ...attributes].join('; ');
  }
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

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Equal-length digests, so timingSafeEqual never throws and lengths leak nothing. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
