export { checkTemplate, type CheckOptions, type CheckReport } from './checkTemplate.js';
export { reportJson, reportText, summarize, type CheckSummary } from './report.js';
export { rules, type RuleInfo } from './rules.js';
export type { Finding, RuleLevel, Severity } from './finding.js';
export { usageOf, type FieldUse, type TemplateUsage } from './fieldUsage.js';
export { staticFindings } from './staticRules.js';
export { readTemplateSource, type TemplateSource } from './templateSource.js';
export { contrastRatio, isLargeText, luminance, measureContrast, type ContrastLayer, type ContrastMeasure, type ContrastText } from './contrast.js';
export { edgeCases, type CheckRecord } from './edgeCases.js';
