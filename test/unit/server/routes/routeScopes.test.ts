import { Router } from 'express';
import { describe, expect, it } from 'vitest';
import { apiRouteScopes, assertEveryRouteScoped, scopeOf } from '../../../../src/server/routes/routeScopes.js';

describe('the /api route → scope table', () => {
  it('judges a request by the route express will answer it with: case, trailing slash and HEAD alike', () => {
    expect(scopeOf('POST', '/purge').scope).toBe('admin');
    expect(scopeOf('POST', '/Purge/').scope).toBe('admin');
    expect(scopeOf('GET', '/uploads').scope).toBe('campaigns');
    expect(scopeOf('HEAD', '/uploads/0f1e/preflight/images/row-3.png').scope).toBe('campaigns');
    expect(scopeOf('GET', '/batches/0f1e/download').scope).toBe('render');
    expect(scopeOf('GET', '/templates/mini/visual/typical.default.original/diff.png').scope).toBe('render');
    expect(scopeOf('POST', '/templates/mini/visual/accept').scope).toBe('admin');
    expect(scopeOf('GET', '/queues/api/queues').scope).toBe('campaigns');
  });

  it('asks admin for anything it does not list: a new route is closed until someone chooses its scope', () => {
    expect(scopeOf('PUT', '/templates/mini').scope).toBe('admin');
    expect(scopeOf('GET', '//purge').scope).toBe('admin');
    expect(scopeOf('GET', '/secrets').scope).toBe('admin');
  });

  it('takes the strictest scope when entries overlap', () => {
    // '/batches{/*rest}' (render) and nothing stricter: render. '/queues{/*rest}' is campaigns for every method.
    expect(scopeOf('DELETE', '/queues/api/queues/chunks/clean').scope).toBe('campaigns');
  });

  it('refuses to start a router with a route the table does not list, and accepts one it lists', () => {
    const listed = Router();
    for (const entry of apiRouteScopes.filter((e) => e.method !== '*')) listed[entry.method === 'GET' ? 'get' : entry.method === 'POST' ? 'post' : 'delete'](entry.path, (_req, res) => res.end());
    expect(() => assertEveryRouteScoped(listed)).not.toThrow();
    listed.post('/templates/:id/delete', (_req, res) => res.end());
    listed.all('/anything', (_req, res) => res.end());
    expect(() => assertEveryRouteScoped(listed)).toThrowError('/api routes without a scope in routes/routeScopes.ts: POST /templates/:id/delete, * /anything');
  });
});
