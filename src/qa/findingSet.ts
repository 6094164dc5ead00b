import type { RawFinding } from './finding.js';

/**
 * Rendered findings, one per rule and subject (field, preset…) however many records show
 * it: a long name that overflows on six edge cases is one problem. The wording of the worst
 * occurrence is kept (`badness`: overflow px, 1 / contrast…), and every record is listed.
 */
export class FindingSet {
  readonly #entries = new Map<string, { finding: RawFinding; badness: number; records: string[] }>();

  add(key: string, record: string, badness: number, finding: Omit<RawFinding, 'record' | 'records'>): void {
    const entry = this.#entries.get(key);
    if (!entry) {
      this.#entries.set(key, { finding: { ...finding, record }, badness, records: [record] });
      return;
    }
    if (!entry.records.includes(record)) entry.records.push(record);
    if (badness > entry.badness) {
      entry.finding = { ...finding, record };
      entry.badness = badness;
    }
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  list(): RawFinding[] {
    return [...this.#entries.values()].map(({ finding, records }) => ({ ...finding, records }));
  }
}
