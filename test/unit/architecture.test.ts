import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import rules of style.md §2, checked on every run:
 *   cli → server → pipeline → {template, data, assets, render, encode, cache} → {errors, config, log}
 * Stages may import a sibling stage's types only (`import type`); values flow through pipeline/.
 */
const src = join(import.meta.dirname, '../../src');
const base = new Set(['errors', 'config', 'log']);
const stages = new Set(['template', 'data', 'assets', 'render', 'encode', 'cache']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function folderOf(path: string): string {
  return relative(src, path).split('/')[0]!.replace(/\.ts$/, '');
}

const imports = files(src).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(import|export)(\s+type)?[^'"]*from\s+'(\.[^']+)'/gm)].map((match) => ({
    file: relative(src, file),
    from: folderOf(file),
    to: folderOf(join(file, '..', match[3]!)),
    typeOnly: Boolean(match[2]),
  }));
});

describe('architecture', () => {
  it('finds the imports it checks', () => {
    expect(imports.length).toBeGreaterThan(50);
  });

  it('keeps every import pointing down the pipeline', () => {
    const broken = imports.filter(({ from, to, typeOnly }) => {
      if (from === to || from === 'cli' || from === 'index') return false;
      if (to === 'cli') return true;
      if (to === 'server') return from !== 'cli';
      if (base.has(from)) return !base.has(to);
      if (stages.has(from)) return !(base.has(to) || (stages.has(to) && typeOnly));
      if (from === 'pipeline') return !(base.has(to) || stages.has(to));
      return false;
    });
    expect(broken.map((i) => `${i.file} → ${i.to}${i.typeOnly ? ' (type)' : ''}`)).toEqual([]);
  });
});
