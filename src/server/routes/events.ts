import { sep } from 'node:path';
import type { Request, Response, Router } from 'express';
import type { StudioSessions } from '../../studio/index.js';
import type { ChangedFiles } from '../templateWatcher.js';

/**
 * GET /api/events: server-sent events for the studio's hot reload. When template files or
 * shared styles change on disk, every open page gets `event: templates` with the ids whose
 * files changed (`["*"]` for a shared style or a change the platform did not name), and
 * re-renders what it shows. The hub owns the open streams and ends them at shutdown, so a
 * draining server is not held open by idle event streams, and a stream a studio session opened
 * ends with that session (logout, idle or absolute expiry): a stream outliving its login would
 * keep telling a logged-out browser what changed.
 */
export class TemplateEvents {
  readonly #streams = new Set<Response>();
  readonly #templatesDir: string;
  readonly #sessions: StudioSessions | undefined;
  #closed = false;

  constructor(templatesDir: string, sessions?: StudioSessions) {
    this.#templatesDir = templatesDir;
    this.#sessions = sessions;
  }

  mount(router: Router): void {
    router.get('/events', (req: Request, res: Response) => {
      if (this.#closed) {
        res.status(503).end();
        return;
      }
      res.status(200).setHeader('Content-Type', 'text/event-stream');
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('X-Accel-Buffering', 'no'); // nginx would otherwise hold events back
      res.flushHeaders();
      // A comment line at once, and every 25 s: proxies close streams that stay silent.
      res.write(': connected\n\n');
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
      keepAlive.unref();
      this.#streams.add(res);
      // The API let this request through with a key or a session; a session's stream ends with it.
      const signal = this.#sessions?.session(req)?.signal;
      // Said first, so a client knows why the stream ended (its next request answers 401).
      const end = () => res.end('event: session-ended\ndata: {}\n\n');
      signal?.addEventListener('abort', end, { once: true });
      // The response closes when it ends here or when the client goes away.
      res.once('close', () => {
        clearInterval(keepAlive);
        signal?.removeEventListener('abort', end);
        this.#streams.delete(res);
      });
    });
  }

  /** Called by the template watcher after the registry was invalidated. */
  changed(changed: ChangedFiles): void {
    const message = `event: templates\ndata: ${JSON.stringify({ ids: changedTemplateIds(changed, this.#templatesDir) })}\n\n`;
    for (const stream of this.#streams) stream.write(message);
  }

  get listeners(): number {
    return this.#streams.size;
  }

  close(): void {
    this.#closed = true;
    for (const stream of this.#streams) stream.end();
    this.#streams.clear();
  }
}

/**
 * The template ids whose files changed: the first path segment under the templates folder.
 * `*` (every template) for a shared style, or when the platform did not name the file.
 */
export function changedTemplateIds(changed: ChangedFiles, templatesDir: string): string[] {
  const ids = new Set<string>();
  for (const [dir, files] of changed) {
    if (dir !== templatesDir || files.length === 0) ids.add('*');
    for (const file of dir === templatesDir ? files : []) ids.add(file.split(sep)[0]!);
  }
  return [...ids].sort();
}
