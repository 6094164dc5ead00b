import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';

/**
 * Watches the templates and styles folders and calls `onChange` (debounced) when a file in
 * them changes: the registry then re-reads the templates, their version hash changes, and so
 * does every cache key derived from it. Old entries are never served again and age out of the
 * LRU. fs.watch can miss events on some filesystems (network mounts): POST /api/purge re-reads
 * the templates too.
 */
/** What changed in one debounce window: files by watched folder, relative to it (may be empty: some platforms give no name). */
export type ChangedFiles = ReadonlyMap<string, readonly string[]>;

export class TemplateWatcher {
  readonly #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #pending = new Map<string, Set<string>>();

  constructor(dirs: readonly string[], onChange: (changed: ChangedFiles) => void, logger: Logger, debounceMs = 100) {
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { recursive: true, persistent: false }, (_event, file) => {
          const files = this.#pending.get(dir) ?? new Set<string>();
          if (file) files.add(String(file));
          this.#pending.set(dir, files);
          clearTimeout(this.#timer);
          this.#timer = setTimeout(() => {
            const changed = new Map([...this.#pending].map(([folder, names]) => [folder, [...names]]));
            this.#pending = new Map();
            logger.info({ dirs: [...changed.keys()] }, 'template files changed; templates will be re-read');
            onChange(changed);
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
