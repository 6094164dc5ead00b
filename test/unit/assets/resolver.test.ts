import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StaticResolver } from '../../../src/assets/index.js';

const root = join(import.meta.dirname, '../../..');
const templateDir = join(root, 'test/fixtures/templates/mini');
const resolver = new StaticResolver({ stylesDir: join(root, 'styles') });
const at = (path: string) => resolver.resolve(new URL(`http://mergeshot.invalid${path}`), '/t/mini/', templateDir);

describe('StaticResolver', () => {
  it('serves styles, bundled fonts and template files with their content types', async () => {
    expect((await at('/styles/fit.css'))?.contentType).toBe('text/css; charset=utf-8');
    const font = await at('/fonts/inter/files/inter-latin-400-normal.woff2');
    expect(font?.contentType).toBe('font/woff2');
    expect(font?.body.subarray(0, 4).toString()).toBe('wOF2');
    expect((await at('/t/mini/template.html'))).toBeUndefined(); // .html is not a resource type
  });

  it('inlines the font imports of a stylesheet, with every face pointing at a file it serves', async () => {
    const css = (await at('/styles/fonts.css'))!.body.toString('utf8');
    expect(css).not.toMatch(/@import/);
    const sources = [...css.matchAll(/src:\s*url\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThan(500);
    const missing: string[] = [];
    for (const src of new Set(sources)) if (!(await at(src))) missing.push(src);
    expect(missing).toEqual([]);
    expect(css.indexOf("font-family: 'Inter'")).toBeLessThan(css.indexOf("font-family: 'Noto Sans KR'")); // order kept
  });

  it('falls back to the bundled styles when the project has none', async () => {
    const bare = new StaticResolver({ stylesDir: join(root, 'test/fixtures') });
    expect(await bare.resolve(new URL('http://mergeshot.invalid/styles/fonts.css'), '/t/mini/', templateDir)).toBeDefined();
  });

  it('refuses paths that climb into files that exist outside their root (the containment check)', async () => {
    // Each decodes to a real file with a served extension, one root over: only containment stops it.
    for (const path of ['/fonts/inter/..%2fnoto-sans%2f400.css', '/t/mini/..%2f..%2f..%2f..%2fstyles%2ffit.css', '/styles/..%2ftemplates%2fevent-invite%2fassets%2fmark.svg']) {
      expect(await at(path), path).toBeUndefined();
    }
    expect(await at('/fonts/noto-sans/400.css')).toBeDefined();
  });

  it('refuses every way out of its roots', async () => {
    for (const path of ['/t/mini/../../../../package.json', '/t/mini/%2e%2e/%2e%2e/%2e%2e/README.md', '/styles/..%2f..%2fpackage.json', '/fonts/../../etc/passwd.css', '/fonts/inter/../../../../../etc/hosts.css', '/t/mini/%00.png', '/etc/hosts.png', '/fonts/%2e%2e/x.css']) {
      expect(await at(path), path).toBeUndefined();
    }
  });

  it('refuses a file whose real path leaves its root (a committed link), and serves a link that stays inside', async () => {
    const base = await mkdtemp(join(tmpdir(), 'mergeshot-resolver-'));
    try {
      const card = join(base, 'templates', 'card');
      const styles = join(base, 'styles');
      await mkdir(join(card, 'assets'), { recursive: true });
      await mkdir(styles);
      await writeFile(join(base, 'secret.css'), 'body::after { content: "API_KEY=k-«secret»" }');
      await writeFile(join(card, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
      await symlink('assets/logo.svg', join(card, 'logo.svg'));
      await symlink(join(base, 'secret.css'), join(card, 'style.css'));
      await symlink('/etc/passwd', join(card, 'passwd.css'));
      await symlink(base, join(card, 'up'));
      await symlink('../secret.css', join(styles, 'fit.css'));
      const own = new StaticResolver({ stylesDir: styles });
      const get = (path: string) => own.resolve(new URL(`http://mergeshot.invalid${path}`), '/t/card/', card);
      expect((await get('/t/card/logo.svg'))?.body.toString()).toContain('<svg');
      for (const path of ['/t/card/style.css', '/t/card/passwd.css', '/t/card/up/secret.css']) expect(await get(path), path).toBeUndefined();
      // The project's styles/fit.css is a link out: refused, so the bundled fit.css is served instead.
      const fit = (await get('/styles/fit.css'))!.body.toString();
      expect(fit).not.toContain('API_KEY');
      expect(fit).toContain('--fit');
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
