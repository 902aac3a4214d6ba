/**
 * The output file of `predictFolder`: JSONL or CSV rows, appended one batch per `write`, and the
 * resume scan that reads which paths a previous run already wrote.
 *
 * JSONL: `{"path":"a/b.jpg","top":[{"label":"cat","probability":0.91},...]}` or
 * `{"path":"a/c.jpg","error":"..."}`. CSV (RFC 4180 quoting): a header
 * `path,label1,prob1,...,labelK,probK,error`, then one record per image (error records leave the
 * label and probability cells empty). Probabilities keep 6 significant digits.
 */
import { createReadStream } from 'node:fs';
import { open, stat, truncate, type FileHandle } from 'node:fs/promises';
import { ArgumentError, FormatError } from '../errors.js';

/** The output formats, chosen by the file's extension. */
export type OutputFormat = 'jsonl' | 'csv';

/** One output row. */
export interface ResultRow {
  path: string;
  top?: { label: string; probability: number }[];
  error?: string;
}

/** What {@link openResults} found and opened. */
export interface OpenedResults {
  /** Paths already written by earlier runs. */
  done: Set<string>;
  /** Open for appending. */
  handle: FileHandle;
  /** Bytes cut from the end (a torn last line); 0 when the file was whole. */
  repairedBytes: number;
}

/** The CSV header for `topK` classes. */
export function csvHeader(topK: number): string {
  const cells = ['path'];
  for (let k = 1; k <= topK; k++) cells.push(`label${k}`, `prob${k}`);
  cells.push('error');
  return cells.join(',');
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;
}

function prob(p: number): number {
  return Number(p.toPrecision(6));
}

/** The rows as the text of one append (each row ends with '\n'). */
export function formatRows(format: OutputFormat, rows: readonly ResultRow[], topK: number): string {
  let out = '';
  for (const row of rows) {
    if (format === 'jsonl') {
      const obj =
        row.error !== undefined
          ? { path: row.path, error: row.error }
          : { path: row.path, top: (row.top ?? []).map((t) => ({ label: t.label, probability: prob(t.probability) })) };
      out += `${JSON.stringify(obj)}\n`;
    } else {
      const cells = [csvCell(row.path)];
      for (let k = 0; k < topK; k++) {
        const t = row.error === undefined ? row.top?.[k] : undefined;
        cells.push(t === undefined ? '' : csvCell(t.label), t === undefined ? '' : String(prob(t.probability)));
      }
      cells.push(csvCell(row.error ?? ''));
      out += `${cells.join(',')}\n`;
    }
  }
  return out;
}

/** Splits one CSV record (without its final newline) into cells; null when the quoting is broken. */
export function parseCsvRecord(record: string): string[] | null {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (record[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        const q = record.indexOf('"', i);
        if (q < 0) return null;
        cell += record.slice(i, q);
        if (record[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      cells.push(cell);
      if (i === record.length) return cells;
      if (record[i] !== ',') return null;
      i++;
    } else {
      const c = record.indexOf(',', i);
      if (c < 0) {
        cells.push(record.slice(i));
        return cells;
      }
      cells.push(record.slice(i, c));
      i = c + 1;
    }
  }
}

function quoteCount(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++;
  return n;
}

/**
 * Reads an existing output file record by record (streamed; memory holds the set of paths) and
 * returns the paths it holds and the byte length of its valid part. A final record without its
 * newline, or unparsable trailing records, are torn: the valid length stops before them.
 * @throws FormatError for an unparsable record followed by valid ones (the file is not a torn
 * output of this function); ArgumentError when a CSV header does not match `topK`.
 */
async function scan(file: string, format: OutputFormat, topK: number): Promise<{ done: Set<string>; validBytes: number }> {
  const done = new Set<string>();
  const header = csvHeader(topK);
  let validBytes = 0;
  let badRecord: number | null = null; // 1-based record number of the first unparsable record
  let recordNo = 0;
  let sawHeader = false;
  let pending = ''; // a CSV record whose quoted cell spans lines
  let offset = 0; // bytes consumed so far
  let carry: Buffer = Buffer.alloc(0);

  const onRecord = (text: string, end: number): void => {
    recordNo++;
    let path: string | null = null;
    if (format === 'jsonl') {
      if (text.trim() === '') {
        if (badRecord === null) validBytes = end;
        return;
      }
      try {
        const obj = JSON.parse(text) as { path?: unknown };
        if (obj !== null && typeof obj === 'object' && typeof obj.path === 'string') path = obj.path;
      } catch {
        path = null;
      }
    } else if (!sawHeader) {
      if (text !== header) {
        throw new ArgumentError(
          `predictFolder: ${file} has the CSV header '${text.slice(0, 200)}' but topK=${topK} writes '${header}'; use the same topK or another output file`,
        );
      }
      sawHeader = true;
      validBytes = end;
      return;
    } else {
      const cells = parseCsvRecord(text);
      if (cells !== null && cells.length === 2 * topK + 2 && cells[0] !== '') path = cells[0]!;
    }
    if (path === null) {
      badRecord ??= recordNo;
      return;
    }
    if (badRecord !== null) {
      throw new FormatError(`predictFolder: record ${badRecord} of ${file} is unparsable but later records are valid; fix or move the file`);
    }
    done.add(path);
    validBytes = end;
  };

  const stream = createReadStream(file);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buf: Buffer = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      const line = buf.toString('utf8', start, nl);
      const end = offset + nl + 1;
      start = nl + 1;
      if (format === 'csv') {
        const record = pending === '' ? line : `${pending}\n${line}`;
        if (quoteCount(record) % 2 === 1) {
          pending = record;
          continue;
        }
        pending = '';
        onRecord(record.endsWith('\r') ? record.slice(0, -1) : record, end);
      } else {
        onRecord(line, end);
      }
    }
    offset += start;
    carry = buf.subarray(start);
  }
  return { done, validBytes };
}

/**
 * Opens (creating when absent) the output file for appending. An existing file is scanned for the
 * paths it holds, and a torn end (a last line without its newline, or unparsable) is truncated
 * away first. A new or emptied CSV file gets its header.
 */
export async function openResults(path: string, format: OutputFormat, topK: number): Promise<OpenedResults> {
  const size = await stat(path).then(
    (s) => {
      if (!s.isFile()) throw new ArgumentError(`predictFolder: the output ${path} exists and is not a file`);
      return s.size;
    },
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return -1;
      throw err;
    },
  );
  let done = new Set<string>();
  let repairedBytes = 0;
  let length = Math.max(size, 0);
  if (size > 0) {
    const scanned = await scan(path, format, topK);
    done = scanned.done;
    if (scanned.validBytes < size) {
      await truncate(path, scanned.validBytes);
      repairedBytes = size - scanned.validBytes;
      length = scanned.validBytes;
    }
  }
  const handle = await open(path, 'a');
  if (format === 'csv' && length === 0) await appendAll(handle, `${csvHeader(topK)}\n`);
  return { done, handle, repairedBytes };
}

/** Appends `text` with one write (looping only on a short write, which regular files do not do). */
export async function appendAll(handle: FileHandle, text: string): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  let written = 0;
  while (written < bytes.length) {
    const r = await handle.write(bytes, written, bytes.length - written);
    written += r.bytesWritten;
  }
}
