import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';

/**
 * Serves a page's static requests from memory: the template's own folder, the shared styles/
 * folder and the bundled @fontsource fonts. Nothing else on disk is reachable: a path that
 * climbs out of its root (`..`, encoded or not) is refused, so a template or a record value
 * cannot read arbitrary files through the page.
 */
export interface StaticResource {
  readonly body: Buffer;
  readonly contentType: string;
}

export interface StaticResolverOptions {
  readonly stylesDir: string;
  /** Folder holding the @fontsource packages; found from node_modules when not given. */
  readonly fontsDir?: string;
  readonly cacheBytes?: number;
}

const contentTypes: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.svg': 'image/svg+xml',
};

/** The styles/ folder shipped with mergeshot (fonts.css, fit.css): the fallback for /styles/. */
const bundledStylesDir = fileURLToPath(new URL('../../styles', import.meta.url));

export class StaticResolver {
  readonly #stylesDirs: readonly string[];
  readonly #fontsDir: string;
  readonly #cache: LRUCache<string, StaticResource>;

  constructor(options: StaticResolverOptions) {
    // The project's own styles win; mergeshot's bundled ones fill in, so templates outside this
    // repository can still link /styles/fonts.css and /styles/fit.css.
    this.#stylesDirs = [...new Set([resolve(options.stylesDir), bundledStylesDir])];
    this.#fontsDir = options.fontsDir ? resolve(options.fontsDir) : defaultFontsDir();
    this.#cache = new LRUCache({ maxSize: options.cacheBytes ?? 128 * 1024 * 1024, sizeCalculation: (entry) => entry.body.length + 64 });
  }

  /**
   * `/styles/…` → styles dir, `/fonts/<package>/…` → @fontsource/<package>, any other path
   * under `templatePrefix` → the template folder. Undefined means refused.
   */
  async resolve(url: URL, templatePrefix: string, templateDir: string): Promise<StaticResource | undefined> {
    const path = safeDecode(url.pathname);
    if (path === undefined) return undefined;
    if (path.startsWith('/styles/')) {
      for (const dir of this.#stylesDirs) {
        const found = await this.#file(dir, path.slice('/styles/'.length));
        if (found) return found;
      }
      return undefined;
    }
    if (path.startsWith('/fonts/')) {
      const [name, ...rest] = path.slice('/fonts/'.length).split('/');
      if (!name || !/^[a-z0-9-]+$/.test(name)) return undefined;
      return this.#file(resolve(this.#fontsDir, name), rest.join('/'));
    }
    if (path.startsWith(templatePrefix)) return this.#file(templateDir, path.slice(templatePrefix.length));
    return undefined;
  }

  /** Forgets cached files (after a template edit). */
  clear(): void {
    this.#cache.clear();
  }

  async #file(root: string, relativePath: string): Promise<StaticResource | undefined> {
    const contentType = contentTypes[extname(relativePath).toLowerCase()];
    if (!contentType || relativePath.includes('\0')) return undefined;
    const full = resolve(root, relativePath);
    if (!full.startsWith(root + sep)) return undefined;
    const cached = this.#cache.get(full);
    if (cached) return cached;
    const body = await readFile(full).catch(() => undefined);
    if (!body) return undefined;
    const entry = { body, contentType };
    this.#cache.set(full, entry);
    return entry;
  }
}

function safeDecode(pathname: string): string | undefined {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
}

function defaultFontsDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(dirname(require.resolve('@fontsource/inter/package.json')));
}
