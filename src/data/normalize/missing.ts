/**
 * Cell contents that mean "no value" in exports (compared case-insensitively after trimming).
 * "NA" is matched only in capitals: "Na" is a Korean surname.
 */
export const missingMarkers: readonly string[] = ['null', 'undefined', 'n/a', '#n/a', 'none', '-'];
const missingMarkersExactCase: readonly string[] = ['NA'];

/** True for absent values, empty or whitespace-only text, and the `missingMarkers`. */
export function isMissingValue(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  return trimmed === '' || missingMarkers.includes(trimmed.toLowerCase()) || missingMarkersExactCase.includes(trimmed);
}
