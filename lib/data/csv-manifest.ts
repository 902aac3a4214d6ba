/**
 * A CSV manifest: one `path,label` row per sample. The header row is optional (a first row whose
 * path field is `path`, `file`, `filename` or `image`, case-insensitively, is a header); relative
 * paths resolve against `root` (default: the CSV's folder). A label is a class name or an integer.
 * When every label is an integer (and no `classes` are given) they are class indices and the
 * classes are '0'..max; otherwise the classes are the distinct names, sorted, and an integer label
 * is an index into them only when `classes` is given.
 *
 * The parser follows RFC 4180: fields separated by commas, optionally double-quoted, `""` inside
 * quotes for a quote, quoted fields may hold commas and newlines; blank lines are skipped; a UTF-8
 * BOM is dropped. Extra columns after the label are ignored.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ArgumentError, FormatError } from '../errors.js';
import { DEFAULT_PREPROCESS, FileDataset } from './files.js';
import type { Preprocess } from './types.js';

/** One parsed CSV row and the line it starts on (1-based). */
export interface CsvRow {
  fields: string[];
  line: number;
}

/**
 * Parses CSV text (RFC 4180, see the module comment).
 * @throws FormatError for an unterminated quoted field or text after a closing quote.
 */
export function parseCsv(text: string, file = '<csv>'): CsvRow[] {
  const rows: CsvRow[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let field = '';
  let rowLine = 1;
  let any = false;
  let atStart = true;
  const endRow = (): void => {
    fields.push(field);
    if (any || fields.length > 1 || fields[0] !== '') rows.push({ fields, line: rowLine });
    fields = [];
    field = '';
    any = false;
    atStart = true;
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"' && atStart) {
      atStart = false;
      const start = line;
      i++;
      for (;;) {
        if (i >= text.length) throw new FormatError(`${file}: line ${start}: unterminated quoted field`);
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      any = true;
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new FormatError(`${file}: line ${line}: unexpected ${JSON.stringify(next)} after a closing quote; expected a comma or end of line`);
      }
      continue;
    }
    if (ch === ',') {
      fields.push(field);
      field = '';
      any = true;
      atStart = true;
      i++;
    } else if (ch === '\r' || ch === '\n') {
      endRow();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      field += ch;
      atStart = false;
      i++;
    }
  }
  if (field !== '' || fields.length > 0 || any) endRow();
  return rows;
}

/** Options of {@link CsvManifest}. */
export interface CsvManifestOptions {
  /** How files become tensors; default {@link DEFAULT_PREPROCESS}. */
  preprocess?: Preprocess;
  /** Folder that relative paths resolve against; default the CSV's folder. */
  root?: string;
  /** Class names (index = label); default derived from the labels (see the module comment). */
  classes?: string[];
}

const HEADER = new Set(['path', 'file', 'filename', 'image', 'filepath']);

/** Image files listed in a CSV file. */
export class CsvManifest extends FileDataset {
  readonly csvPath: string;

  /** Reads and parses `csvPath` (synchronously). @throws FormatError naming the line of a bad row. */
  constructor(csvPath: string, options: CsvManifestOptions = {}) {
    const file = resolve(csvPath);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ArgumentError(`CsvManifest: cannot read ${file}: ${(err as Error).message}`);
    }
    let rows = parseCsv(text, file);
    if (rows.length > 0 && HEADER.has(rows[0]!.fields[0]!.trim().toLowerCase())) rows = rows.slice(1);
    if (rows.length === 0) throw new FormatError(`${file}: no rows; expected lines of path,label`);
    const root = options.root === undefined ? dirname(file) : resolve(options.root);
    for (const r of rows) {
      if (r.fields.length < 2 || r.fields[0]!.trim() === '' || r.fields[1]!.trim() === '') {
        throw new FormatError(`${file}: line ${r.line}: expected path,label but received ${JSON.stringify(r.fields.join(','))}`);
      }
    }
    const labels = rows.map((r) => r.fields[1]!.trim());
    const isInt = (s: string): boolean => /^\d+$/.test(s);
    let classes: string[];
    let toIndex: (s: string, line: number) => number;
    if (options.classes !== undefined) {
      classes = [...options.classes];
      const byName = new Map(classes.map((c, i) => [c, i]));
      toIndex = (s, line) => {
        const named = byName.get(s);
        if (named !== undefined) return named;
        if (isInt(s) && Number(s) < classes.length) return Number(s);
        throw new FormatError(`${file}: line ${line}: label ${JSON.stringify(s)} is neither one of the ${classes.length} classes nor an index below ${classes.length}`);
      };
    } else if (labels.every(isInt)) {
      const max = Math.max(...labels.map(Number));
      classes = Array.from({ length: max + 1 }, (_, i) => String(i));
      toIndex = (s) => Number(s);
    } else {
      classes = [...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const byName = new Map(classes.map((c, i) => [c, i]));
      toIndex = (s) => byName.get(s)!;
    }
    const samples = rows.map((r, k): [string, number] => {
      const p = r.fields[0]!.trim();
      return [isAbsolute(p) ? p : resolve(root, p), toIndex(labels[k]!, r.line)];
    });
    super(samples, classes, options.preprocess ?? DEFAULT_PREPROCESS, 'csv');
    this.csvPath = file;
  }
}
