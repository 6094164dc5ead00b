/** `mergeshot preflight`: the pre-send checklist over a campaign's real list (a front end of the kit). */
export { runPreflight, type PreflightOptions } from './preflight.js';
export type { PreflightSummary, RenderedCase } from './report.js';
