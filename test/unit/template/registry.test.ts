import { cp, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeDocument, TemplateRegistry } from '../../../src/template/index.js';

const fixtures = join(import.meta.dirname, '../../fixtures/templates');
const styles = join(import.meta.dirname, '../../../styles');
const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function copyFixture(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mergeshot-registry-'));
  temps.push(dir);
  await cp(join(fixtures, 'mini'), join(dir, 'mini'), { recursive: true });
  return dir;
}

describe('TemplateRegistry', () => {
  it('loads by id and by path, with a stable version', async () => {
    const registry = new TemplateRegistry({ templatesDir: fixtures, stylesDir: styles });
    const byId = await registry.get('mini');
    const again = new TemplateRegistry({ templatesDir: fixtures, stylesDir: styles });
    const byPath = await again.get(join(fixtures, 'mini'));
    expect(byId.id).toBe('mini');
    expect(byPath.version).toBe(byId.version);
    expect(await registry.list()).toEqual(['broken-qa', 'codes-all', 'codes-qa', 'leaky', 'mini', 'studio-card']);
  });

  it('changes version when a template file changes', async () => {
    const dir = await copyFixture();
    const registry = new TemplateRegistry({ templatesDir: dir, stylesDir: styles });
    const before = (await registry.get('mini')).version;
    await writeFile(join(dir, 'mini', 'template.html'), '<!doctype html><html><head></head><body>{{name}}</body></html>');
    registry.invalidate();
    expect((await registry.get('mini')).version).not.toBe(before);
  });

  it('keeps its version when goldens are accepted into __golden__, and only then', async () => {
    const dir = await copyFixture();
    const registry = new TemplateRegistry({ templatesDir: dir, stylesDir: styles });
    const before = (await registry.get('mini')).version;
    await mkdir(join(dir, 'mini', '__golden__'));
    await writeFile(join(dir, 'mini', '__golden__', 'typical.default.original.png'), 'png');
    await writeFile(join(dir, 'mini', '__golden__', 'typical.default.original.json'), '{}');
    registry.invalidate();
    expect((await registry.get('mini')).version).toBe(before);
    // The folder is excluded by its exact name: a template file that merely starts with "golden" counts.
    await writeFile(join(dir, 'mini', 'golden.css'), 'body { color: gold }');
    registry.invalidate();
    expect((await registry.get('mini')).version).not.toBe(before);
  });

  it('getById takes a folder name under templatesDir and never a path', async () => {
    // Rooted one level up, test/fixtures/templates/mini exists but is not an id of this registry.
    const registry = new TemplateRegistry({ templatesDir: join(fixtures, '..'), stylesDir: styles });
    const inside = new TemplateRegistry({ templatesDir: fixtures, stylesDir: styles });
    expect((await inside.getById('mini')).id).toBe('mini');
    for (const id of ['../templates/mini', 'templates/mini', join(fixtures, 'mini'), '.', '-x', '']) {
      await expect(registry.getById(id)).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
    }
    await expect(registry.getById('mini')).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
  });

  it('names the known templates when one is missing', async () => {
    const registry = new TemplateRegistry({ templatesDir: fixtures, stylesDir: styles });
    await expect(registry.get('nope')).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND', message: expect.stringContaining('Known templates: broken-qa, codes-all, codes-qa, leaky, mini') });
  });

  it('refuses unescaped output', async () => {
    const dir = await copyFixture();
    await writeFile(join(dir, 'mini', 'template.html'), '<html><body>\n{{{name}}}</body></html>');
    const registry = new TemplateRegistry({ templatesDir: dir, stylesDir: styles });
    await expect(registry.get('mini')).rejects.toMatchObject({ code: 'TEMPLATE_INVALID', message: expect.stringContaining('template.html:2: unescaped output') });
  });

  it('reports a Handlebars syntax error at load', async () => {
    const dir = await copyFixture();
    await writeFile(join(dir, 'mini', 'template.html'), '<html><body>{{#if name}}</body></html>');
    const registry = new TemplateRegistry({ templatesDir: dir, stylesDir: styles });
    await expect(registry.get('mini')).rejects.toMatchObject({ code: 'TEMPLATE_INVALID' });
  });

  it('lists sizes and refuses an unknown one', async () => {
    const template = await new TemplateRegistry({ templatesDir: fixtures, stylesDir: styles }).get('mini');
    expect(template.size('square')).toEqual({ name: 'square', width: 300, height: 300 });
    expect(() => template.size('wide')).toThrowError(/no size "wide"\. Available sizes: default, square\./);
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) expect(() => template.size(name), name).toThrowError(expect.objectContaining({ code: 'SIZE_UNKNOWN' }));
  });
});

