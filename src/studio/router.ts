import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { transform } from 'esbuild';
import express, { Router, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { isLoopbackHost, type StudioAccess, type StudioSession } from './access.js';
import { loginPage, studioPage, type StudioView } from './pages.js';

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

  const page = (view: (req: Request) => StudioView) => (req: Request, res: Response) => {
    if (access.open && !isLoopbackHost(req.headers.host)) {
      // A loopback studio answers only to loopback names: anything else is a DNS-rebinding page.
      res.status(421).type('text/plain').send('This studio listens on loopback only: open it at http://127.0.0.1 or http://localhost.');
      return;
    }
    let session = access.session(req);
    if (!session && access.open) {
      session = access.create();
      res.setHeader('Set-Cookie', access.cookie(session, req.secure));
    }
    if (!session) {
      res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    sendPage(res, studioPage(view(req), session.csrf));
  };

  router.get('/', page(() => ({ kind: 'gallery' })));
  router.get('/templates/:id', page((req) => ({ kind: 'template', templateId: String(req.params.id) })));

  const loginLimit = rateLimit({ windowMs: 60_000, limit: 20, standardHeaders: 'draft-7', legacyHeaders: false });
  router.get('/login', loginLimit, (req, res) => {
    const next = safeNext(req.query.next);
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (token !== undefined && access.verify(token)) {
      startSession(req, res, access);
      res.redirect(303, next);
      return;
    }
    sendPage(res.status(token === undefined ? 200 : 401), loginPage({ next, failed: token !== undefined }));
  });
  router.post('/login', loginLimit, express.urlencoded({ extended: false, limit: 4096 }), (req, res) => {
    const body = (req.body ?? {}) as { secret?: unknown; next?: unknown };
    const next = safeNext(body.next);
    if (typeof body.secret !== 'string' || !access.verify(body.secret)) {
      sendPage(res.status(401), loginPage({ next, failed: true }));
      return;
    }
    startSession(req, res, access);
    res.redirect(303, next);
  });
  router.post('/logout', express.urlencoded({ extended: false, limit: 4096 }), (req, res) => {
    const session = access.session(req);
    const token = ((req.body ?? {}) as { csrf?: unknown }).csrf;
    if (session && typeof token === 'string' && access.isCsrfToken(session, token)) access.end(session);
    res.setHeader('Set-Cookie', access.cookie(undefined, req.secure));
    res.redirect(303, access.open ? '/' : '/login');
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

function startSession(req: Request, res: Response, access: StudioAccess): StudioSession {
  const session = access.create();
  res.setHeader('Set-Cookie', access.cookie(session, req.secure));
  return session;
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
