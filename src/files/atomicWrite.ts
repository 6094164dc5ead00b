import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** A new file only: never an existing one, never through a link planted under the temporary name. */
const createNew = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

export interface AtomicWriteOptions {
  /**
   * Where the temporary file goes (default: beside the final one). The disk cache keeps its own
   * tmp/ folder so a crash never leaves a temp among its objects.
   */
  readonly tempDir?: string;
  /**
   * Asked after the bytes are on disk, before the rename: false drops the write (the disk
   * cache's purge that came during the write wins). The rename still happens only once.
   */
  readonly commit?: () => boolean;
}

/**
 * Writes a file so that a crash or a full disk never leaves half a file under the final name:
 * the bytes go to a temporary file, are flushed to disk (a rename of unflushed data can survive
 * a power cut as an empty file), then renamed over the final name in one step. Resolves true
 * when the file was written, false when `commit` dropped it. Links are never written through:
 * the temporary file is created new (O_EXCL, O_NOFOLLOW), and a link under the final name is
 * replaced by the rename itself, its target left as it was. Folders on the way are the
 * caller's: writeConfined checks them.
 */
export async function writeFileAtomic(path: string, data: Buffer | string, options: AtomicWriteOptions = {}): Promise<boolean> {
  const name = `${basename(path)}.${randomBytes(6).toString('hex')}.tmp`;
  const temp = options.tempDir ? join(options.tempDir, name) : `${path.slice(0, path.length - basename(path).length)}${name}`;
  try {
    const handle = await open(temp, createNew, 0o666);
    try {
      await handle.writeFile(data);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    if (options.commit && !options.commit()) {
      await unlink(temp).catch(() => undefined);
      return false;
    }
    await rename(temp, path);
    return true;
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
