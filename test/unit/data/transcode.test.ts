import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { transcodeToUtf8 } from '../../../src/data/transcode.js';

// Whole files (Windows-1252, mixed, UTF-16LE) are read through readCsv in readCsv.test.ts.
describe('transcodeToUtf8', () => {
  it('passes ASCII on at once and holds bytes only while the encoding is undecided', async () => {
    const transcoder = transcodeToUtf8();
    const out: Buffer[] = [];
    transcoder.on('data', (chunk: Buffer) => out.push(chunk));
    transcoder.write(Buffer.from('name\nJos'));
    transcoder.write(Buffer.from([0xe9, 0x0a]));
    await new Promise((resolve) => setImmediate(resolve));
    // The ASCII is out; "é" waits: one invalid byte alone does not prove Windows-1252 yet.
    expect(Buffer.concat(out).toString()).toBe('name\nJos');
    transcoder.end();
    await once(transcoder, 'end');
    expect(Buffer.concat(out).toString()).toBe('name\nJosé\n');
  });
});
