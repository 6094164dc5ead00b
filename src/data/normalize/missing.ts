/**
 * The one list of cell contents that mean "no value" in exports, compared case-insensitively
 * after trimming: spreadsheets write #N/A for a failed lookup, databases null, CRMs "none" or
 * "-" for an unset property. Empty and whitespace-only cells are missing too. A field can add
 * its own markers in template.json (`"missing": ["TBD"]`). "NA" is matched only in capitals:
 * "Na" is a Korean surname.
 */
export const missingMarkers: readonly string[] = ['n/a', '#n/a', 'null', 'undefined', 'none', 'nil', '-', '--', '—', '–'];
const missingMarkersExactCase: readonly string[] = ['NA'];

/** True for absent values, empty or whitespace-only text, the `missingMarkers` and the field's own `extra` markers. */
export function isMissingValue(value: unknown, extra: readonly string[] = []): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== 'string') return false;
  // \s misses some invisible characters exports leave (U+200B, U+FEFF): those count as blank too.
  const trimmed = value.replace(/^[\s\u200B\uFEFF]+|[\s\u200B\uFEFF]+$/gu, '');
  if (trimmed === '' || missingMarkersExactCase.includes(trimmed)) return true;
  const folded = trimmed.toLowerCase();
  return missingMarkers.includes(folded) || extra.some((marker) => marker.trim().toLowerCase() === folded);
}
