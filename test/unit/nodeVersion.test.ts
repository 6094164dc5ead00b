import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// .ci/with-node names the Node it put first on PATH; `npm run test:node24` is only worth its minutes
// if the test workers and the children they spawn (process.execPath) really are that Node.
const promised = process.env.MERGESHOT_TEST_NODE;

describe('the Node the tests run on', () => {
  // Skipped in the run on the machine's own Node (no MERGESHOT_TEST_NODE: nothing was promised
  // there); it runs, and must pass, in `npm run test:node24`, which `npm test` ends with.
  it.runIf(promised !== undefined)('is the one .ci/with-node installed, in the worker and in its children', () => {
    expect(process.version).toBe(`v${promised}`);
    const child = execFileSync(process.execPath, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
    expect(child).toBe(`v${promised}`);
  });
});
