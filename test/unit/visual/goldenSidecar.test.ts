import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedInputs, goldenInputs, hashOf, recordHash, sidecarJson, sidecarOf, stylesDirOf, type GoldenInputs } from '../../../src/visual/index.js';

const inputs = (over: Partial<GoldenInputs> = {}): GoldenInputs => ({ template: { 'template.html': 'a', 'template.json': 'b' }, styles: { 'base.css': 'c' }, fonts: { '@fontsource/inter': '5.3.0' }, record: 'r', ...over });

describe('changedInputs', () => {
  it('names each input that changed since acceptance, one line each', () => {
    const after = inputs({ template: { 'template.html': 'A', 'assets/new.svg': 'n' }, styles: {}, fonts: { '@fontsource/inter': '5.4.0' }, record: 'R' });
    expect(changedInputs(inputs(), after)).toEqual(['assets/new.svg added', 'template.html changed', 'template.json removed', 'styles/base.css removed', 'font @fontsource/inter 5.3.0 → 5.4.0', 'record (the sample) changed']);
    expect(changedInputs(inputs(), inputs())).toEqual([]);
  });
});

describe('the sidecar', () => {
  it('holds the image hash, the warnings without undefined fields, the inputs; as JSON with a final newline', () => {
    const sidecar = sidecarOf(Buffer.from('png'), [{ code: 'fallback', field: 'name', message: 'used the fallback' }, { code: 'over-budget', message: 'big' }], inputs());
    expect(sidecar).toEqual({ image: hashOf(Buffer.from('png')), warnings: [{ code: 'fallback', field: 'name', message: 'used the fallback' }, { code: 'over-budget', field: '', message: 'big' }], inputs: inputs() });
    expect(sidecarJson(sidecar)).toBe(`${JSON.stringify(sidecar, null, 2)}\n`);
    expect(hashOf('x')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('hashes a record canonically: key order does not count', () => {
    expect(recordHash({ a: 1, b: 'two' })).toBe(recordHash({ b: 'two', a: 1 }));
    expect(recordHash({ a: 1 })).not.toBe(recordHash({ a: 2 }));
  });
});

describe('goldenInputs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mergeshot-inputs-'));
    await mkdir(join(dir, 'card/__golden__'), { recursive: true });
    await mkdir(join(dir, 'card/assets'));
    await writeFile(join(dir, 'card/template.html'), '<p>hi</p>');
    await writeFile(join(dir, 'card/assets/logo.svg'), '<svg/>');
    await writeFile(join(dir, 'card/__golden__/one.default.original.png'), 'golden');
    await mkdir(join(dir, 'styles'));
    await writeFile(join(dir, 'styles/base.css'), 'body{}');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('hashes every template file but the goldens, every style, by sorted relative path', async () => {
    const result = await goldenInputs(join(dir, 'card'), join(dir, 'styles'), { f: '1' }, { name: 'Ada' });
    expect(Object.keys(result.template)).toEqual(['assets/logo.svg', 'template.html']);
    expect(result.template['template.html']).toBe(hashOf('<p>hi</p>'));
    expect(result.styles).toEqual({ 'base.css': hashOf('body{}') });
    expect(result).toMatchObject({ fonts: { f: '1' }, record: recordHash({ name: 'Ada' }) });
  });

  it('hashes the shipped styles when the configured folder does not exist', async () => {
    expect(await stylesDirOf(join(dir, 'styles'))).toBe(join(dir, 'styles'));
    expect(await stylesDirOf(join(dir, 'nowhere'))).toMatch(/\/styles$/);
  });
});
