/**
 * torchvision's ImageFolder layout: `root/<class>/.../<image>` (any depth). Classes are the immediate
 * subfolders, sorted by code point (as Python's `sorted`); files are found recursively (following
 * no symlinked folders) and kept when their extension is an image one, case-insensitively; samples
 * are sorted by class, then path.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { ArgumentError } from '../errors.js';
import { DEFAULT_PREPROCESS, FileDataset } from './files.js';
import { IMAGE_EXTENSIONS } from './image.js';
import type { Preprocess } from './types.js';

export { IMAGE_EXTENSIONS };

/** Options of {@link ImageFolder}. */
export interface ImageFolderOptions {
  /** How files become tensors; default {@link DEFAULT_PREPROCESS}. */
  preprocess?: Preprocess;
  /** Extensions to keep (with or without the dot, any case); default {@link IMAGE_EXTENSIONS}. */
  extensions?: string[];
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Image files under `dir`, recursively, sorted. */
function listImages(dir: string, exts: Set<string>): string[] {
  const out: string[] = [];
  for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => byCodePoint(a.name, b.name))) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...listImages(p, exts));
    else if ((ent.isFile() || (ent.isSymbolicLink() && statSync(p, { throwIfNoEntry: false })?.isFile() === true))
      && exts.has(extname(ent.name).toLowerCase())) out.push(p);
  }
  return out;
}

/** The class subfolders of `root`, sorted (hidden ones skipped). */
export function classFolders(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && statSync(join(root, e.name)).isDirectory())))
    .map((e) => e.name)
    .sort(byCodePoint);
}

/** A folder with one subfolder of images per class. */
export class ImageFolder extends FileDataset {
  readonly root: string;

  /**
   * Scans `root` (synchronously).
   * @throws ArgumentError when `root` is not a folder or holds no class folder with images.
   */
  constructor(root: string, options: ImageFolderOptions = {}) {
    const abs = resolve(root);
    if (statSync(abs, { throwIfNoEntry: false })?.isDirectory() !== true) {
      throw new ArgumentError(`ImageFolder: expected a folder of class subfolders but ${abs} is not a folder`);
    }
    const exts = new Set(
      (options.extensions ?? IMAGE_EXTENSIONS).map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()),
    );
    const classes = classFolders(abs);
    if (classes.length === 0) throw new ArgumentError(`ImageFolder: ${abs} has no class subfolders`);
    const samples: [string, number][] = [];
    classes.forEach((name, label) => {
      for (const p of listImages(join(abs, name), exts)) samples.push([p, label]);
    });
    if (samples.length === 0) {
      throw new ArgumentError(`ImageFolder: no files with extensions ${[...exts].join(' ')} under the class folders of ${abs}`);
    }
    super(samples, classes, options.preprocess ?? DEFAULT_PREPROCESS, 'image-folder');
    this.root = abs;
  }
}
