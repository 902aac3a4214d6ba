/**
 * Writes one report file atomically: the bytes go to a temporary file in the same directory, are
 * flushed (`fsync`) and renamed over the target, so a reader or an interrupted run sees the old
 * file or the complete new one, never a torn write. (A crash can leave a stray
 * `.<name>.<pid>.<random>.tmp`; nothing reads those.)
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Replaces `path` with `data` atomically; on error the temporary file is removed and the error rethrown. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o644);
  let closed = false;
  try {
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    closed = true;
    await rename(temp, path);
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
