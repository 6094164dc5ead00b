export { createPipeline, type Pipeline, type PipelineOptions, type PipelineStats } from './pipeline.js';
export { renderBatch, type BatchOptions, type BatchRow } from './batch.js';
export type { RenderRequest, RenderResult, RowOutcome, RowStatus, StageTimings } from './types.js';
