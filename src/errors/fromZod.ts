import type { z } from 'zod';

/**
 * Turns every zod issue into one line `source: path message`, so the user sees all problems
 * at once, each naming the key, what was expected and how to fix it.
 */
export function fromZod(issues: readonly z.core.$ZodIssue[], source: string, knownKeys: readonly string[] = []): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.') || '(root)';
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((key) => {
          const at = issue.path.length ? `${path}.${key}` : key;
          const guess = closest(key, knownKeys);
          return `${source}: unknown key "${at}".${guess ? ` Did you mean "${guess}"?` : ' Remove it.'}`;
        })
        .join('\n');
    }
    return `${source}: ${path} ${issue.message}`;
  });
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = levenshtein(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
