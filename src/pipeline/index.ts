export { createPipeline, type Pipeline, type PipelineOptions, type PipelineStats } from './pipeline.js';
export { renderBatch, type BatchOptions, type BatchRow } from './batch.js';
export type { Measurement, PreparedRecord, RenderInspection, RenderRequest, RenderResult, RowOutcome, RowStatus, StageTimings } from './types.js';
export { assertMapFields, extensionOf, imageCacheKey, isImageExtension, losslessPreset, resolveTarget, targetOf, type ImageExtension, type RenderTarget, type TargetContext, type TargetRequest } from './target.js';
export { spreadsheetSafe } from './spreadsheetCells.js';
export { defaultFileName, manifestCsv, manifestEntry, spreadsheetSafeCast, type ManifestEntry } from './manifest.js';
export { writeFileAtomic, type AtomicWriteOptions } from '../files/index.js';
export { writeOutputsZip } from './zip.js';
