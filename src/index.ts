/** Library API: the pipeline and its public types, nothing else. */
export { createPipeline, renderBatch, type Pipeline, type PipelineOptions, type RenderRequest, type RenderResult, type RowOutcome, type BatchOptions } from './pipeline/index.js';
export { loadConfig, parseConfig, type MergeshotConfig, type MergeshotConfigInput } from './config/index.js';
export { MergeshotError, isMergeshotError, type ErrorCode, type RenderWarning, type WarningCode } from './errors/index.js';
