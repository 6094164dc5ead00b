import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import rules of style.md §2, checked on every run:
 *   cli → server → pipeline → {template, data, assets, render, encode, cache} → {errors, config, log, files}
 * Stages may import a sibling stage's types only (`import type`); values flow through pipeline/.
 * Another folder is imported through its index.ts only, and no imports form a cycle: not
 * between files, not between folders (type-only imports count: they couple the folders too).
 */
const src = join(import.meta.dirname, '../../src');
const base = new Set(['errors', 'config', 'log', 'files']);
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
  return [...text.matchAll(/^(import|export)(\s+type)?[^'"]*from\s+'(\.[^']+)'/gm)].map((match) => {
    const target = join(file, '..', match[3]!).replace(/\.js$/, '.ts');
    return {
      file: relative(src, file),
      target: relative(src, target),
      from: folderOf(file),
      to: folderOf(target),
      typeOnly: Boolean(match[2]),
    };
  });
});

/** Every cycle in a graph, each once, as the list of its nodes from its smallest. */
function cycles(edges: readonly (readonly [string, string])[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const [a, b] of edges) if (a !== b) next.set(a, (next.get(a) ?? new Set()).add(b));
  const found = new Map<string, string[]>();
  const walk = (path: string[]) => {
    for (const node of next.get(path[path.length - 1]!) ?? []) {
      const at = path.indexOf(node);
      if (at >= 0) {
        const cycle = path.slice(at);
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        found.set(canonical.join(' → '), canonical);
      } else if (path.length < 12) walk([...path, node]);
    }
  };
  for (const node of next.keys()) walk([node]);
  return [...found.values()];
}

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

  it('imports another folder through its index.ts only', () => {
    const deep = imports.filter(({ from, to, target }) => from !== to && to !== 'index' && target !== `${to}/index.ts`);
    expect(deep.map((i) => `${i.file} → ${i.target}`)).toEqual([]);
  });

  it('keeps the studio\'s browser code (src/studio/ui) to itself: it runs in the page, not in Node', () => {
    const ui = imports.filter(({ file }) => file.startsWith('studio/ui/'));
    expect(ui.length).toBeGreaterThan(5);
    expect(ui.filter(({ target, typeOnly }) => !target.startsWith('studio/ui/') && !typeOnly).map((i) => `${i.file} → ${i.target}`)).toEqual([]);
    const outside = imports.filter(({ file, target }) => !file.startsWith('studio/ui/') && target.startsWith('studio/ui/'));
    expect(outside.map((i) => `${i.file} → ${i.target}`)).toEqual([]);
    // Node built-ins and packages cannot load in the page (the studio serves each module as it is).
    const bare = files(join(src, 'studio/ui')).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/^import(?!\s+type)[^'"]*from\s+'([^.'][^']*)'/gm)].map((m) => `${relative(src, file)} → ${m[1]}`));
    expect(bare).toEqual([]);
  });

  it('has no import cycles between files or between folders', () => {
    expect(cycles(imports.map((i) => [i.file, i.target] as const)).map((c) => c.join(' → '))).toEqual([]);
    expect(cycles(imports.filter((i) => i.from !== 'index').map((i) => [i.from, i.to] as const)).map((c) => c.join(' → '))).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    expect(cycles([['a', 'b'], ['b', 'c'], ['c', 'a'], ['c', 'd']])).toEqual([['a', 'b', 'c']]);
  });
});
