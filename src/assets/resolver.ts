import { createRequire } from 'node:module';
import { dirname, extname, posix, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { readConfined } from '../files/index.js';

/**
 * Serves a page's static requests from memory: the template's own folder, the shared styles/
 * folder and the bundled @fontsource fonts. Nothing else on disk is reachable: a path that
 * climbs out of its root (`..`, encoded or not) is refused, and so is a file whose real path
 * leaves it (a link committed to the template, `logo.png -> /etc/passwd`), so a template or a
 * record value cannot read arbitrary files through the page.
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

const fontImport = /@import\s+url\(\s*(['"]?)(\/fonts\/[a-z0-9-]+\/[\w.-]+\.css)\1\s*\)\s*;/g;
/** url(./files/x.woff2), url("files/x.woff2"): not absolute, no scheme. */
const relativeUrl = /url\(\s*(['"]?)(?![a-z][a-z0-9+.-]*:|\/)([^'")]+)\1\s*\)/gi;

/** The styles/ folder shipped with mergeshot (fonts.css, fit.css): the fallback for /styles/. */
const bundledStylesDir = fileURLToPath(new URL('../../styles', import.meta.url));

export class StaticResolver {
  readonly #stylesDirs: readonly string[];
  readonly #fontsDir: string;
  readonly #cache: LRUCache<string, StaticResource>;
  /** Stylesheets with their font imports inlined, by the cached sheet they came from. */
  readonly #inlined = new WeakMap<StaticResource, StaticResource>();

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
        if (found) return found.contentType === contentTypes['.css'] ? this.#withFontImportsInlined(found) : found;
      }
      return undefined;
    }
    if (path.startsWith('/fonts/')) return this.#font(path);
    if (path.startsWith(templatePrefix)) return this.#file(templateDir, path.slice(templatePrefix.length));
    return undefined;
  }

  async #font(path: string): Promise<StaticResource | undefined> {
    const [name, ...rest] = path.slice('/fonts/'.length).split('/');
    if (!name || !/^[a-z0-9-]+$/.test(name)) return undefined;
    return this.#file(resolve(this.#fontsDir, name), rest.join('/'));
  }

  /**
   * A stylesheet with its `@import url(/fonts/<package>/<file>.css);` rules replaced by those
   * files, their relative url()s made absolute: the same faces in the same order. fonts.css
   * imports ~45 @fontsource sheets, and each import is a round trip through the page's route
   * handler on every document load (~70 ms a cold document, measured); inlined, it is one.
   */
  async #withFontImportsInlined(sheet: StaticResource): Promise<StaticResource> {
    const cached = this.#inlined.get(sheet);
    if (cached) return cached;
    const css = sheet.body.toString('utf8');
    const imports = [...css.matchAll(fontImport)];
    const bodies = await Promise.all(imports.map(async ([, , path = '']) => (await this.#font(path))?.body.toString('utf8').replace(relativeUrl, (_, quote: string, url: string) => `url(${quote}${posix.join(posix.dirname(path), url)}${quote})`)));
    let index = 0;
    // An import that cannot be read stays as it is: the page asks for it and gets the refusal.
    const inlined = { body: Buffer.from(css.replace(fontImport, (rule) => bodies[index++] ?? rule)), contentType: sheet.contentType };
    this.#inlined.set(sheet, inlined);
    return inlined;
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
    // Refused (a link that leads out of the root) or missing: the page's request is blocked.
    const body = await readConfined(root, relativePath).catch(() => undefined);
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
