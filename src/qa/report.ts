import type { CheckReport } from './checkTemplate.js';
import type { Finding } from './finding.js';

export interface CheckSummary {
  readonly errors: number;
  readonly warnings: number;
}

export function summarize(reports: readonly CheckReport[]): CheckSummary {
  const findings = reports.flatMap((report) => report.findings);
  return { errors: findings.filter((finding) => finding.severity === 'error').length, warnings: findings.filter((finding) => finding.severity === 'warn').length };
}

/** `--json`: the reports as they are, with the totals. */
export function reportJson(reports: readonly CheckReport[]): string {
  return `${JSON.stringify({ ...summarize(reports), templates: reports }, null, 2)}\n`;
}

/**
 * The readable report: per template, its findings grouped by rule, each with where
 * (file:line), the field, the record(s) and the fix.
 *
 *   welcome-banner (default size, 14 records, 6.1 s): 1 error, 0 warnings
 *     low-contrast  error
 *       field "cta" has a contrast of 3.02:1 …   records: typical, long, +5
 *         fix: darken or lighten the text, or add a scrim behind it
 */
export function reportText(reports: readonly CheckReport[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    const { errors, warnings } = summarize([report]);
    lines.push(`${report.template} (${report.size} size, ${report.records.length} records, ${(report.durationMs / 1000).toFixed(1)} s): ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`);
    if (report.skipped) lines.push(`  rendered checks skipped: ${report.skipped}`);
    const byRule = new Map<string, Finding[]>();
    for (const finding of report.findings) byRule.set(finding.rule, [...(byRule.get(finding.rule) ?? []), finding]);
    for (const [rule, findings] of byRule) {
      lines.push(`  ${rule}  ${findings[0]!.severity}`);
      for (const finding of findings) {
        const where = finding.file ? `${finding.file}${finding.line ? `:${finding.line}` : ''}  ` : '';
        const records = finding.records ?? (finding.record ? [finding.record] : []);
        const seen = records.length ? `  (${records.length > 3 ? `${records.slice(0, 3).join(', ')}, +${records.length - 3}` : records.join(', ')})` : '';
        lines.push(`    ${where}${finding.message}${seen}`);
        lines.push(`      fix: ${finding.fix}`);
      }
    }
  }
  const { errors, warnings } = summarize(reports);
  if (reports.length > 1) lines.push(`${reports.length} templates: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`);
  return `${lines.join('\n')}\n`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
