import type { NextFunction, Request, Response, Router } from 'express';
import { match } from 'path-to-regexp';
import type { ApiScope } from '../../config/index.js';
import { MergeshotError } from '../../errors/index.js';
import { principalOf, requireScope } from '../apiKeys.js';

/**
 * The scope each /api route needs: the one place that says who may call what. Paths are
 * written exactly as the routes register them (relative to /api), and matched by the same
 * path-to-regexp rules express uses (case-insensitive, optional trailing slash), so a request
 * is judged by the route that will answer it. A request no entry matches needs `admin`, and
 * `assertEveryRouteScoped` refuses to start a router with a route missing here.
 * Ownership of a batch (`render` reads only its own) is checked in the batch routes.
 */
export interface RouteScope {
  /** An HTTP method, or `*` for every method (a mounted dashboard). GET covers HEAD. */
  readonly method: 'GET' | 'POST' | 'DELETE' | '*';
  readonly path: string;
  readonly scope: ApiScope;
  /** For the README's security model. */
  readonly what: string;
}

export const apiRouteScopes: readonly RouteScope[] = [
  { method: 'POST', path: '/render', scope: 'render', what: 'render one image' },
  { method: 'GET', path: '/templates', scope: 'render', what: 'list templates' },
  { method: 'GET', path: '/templates/:id', scope: 'render', what: "a template's fields, samples, presets" },
  { method: 'GET', path: '/templates/:id/problem', scope: 'render', what: 'why a template does not load' },
  { method: 'GET', path: '/templates/:id/cases', scope: 'render', what: 'samples and generated edge cases' },
  { method: 'GET', path: '/templates/:id/check', scope: 'render', what: 'the `mergeshot check` report' },
  { method: 'POST', path: '/templates/:id/inspect', scope: 'render', what: 'render one record with findings' },
  { method: 'POST', path: '/templates/:id/url', scope: 'render', what: 'build a merge-tag, signed or token URL' },
  { method: 'GET', path: '/platforms', scope: 'render', what: 'email platforms of the URL builder' },
  { method: 'GET', path: '/templates/:id/visual', scope: 'render', what: 'the visual review' },
  { method: 'GET', path: '/templates/:id/visual/:case/:kind.png', scope: 'render', what: 'a golden, actual or diff image' },
  { method: 'POST', path: '/templates/:id/visual/accept', scope: 'admin', what: 'accept images as goldens (writes the templates folder)' },
  { method: 'POST', path: '/purge', scope: 'admin', what: 'purge the image cache' },
  { method: 'GET', path: '/events', scope: 'render', what: "the studio's hot-reload stream (template ids)" },
  { method: '*', path: '/queues{/*rest}', scope: 'campaigns', what: 'the queue dashboard (every batch, no values)' },
  { method: 'POST', path: '/batches', scope: 'render', what: 'start a batch (from a studio upload: also `campaigns`)' },
  { method: 'GET', path: '/batches', scope: 'render', what: 'list batches: its own, every one with `campaigns`' },
  { method: 'GET', path: '/batches/:id', scope: 'render', what: "a batch's progress (its own, or `campaigns`)" },
  { method: 'GET', path: '/batches/:id/download', scope: 'render', what: "a batch's zip (its own, or `campaigns`)" },
  { method: 'GET', path: '/batches/:id/manifest.csv', scope: 'render', what: "a batch's manifest (its own, or `campaigns`)" },
  { method: 'GET', path: '/batches/:id/rows', scope: 'render', what: "a batch's rows (its own, or `campaigns`)" },
  { method: 'GET', path: '/batches/:id/images/:file', scope: 'render', what: "a batch's image (its own, or `campaigns`)" },
  { method: 'DELETE', path: '/batches/:id', scope: 'render', what: 'delete a batch (its own, or `campaigns`)' },
  { method: '*', path: '/batches{/*rest}', scope: 'render', what: 'batches switched off: 404' },
  { method: 'POST', path: '/uploads', scope: 'campaigns', what: 'upload a mailing list' },
  { method: 'GET', path: '/uploads', scope: 'campaigns', what: 'list uploads' },
  { method: 'GET', path: '/uploads/:id', scope: 'campaigns', what: 'describe an upload' },
  { method: 'DELETE', path: '/uploads/:id', scope: 'campaigns', what: 'delete an upload, its report and batches' },
  { method: 'POST', path: '/uploads/:id/preflight', scope: 'campaigns', what: 'run a preflight' },
  { method: 'GET', path: '/uploads/:id/preflight/:file', scope: 'campaigns', what: 'the preflight report' },
  { method: 'GET', path: '/uploads/:id/preflight/images/:file', scope: 'campaigns', what: "the preflight report's images" },
];

const strictness: Readonly<Record<ApiScope, number>> = { render: 0, campaigns: 1, admin: 2 };

const matchers = apiRouteScopes.map((entry) => ({ entry, matches: match(entry.path, { decode: false, end: true, trailing: true, sensitive: false }) }));

/** The scope a request needs: the strictest of the entries it matches, `admin` when none does. */
export function scopeOf(method: string, path: string): { readonly scope: ApiScope; readonly what: string } {
  const verb = method === 'HEAD' ? 'GET' : method;
  let found: RouteScope | undefined;
  for (const { entry, matches } of matchers) {
    if ((entry.method === '*' || entry.method === verb) && matches(path) && (!found || strictness[entry.scope] > strictness[found.scope])) found = entry;
  }
  return found ?? { scope: 'admin', what: `${method} /api${path}` };
}

/** The middleware: after authentication, before any route. */
export function authorizeRoute(req: Request, res: Response, next: NextFunction): void {
  const { scope, what } = scopeOf(req.method, req.path);
  requireScope(principalOf(res), scope, what);
  next();
}

/**
 * Throws at start when `router` has a route this table does not list, so a new route cannot
 * ship with a scope nobody chose (it would fall to `admin`, silently refusing every other key).
 */
export function assertEveryRouteScoped(router: Router): void {
  const listed = new Set(apiRouteScopes.map((entry) => `${entry.method} ${entry.path}`));
  const missing: string[] = [];
  for (const layer of router.stack as { route?: { path: unknown; methods: Record<string, boolean> } }[]) {
    if (!layer.route) continue;
    for (const method of Object.keys(layer.route.methods)) {
      const key = `${method === '_all' ? '*' : method.toUpperCase()} ${String(layer.route.path)}`;
      if (!listed.has(key)) missing.push(key);
    }
  }
  if (missing.length > 0) throw new MergeshotError('INTERNAL', `/api routes without a scope in routes/routeScopes.ts: ${missing.join(', ')}`);
}
