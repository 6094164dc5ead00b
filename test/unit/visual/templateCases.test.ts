import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, type Manifest } from '../../../src/template/index.js';
import { templateSuites, visualSuite } from '../../../src/visual/index.js';

const manifest = (extra: Record<string, unknown> = {}): Manifest =>
  parseManifest({ name: 'Card', width: 600, height: 300, fields: { name: { type: 'text' } }, samples: { typical: { name: 'Ada' }, long: { name: 'A'.repeat(80) } }, ...extra }, 'card/template.json');

describe('visualSuite', () => {
  it('makes one case per sample × size × checked preset, named <sample>.<size>.<preset>', () => {
    const suite = visualSuite('card', '/t/card', manifest({ sizes: { square: { width: 300, height: 300 } }, check: { presets: ['original', 'email'] } }));
    expect(suite.problem).toBeUndefined();
    expect(suite.cases.map((c) => c.name)).toEqual([
      'typical.default.original', 'typical.default.email', 'typical.square.original', 'typical.square.email',
      'long.default.original', 'long.default.email', 'long.square.original', 'long.square.email',
    ]);
    expect(suite.cases.find((c) => c.name === 'long.square.email')).toMatchObject({ sample: 'long', size: 'square', sizeWidth: 300, preset: 'email', data: { name: 'A'.repeat(80) } });
  });

  it('gives each size its own masks and the unsized ones', () => {
    const masks = [{ x: 1, y: 2, width: 3, height: 4 }, { x: 5, y: 6, width: 7, height: 8, size: 'square' }];
    const suite = visualSuite('card', '/t/card', manifest({ sizes: { square: { width: 300, height: 300 } }, check: { visual: { masks } } }));
    expect(suite.cases.find((c) => c.name === 'typical.default.original')!.masks).toEqual([masks[0]]);
    expect(suite.cases.find((c) => c.name === 'typical.square.original')!.masks).toEqual(masks);
  });

  it('says why a template cannot be checked', () => {
    expect(visualSuite('card', '/t/card', manifest({ samples: {} })).problem).toBe('/t/card/template.json: no "samples": add at least one sample record so the template\'s look is checked.');
    expect(visualSuite('card', '/t/card', manifest({ samples: { 'a b': {}, 'ok': {} } })).problem).toBe('/t/card/template.json: sample names "a b" cannot name a golden file: use letters, digits, "-" and "_".');
  });
});

describe('templateSuites', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mergeshot-cases-'));
    await mkdir(join(dir, 'b-card'));
    await writeFile(join(dir, 'b-card/template.json'), JSON.stringify({ name: 'B', width: 10, height: 10, fields: {}, samples: { one: {} } }));
    await mkdir(join(dir, 'a-broken'));
    await writeFile(join(dir, 'a-broken/template.json'), '{"name": "A", "width": "10px"}');
    await mkdir(join(dir, '__golden__'));
    await mkdir(join(dir, 'not-a-template'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads every template folder in order, the golden folder and non-templates left out, a broken manifest as a problem', () => {
    const suites = templateSuites(dir);
    expect(suites.map((s) => s.id)).toEqual(['a-broken', 'b-card']);
    expect(suites[0]!.problem).toContain('width');
    expect(suites[1]!.cases.map((c) => c.name)).toEqual(['one.default.original']);
  });
});
