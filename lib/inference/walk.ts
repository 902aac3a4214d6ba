/**
 * A lazy, deterministic folder walk for `predictFolder`: each directory is read with `fs.opendir`
 * (streamed), its entries sorted by name (UTF-16 code units, locale-independent) and visited in
 * that order, depth first. Memory holds the sorted entries of the directories on the current path
 * only, never the whole tree, so a folder of millions of images in subfolders is never listed at once.
 */
import type { Dirent } from 'node:fs';
import { lstat, opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** A file found by {@link walkFiles}, or a directory that could not be read. */
export interface WalkEntry {
  /** The path relative to the root, with '/' separators. */
  path: string;
  /** The absolute (root-joined) path. */
  absolute: string;
  /** Set when a subdirectory could not be read (the walk goes on without it). */
  error?: string;
}

/** What a directory entry is, as far as the walk cares: a symlink is resolved when visited. */
type Kind = 'file' | 'dir' | 'link' | 'other';

function kindOf(d: Dirent): Kind {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  // A symlink, or a file system that does not report entry types (DT_UNKNOWN): stat when visited.
  if (d.isSymbolicLink() || !(d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice())) return 'link';
  return 'other';
}

async function isLink(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => null))?.isSymbolicLink() ?? true;
}

/**
 * Yields the files below `root` (relative paths, sorted per directory). With `recursive: false`
 * only `root`'s own files. Symlinks to files count; symlinked directories are not followed (no
 * cycles). A subdirectory that cannot be opened is yielded once with `error`.
 * @throws the opendir error when `root` itself cannot be read.
 */
export async function* walkFiles(root: string, options: { recursive: boolean }): AsyncGenerator<WalkEntry> {
  yield* visit(root, '', options.recursive, true);
}

async function* visit(absolute: string, relative: string, recursive: boolean, isRoot: boolean): AsyncGenerator<WalkEntry> {
  // One directory's entries at a time: names and kinds only.
  const entries: [string, Kind][] = [];
  try {
    const dir = await opendir(absolute, { bufferSize: 256 });
    for await (const d of dir) entries.push([d.name, kindOf(d)]);
  } catch (err) {
    if (isRoot) throw err;
    yield { path: `${relative}/`, absolute, error: `cannot read directory: ${(err as Error).message}` };
    return;
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [name, k] of entries) {
    const abs = join(absolute, name);
    const rel = relative === '' ? name : `${relative}/${name}`;
    let kind = k;
    if (kind === 'link') {
      const s = await stat(abs).catch(() => null);
      // Symlinked directories are not followed; a plain directory of unknown type is.
      kind = s?.isFile() === true ? 'file' : s?.isDirectory() === true && !(await isLink(abs)) ? 'dir' : 'other';
    }
    if (kind === 'file') yield { path: rel, absolute: abs };
    else if (kind === 'dir' && recursive) yield* visit(abs, rel, recursive, false);
  }
}
