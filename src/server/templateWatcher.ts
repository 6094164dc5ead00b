import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';

/**
 * Watches the templates and styles folders and calls `onChange` (debounced) when a file in
 * them changes: the registry then re-reads the templates, their version hash changes, and so
 * does every cache key derived from it. Old entries are never served again and age out of the
 * LRU. fs.watch can miss events on some filesystems (network mounts): POST /api/purge re-reads
 * the templates too.
 */
export class TemplateWatcher {
  readonly #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(dirs: readonly string[], onChange: () => void, logger: Logger, debounceMs = 100) {
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { recursive: true, persistent: false }, () => {
          clearTimeout(this.#timer);
          this.#timer = setTimeout(() => {
            logger.info({ dir }, 'template files changed; templates will be re-read');
            onChange();
          }, debounceMs);
          this.#timer.unref();
        });
        watcher.on('error', (error) => logger.warn({ err: error, dir }, 'template watcher failed; edits need POST /api/purge or a restart'));
        this.#watchers.push(watcher);
      } catch (error) {
        logger.warn({ err: error, dir }, 'cannot watch folder; edits need POST /api/purge or a restart');
      }
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers.splice(0)) watcher.close();
  }
}
