import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { transform } from 'esbuild';
import express, { Router, type Request, type Response } from 'express';
import type { StudioAccess, StudioPrincipal } from './access.js';
import { loginPage, studioPage, type StudioView } from './pages.js';
import { LoginThrottle } from './throttle.js';

/**
 * The studio's own routes: its pages (`/`, `/templates/<id>`), the login, and its browser code,
 * served from source: `/studio/ui/<module>.js` is src/studio/ui/<module>.ts transpiled by
 * esbuild on request (cached until the file changes), so there is no build step to remember.
 * Everything else the pages do goes through the JSON API under /api, like any client.
 */

export interface StudioRouterOptions {
  readonly access: StudioAccess;
  /** Where the browser modules live; src/studio/ui by default. */
  readonly uiDir?: string;
}

const uiModule = /^[A-Za-z][A-Za-z0-9_-]{0,63}\.(js|css)$/;

/** The pages' policy: their own scripts, styles and API only; images may be blob: previews. */
const pagePolicy = ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:", "connect-src 'self' blob:", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'", "object-src 'none'"].join('; ');

export function studioRouter(options: StudioRouterOptions): Router {
  const { access } = options;
  const uiDir = options.uiDir ?? join(import.meta.dirname, 'ui');
  const compiled = new Map<string, { mtimeMs: number; code: string }>();
  const router = Router();

  const throttle = new LoginThrottle();

  /** 421 for a page asked for under a foreign name on a loopback bind (access.misdirected says when). */
  const misdirected = (req: Request, res: Response): boolean => {
    if (!access.misdirected(req)) return false;
    res.status(421).type('text/plain').send('This studio listens on loopback only: open it at http://127.0.0.1 or http://localhost. Behind a reverse proxy, set server.trustProxy in mergeshot.config.json so the proxy\'s requests are recognised.');
    return true;
  };

  const page = (view: (req: Request) => StudioView) => (req: Request, res: Response) => {
    if (misdirected(req, res)) return;
    // No session is ever made here: only a login makes one (so requests without one cannot crowd real ones out).
    const session = access.session(req);
    if (!session) {
      res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    sendPage(res, studioPage(view(req), session.csrf));
  };

  router.get('/', page(() => ({ kind: 'gallery' })));
  router.get('/templates/:id', page((req) => ({ kind: 'template', templateId: String(req.params.id) })));

  /**
   * One login attempt through the throttle (throttle.ts says the policy): refused unchecked while
   * the address is locked out, else checked, and counted when it fails.
   */
  const attempt = (req: Request, res: Response, next: string, check: () => StudioPrincipal | undefined): void => {
    const lockout = throttle.locked(req.ip);
    if (lockout) {
      const seconds = Math.ceil(lockout.retryAfterMs / 1000);
      res.setHeader('Retry-After', String(seconds));
      sendPage(res.status(429), loginPage({ next, failed: false, retryAfterSeconds: seconds }));
      return;
    }
    const principal = check();
    if (!principal) {
      throttle.failed(req.ip);
      sendPage(res.status(401), loginPage({ next, failed: true }));
      return;
    }
    throttle.succeeded(req.ip);
    res.setHeader('Set-Cookie', access.cookie(req, access.create(principal)));
    res.redirect(303, next);
  };

  router.get('/login', (req, res) => {
    if (misdirected(req, res)) return;
    const next = safeNext(req.query.next);
    const token = req.query.token;
    if (token === undefined) {
      sendPage(res, loginPage({ next, failed: false }));
      return;
    }
    // A URL ends up in history, logs and Referer: it may carry the one-time token only, never the password or a key.
    attempt(req, res, next, () => (typeof token === 'string' ? access.redeemToken(token) : undefined));
  });
  router.post('/login', express.urlencoded({ extended: false, limit: 4096 }), (req, res) => {
    if (misdirected(req, res)) return;
    const body = (req.body ?? {}) as { secret?: unknown; next?: unknown };
    const next = safeNext(body.next);
    const secret = body.secret;
    attempt(req, res, next, () => (typeof secret === 'string' ? access.verifySecret(secret) : undefined));
  });
  router.post('/logout', express.urlencoded({ extended: false, limit: 4096 }), (req, res) => {
    const session = access.session(req);
    const token = ((req.body ?? {}) as { csrf?: unknown }).csrf;
    // Ending the session aborts its signal: its open event streams end too.
    if (session && typeof token === 'string' && access.isCsrfToken(session, token)) access.end(session);
    res.setHeader('Set-Cookie', access.cookie(req, undefined));
    res.redirect(303, '/login');
  });

  router.get('/studio/ui/:file', async (req, res, next) => {
    const file = String(req.params.file);
    if (!uiModule.test(file)) {
      next();
      return;
    }
    try {
      const css = file.endsWith('.css');
      const source = join(uiDir, css ? file : file.replace(/\.js$/, '.ts'));
      const { mtimeMs } = await stat(source);
      let entry = compiled.get(source);
      if (!entry || entry.mtimeMs !== mtimeMs) {
        const text = await readFile(source, 'utf8');
        const code = css ? text : (await transform(text, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: `studio/ui/${file}` })).code;
        entry = { mtimeMs, code };
        compiled.set(source, entry);
      }
      res.setHeader('Cache-Control', 'no-cache');
      res.type(css ? 'text/css' : 'text/javascript').send(entry.code);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') next();
      else next(error);
    }
  });
  return router;
}

function sendPage(res: Response, html: string): void {
  res.setHeader('Content-Security-Policy', pagePolicy);
  res.setHeader('Cache-Control', 'no-store');
  res.type('text/html').send(html);
}

/** Where to go after login: a path on this server only, never another origin. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) && value.length <= 512 ? value : '/';
}