describe('mergeDocument', () => {
  it('escapes record values and splits head from body', async () => {
    const template = await new TemplateRegistry({ templatesDir: fixtures, stylesDir: styles }).get('mini');
    const merged = mergeDocument(template, { name: '<img src=x onerror=alert(1)>', vip: true, photo: null, color: '#123456' });
    expect(merged.body).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(merged.body).not.toContain('<img src=x');
    expect(merged.body.startsWith('<body')).toBe(true);
    expect(merged.head).toContain('/styles/fonts.css');
    expect(merged.head).not.toContain('<body');
    expect(merged.alt).toBe('Card for <img src=x onerror=alert(1)>');
    expect(merged.size).toEqual({ name: 'default', width: 400, height: 200 });
  });
});

describe('TemplateRegistry and links (template folders are often a git checkout anyone can commit to)', () => {
  async function linkedFixture(): Promise<{ dir: string; outside: string }> {
    const dir = await copyFixture();
    const outside = join(dir, '..', `${dir.split('/').pop()}-outside`);
    temps.push(outside);
    await mkdir(outside);
    await writeFile(join(outside, 'secret.html'), '<p>SECRET_TOKEN=4f1c-«not for you»</p>');
    return { dir, outside };
  }

  it('refuses template.html or template.json that leads outside the folder, naming the file and never its content', async () => {
    const { dir, outside } = await linkedFixture();
    const registry = new TemplateRegistry({ templatesDir: dir, stylesDir: styles });
    await unlink(join(dir, 'mini', 'template.html'));
    await symlink(join(outside, 'secret.html'), join(dir, 'mini', 'template.html'));
    const error = (await registry.get('mini').then(() => undefined, (caught: unknown) => caught)) as { code: string; message: string; detail: { source?: string } };
    expect(error).toMatchObject({ code: 'FILE_OUTSIDE_ROOT', detail: { source: join(dir, 'mini', 'template.html') } });
    expect(error.message).toMatch(/^template\.html is a link that leads outside its folder \(mini\/\)/);
    expect(error.message).not.toContain('SECRET_TOKEN');
    await expect(registry.source('mini')).rejects.toMatchObject({ code: 'FILE_OUTSIDE_ROOT' });

    await unlink(join(dir, 'mini', 'template.html'));
    await writeFile(join(dir, 'mini', 'template.html'), '<p>{{name}}</p>');
    const manifest = await readFile(join(dir, 'mini', 'template.json'));
    await writeFile(join(outside, 'template.json'), manifest);
    await unlink(join(dir, 'mini', 'template.json'));
    await symlink('/proc/self/environ', join(dir, 'mini', 'template.json'));
    registry.invalidate();
    await expect(registry.get('mini')).rejects.toMatchObject({ code: 'FILE_OUTSIDE_ROOT', message: expect.stringMatching(/^template\.json is a link/) });
  });

  it('loads a template whose links stay inside; counts a link by its text, never by what is behind it', async () => {
    const { dir, outside } = await linkedFixture();
    await mkdir(join(dir, 'mini', 'src'));
    await cp(join(dir, 'mini', 'template.html'), join(dir, 'mini', 'src', 'card.html'));
    await unlink(join(dir, 'mini', 'template.html'));
    await symlink('src/card.html', join(dir, 'mini', 'template.html'));
    // A stray link out of the folder does not stop the template (it is refused where it is read).
    await symlink(join(outside, 'secret.html'), join(dir, 'mini', 'notes.html'));
    const registry = new TemplateRegistry({ templatesDir: dir, stylesDir: styles });
    const before = await registry.get('mini');
    expect(before.render({ name: 'Zoë' })).toContain('Zoë');
    // What the outside link points at changes: the version does not (it was never read).
    await writeFile(join(outside, 'secret.html'), 'changed');
    registry.invalidate();
    expect((await registry.get('mini')).version).toBe(before.version);
  });

  it('refuses a template folder that is a link out of templatesDir, by id', async () => {
    const { dir, outside } = await linkedFixture();
    await cp(join(dir, 'mini'), join(outside, 'elsewhere'), { recursive: true });
    await symlink(join(outside, 'elsewhere'), join(dir, 'linked'));
    await symlink('mini', join(dir, 'alias'));
    const registry = new TemplateRegistry({ templatesDir: dir, stylesDir: styles });
    await expect(registry.getById('linked')).rejects.toMatchObject({ code: 'FILE_OUTSIDE_ROOT' });
    expect((await registry.getById('alias')).manifest).toEqual((await registry.getById('mini')).manifest);
  });
});
