import type { CheckRuleId } from '../template/index.js';

export type Severity = 'error' | 'warn';
export type RuleLevel = Severity | 'off';

/**
 * One problem `mergeshot check` found. `rule` is stable (tests, CI configs and template.json
 * levels key on it); `record` names the sample or generated case it was seen on (the worst
 * one, when it was seen on several: `records` lists them all). Messages never quote record
 * values: they name fields, lengths, code points and measurements.
 */
export interface Finding {
  readonly rule: CheckRuleId;
  readonly severity: Severity;
  /** Relative to the template folder: template.html, template.json, style.css… */
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  readonly record?: string;
  readonly records?: readonly string[];
  readonly message: string;
  readonly fix: string;
}

/** A finding before the template's levels give it a severity (or turn it off). */
export type RawFinding = Omit<Finding, 'severity'>;
