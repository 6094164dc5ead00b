/**
 * Spreadsheet formula injection (CSV injection). Every CSV mergeshot writes (manifest.csv from
 * `mergeshot render` and from server batches, the `mergeshot urls` output) carries values that
 * came from a recipient list or a template's alt text, and marketers open those files in Excel,
 * LibreOffice or Google Sheets and upload them to email platforms. A cell that starts with `=`,
 * `+`, `-` or `@` is evaluated as a formula there: `=HYPERLINK("http://evil","Click")` turns a
 * name into a phishing link, `+cmd|' /C calc'!A0` runs a program through DDE, and a formula can
 * send other cells to a remote server. Tab and carriage return are stripped by some importers,
 * after which the next character starts the cell. Following OWASP's rule, such a cell is
 * written with a leading single quote, which every spreadsheet shows as text and never runs.
 *
 * The rule applies to every cell, not only to record values: the cost is a visible `'` on text
 * such as "-" or "+44 20…", the benefit that no column is ever overlooked. Writers apply it
 * through csv-stringify's `cast` option, to strings and to numbers (a negative one starts with "-").
 */

/** Characters that make a spreadsheet read a cell as a formula (or drop and reveal the next one). */
const formulaStart = /^[=+\-@\t\r]/u;

/** `value`, prefixed with `'` when a spreadsheet would otherwise evaluate it as a formula. */
export function spreadsheetSafe(value: string): string {
  return formulaStart.test(value) ? `'${value}` : value;
}
