import { z } from 'zod';
import { fromZod, UsageError } from '../../errors/index.js';

/**
 * How deep objects and arrays may nest in one record value. Values are text, numbers or
 * booleans, so 32 is far above any real record; the limit exists because code downstream walks
 * values recursively (JSON.stringify of a 5,000-level batch row overflowed the stack: a 500).
 */
const maxValueDepth = 32;

/** One record of JSON input (POST /api/render `data`, a POST /api/batches row): field → value. */
export const recordSchema = z.record(z.string(), z.unknown()).superRefine((record, context) => {
  for (const [field, value] of Object.entries(record)) {
    if (nestsDeeperThan(value, maxValueDepth)) {
      context.addIssue({
        code: 'custom',
        path: [field],
        message: `nests objects or arrays more than ${maxValueDepth} levels deep (the limit). Record values are text, numbers or booleans: send flat values.`,
      });
    }
  }
});

/** Walks with its own stack, not recursion: the value being checked may be 100,000 levels deep. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [current, depth] = next;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

/** Validates one part of a request (body, query) and throws a USAGE error listing every issue with its path. */
export function parse<T extends z.ZodType>(schema: T, input: unknown, source: string): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const first = result.error.issues[0];
    const field = first?.path.map(String).join('.') || undefined;
    throw new UsageError('USAGE', fromZod(result.error.issues, source).join('\n'), field ? { field } : {});
  }
  return result.data;
}

