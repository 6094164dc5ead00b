/**
 * Per-record problems that have a documented fallback. They never fail a row; they travel on
 * the outcome and into manifest.csv as `code:field`.
 */
export type WarningCode =
  | 'fallback' // the field's value was missing or invalid, its fallback was used
  | 'missing' // the field was missing and has no fallback: rendered empty
  | 'unreplaced-merge-tag' // the value was an email platform's merge tag left unreplaced
  | 'invalid' // the value did not satisfy the field's type or constraints
  | 'truncated' // the value was longer than maxLength and was cut
  | 'overflow' // after layout the element bound to the field still overflows
  | 'image-failed' // an image field could not be fetched or decoded
  | 'request-blocked' // the page asked for a resource that is not allowed
  | 'missing-glyph' // a character of the value has no glyph in any font the page has: it renders as a box
  | 'encoding' // the text holds U+FFFD: bytes of the input were not valid UTF-8 and could not be decoded
  | 'over-budget' // the encoded image is still larger than the preset's maxBytes
  | 'stray-quote' // a CSV value held a bare quote outside quoting: kept as text, but the row may be mis-quoted
  | 'short-row'; // a CSV row had fewer values than the header: the missing trailing columns read as empty

export interface RenderWarning {
  readonly code: WarningCode;
  /** The field concerned, or for request-blocked the refused URL's scheme and host. */
  readonly field?: string;
  /** Human text without record values (lengths, types and rules only). */
  readonly message: string;
}
