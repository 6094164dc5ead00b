export type { RawRow, NormalizedRecord, FieldValue, NormalizeResult, ReadNote } from './types.js';
export { readRecords, type InputRow, type DataFormat, type ReadRecordsOptions } from './readRecords.js';
export { readCsv, checkDelimiter, type ReadCsvOptions, type CsvRow } from './readCsv.js';
export { readJson, readNdjson, type JsonRow, type ReadJsonOptions } from './readJson.js';
export { createColumnMapper, mapRecord, foldColumnName, fieldWarnings, type ColumnMapper, type ColumnOverrides } from './columns.js';
export { isUnreplacedMergeTag } from './mergeTags.js';
export { inferredFormatNote, readFieldRows, type FieldRow, type FieldRowsOptions } from './fieldRows.js';
export { normalizeRecord, checkFallbacks, type NormalizeOptions } from './normalize.js';
export { isMissingValue, missingMarkers } from './normalize/missing.js';
export {
  inferColumnFormat,
  createFormatDetector,
  resolveColumnFormats,
  createColumnReader,
  formatFields,
  checkInputFormat,
  FormatAmbiguousError,
  type ColumnInference,
  type ColumnFormats,
  type ColumnReader,
  type AmbiguousColumn,
  type AmbiguousSample,
  type FormatReading,
  type FormatKind,
  type FormatDetector,
  type ResolveFormatsOptions,
} from './columnFormats.js';
export type { FallbackReason } from './fallbacks.js';
