import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './pipeline.js';

/**
 * The platform-export fixtures (test/fixtures/data/<name>.csv) and their sidecars
 * (<name>.expected.json): per data row, the values a reader of the file expects on the card, or
 * the reason the row must fail.
 */

export interface ExpectedRow {
  readonly status?: 'failed';
  readonly error?: string;
  readonly name?: string;
  readonly event?: string;
  readonly date?: string | null;
  readonly venue?: string;
  readonly vip?: boolean;
  readonly warnings?: readonly string[];
}

export interface ExpectedExport {
  readonly map: Readonly<Record<string, string>>;
  readonly dateFormat: string | null;
  readonly rows: Readonly<Record<string, ExpectedRow>>;
}

export const exportFixture = (name: string) => join(repoRoot, 'test/fixtures/data', name);

export async function expectedExport(name: string): Promise<ExpectedExport> {
  return JSON.parse(await readFile(exportFixture(`${name}.expected.json`), 'utf8')) as ExpectedExport;
}

/** A date as event-invite's formatDate "long" writes it in en-US. */
export const longDate = (iso: string) => new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${iso}T00:00:00Z`));

/** event-invite's alt (template.json), written out for the expected values. */
export function expectedAlt(row: ExpectedRow): string {
  const date = row.date ? ` on ${longDate(row.date)}` : '';
  return `${row.name ? `Invitation for ${row.name}` : 'Invitation'} to ${row.event}${date}${row.venue ? ` at ${row.venue}` : ''}${row.vip ? ' (VIP guest)' : ''}`;
}

/** The start of a failed row's reason: the counts and the likely cause, as the reader words it. */
export const failedReason = (row: string, error: string) => new RegExp(`^row ${row}: ${error.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&')} in a value\\? Put that value in double quotes`, 'u');
