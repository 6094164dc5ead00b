import { createHash, timingSafeEqual } from 'node:crypto';
import type { Response } from 'express';
import { apiScopes, studioPrincipal, type ApiKeySpec, type ApiScope } from '../config/index.js';
import { AccessError, MergeshotError } from '../errors/index.js';
import type { StudioSession } from '../studio/index.js';

/**
 * Who calls /api, and what they may do.
 *
 * A caller is a principal: a name (what logs and batch owners show; a key itself is never
 * written anywhere) and its scopes. `render` renders images and reads the batches the same
 * name made; `campaigns` reads and manages every batch, upload and preflight report (and
 * renders); `admin` purges, accepts visual goldens and may do everything. Which route needs which scope is
 * one table, routes/routeScopes.ts.
 */
export interface Principal {
  readonly name: string;
  readonly scopes: ReadonlySet<ApiScope>;
}

/** The configured keys, as SHA-256 digests compared with timingSafeEqual: neither length nor content leaks through timing. */
export class ApiKeyRing {
  readonly #keys: readonly { readonly digest: Buffer; readonly principal: Principal }[];

  constructor(keys: readonly ApiKeySpec[]) {
    this.#keys = keys.map((key) => ({ digest: digest(key.key), principal: { name: key.name, scopes: new Set(key.scopes) } }));
  }

  get size(): number {
    return this.#keys.length;
  }

  /** The principal of the key at `index` in server.apiKeys (how a studio session that logged in with a key is known). */
  at(index: number): Principal | undefined {
    return this.#keys[index]?.principal;
  }

  /** The principal whose key `given` is; every key is compared, so the time says nothing about which. */
  identify(bearer: string): Principal | undefined {
    const given = digest(bearer);
    let found: Principal | undefined;
    for (const key of this.#keys) if (timingSafeEqual(given, key.digest)) found = key.principal;
    return found;
  }
}

const allScopes: ReadonlySet<ApiScope> = new Set(apiScopes);

/**
 * What a studio session may do, and in whose name its batches are made: a session that logged in
 * with an API key is that key (its name and scopes), so a render key's session reads no other
 * key's campaign; one that logged in with the studio password or the one-time link is the
 * operator's, every scope, name "studio" (no key may take that name: config/schema.ts).
 */
export function sessionPrincipal(session: StudioSession, keys: ApiKeyRing): Principal {
  const index = session.principal.kind === 'apiKey' ? session.principal.apiKeyIndex : undefined;
  if (session.principal.kind !== 'apiKey') return { name: 'studio', scopes: allScopes };
  // A key session whose key is gone (never after a restart: sessions live in memory) has no rights.
  return (index === undefined ? undefined : keys.at(index)) ?? { name: 'studio-key-removed', scopes: new Set() };
}

/**
 * `admin` implies every scope; `campaigns` implies `render`: every campaign action renders
 * (a preflight, a batch from an upload), and a key that may read every list may render.
 */
const implied: Readonly<Record<ApiScope, readonly ApiScope[]>> = { render: [], campaigns: ['render'], admin: apiScopes };

export function hasScope(principal: Principal, scope: ApiScope): boolean {
  for (const held of principal.scopes) if (held === scope || implied[held].includes(scope)) return true;
  return false;
}

/** Refuses with 403 SCOPE_MISSING, naming the scope, what needs it and what the caller has. */
export function requireScope(principal: Principal, scope: ApiScope, what: string): void {
  if (hasScope(principal, scope)) return;
  throw new AccessError('SCOPE_MISSING', `${what} needs the "${scope}" scope; key "${principal.name}" has ${[...principal.scopes].map((s) => `"${s}"`).join(', ') || 'none'}`, {
    hint: `Give the key the scope in server.apiKeys ({"name": "${principal.name}", "key": "…", "scopes": ["${scope}", …]}) or MERGESHOT_API_KEYS (${principal.name}:${scope}+…:<key>), or use a key that has it.`,
  });
}

/**
 * A batch is read, downloaded or deleted by the principal that made it, or with `campaigns`.
 * A batch without an owner (made before owners were recorded) needs `campaigns`.
 */
export function requireOwnerOrScope(principal: Principal, owner: string | undefined, what: string): void {
  if (owner !== undefined && owner === principal.name) return;
  requireScope(principal, 'campaigns', `${what} (${owner === undefined ? 'made before batches recorded their key' : 'made by another key'})`);
}

/** The caller the API's authentication admitted (routes/api.ts sets it before any route runs). */
export function principalOf(res: Response): Principal {
  const principal = (res.locals as { principal?: Principal }).principal;
  if (!principal) throw new MergeshotError('INTERNAL', 'an /api route ran before the API authenticated its caller');
  return principal;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
