/**
 * Crash-safe file replacement: the new content goes to a temporary file in the target's directory,
 * which is flushed (`fsync`), renamed over the target (atomic on POSIX file systems) and made
 * durable by flushing the directory. Readers see either the old file or the complete new one, never
 * a torn write: a crash (or `kill -9`) at any moment leaves the previous file intact. A crash can
 * leave a stray `.<name>.<pid>.<random>.tmp` next to the target; nothing reads those.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The stages at which {@link _setWriteFault} may inject a failure. */
export type WriteStage = 'open' | 'write' | 'fsync' | 'rename';

/** Test hook: called at each stage of every atomic write; throwing simulates an I/O error there. */
type WriteFault = (stage: WriteStage, info: { target: string; temp: string; bytesWritten: number }) => void;

let fault: WriteFault | null = null;

/**
 * Test-only: installs `fn`, called at each stage of every {@link writeFileAtomic} (after every
 * chunk for `'write'`), so a test can make a write fail midway. `null` removes it.
 */
export function _setWriteFault(fn: WriteFault | null): void {
  fault = fn;
}

/** Bytes written per `write` call, so that a fault can land midway through a large file. */
const CHUNK = 1 << 20;

/**
 * Replaces `path` with `data` (one buffer or several, concatenated) atomically; see the module
 * comment. On any error the temporary file is removed and the error rethrown; `path` is untouched.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
  const chunks = data instanceof Uint8Array ? [data] : data;
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let bytesWritten = 0;
  const info = (): { target: string; temp: string; bytesWritten: number } => ({ target: path, temp, bytesWritten });
  fault?.('open', info());
  const handle = await open(temp, 'wx', 0o644);
  let closed = false;
  try {
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.byteLength; at += CHUNK) {
        const piece = chunk.subarray(at, Math.min(chunk.byteLength, at + CHUNK));
        let done = 0;
        while (done < piece.byteLength) {
          const { bytesWritten: n } = await handle.write(piece, done, piece.byteLength - done);
          done += n;
        }
        bytesWritten += piece.byteLength;
        fault?.('write', info());
      }
    }
    fault?.('fsync', info());
    await handle.sync();
    await handle.close();
    closed = true;
    fault?.('rename', info());
    await rename(temp, path);
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
}

/** Flushes a directory entry (the rename) to disk; a no-op where directories cannot be opened (Windows). */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory (EINVAL); the rename itself is already atomic.
  } finally {
    await handle.close();
  }
}
