/** The JSON-lines run log: `<outDir>/log.jsonl`, one object per completed epoch. */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';

/** Writes epoch rows to `<dir>/log.jsonl`. */
export class RunLog {
  /** The log file's path. */
  readonly path: string;
  constructor(dir: string) {
    this.path = join(dir, 'log.jsonl');
  }

  /** Replaces the log with `rows` (used at start: empty for a fresh run, the history on resume). */
  async reset(rows: readonly object[]): Promise<void> {
    await mkdir(join(this.path, '..'), { recursive: true });
    await writeFileAtomic(this.path, Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8'));
  }

  /** Appends one row. */
  async append(row: object): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(row)}\n`, 'utf8');
  }
}
