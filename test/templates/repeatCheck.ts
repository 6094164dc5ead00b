import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestInfo } from '@playwright/test';
import { hashOf } from '../../src/visual/index.js';

/**
 * With --repeat-each (npm test runs the suite twice), each repetition of an image test checks
 * that its image is byte-identical to the other repetitions', whatever tolerance the golden
 * comparison allows: the proof that renders are deterministic. Repetitions may run at once in
 * different workers, so each writes its hash first and then reads the others': of two
 * repetitions, at least the one that finishes second sees the first one's hash.
 */
export async function differingRepetition(testInfo: TestInfo, key: string, image: Buffer): Promise<string | undefined> {
  // Always recorded: testInfo.project.repeatEach does not reflect the --repeat-each flag.
  // Inside outputDir, which Playwright empties at the start of every run.
  const dir = join(testInfo.project.outputDir, '.repetitions', key);
  await mkdir(dir, { recursive: true });
  const mine = hashOf(image);
  // Renamed into place: another repetition never reads a half-written hash.
  await writeFile(join(dir, `${testInfo.repeatEachIndex}.tmp`), mine);
  await rename(join(dir, `${testInfo.repeatEachIndex}.tmp`), join(dir, `${testInfo.repeatEachIndex}.sha256`));
  for (const name of (await readdir(dir)).filter((file) => file.endsWith('.sha256'))) {
    const theirs = await readFile(join(dir, name), 'utf8');
    if (theirs !== mine) return `repetition ${testInfo.repeatEachIndex} rendered ${mine}, repetition ${name.split('.')[0]} rendered ${theirs}: the same inputs gave different images`;
  }
  return undefined;
}
