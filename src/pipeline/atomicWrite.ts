import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

/**
 * Writes a front end's output file (an image, manifest.csv, a batch's job state) so that a
 * crash or a full disk never leaves half a file under the final name: the bytes go to a
 * temporary file beside it, are flushed to disk (a rename of unflushed data can survive a
 * power cut as an empty file), then renamed over the final name in one step.
 */
export async function writeFileAtomic(path: string, data: Buffer | string): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
