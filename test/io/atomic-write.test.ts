// Atomic replacement: a write that fails at any stage (mid-data, before fsync, before rename)
// leaves the previous file byte-identical and no temporary file behind.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../lib/io/index.js';
import { _setWriteFault, type WriteStage } from '../../lib/io/atomic-write.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convkit-aw-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => _setWriteFault(null));

describe('writeFileAtomic', () => {
  it('creates and replaces a file', async () => {
    const path = join(dir, 'a.bin');
    await writeFileAtomic(path, Buffer.from('one'));
    await writeFileAtomic(path, [Buffer.from('tw'), Buffer.from('o')]);
    expect(await readFile(path, 'utf8')).toBe('two');
    expect(await readdir(dir)).toEqual(['a.bin']);
  });

  it.each<[WriteStage, number]>([
    ['write', 1 << 20],
    ['write', 2 << 20],
    ['fsync', 0],
    ['rename', 0],
  ])('a failure at %s (after %d bytes) keeps the previous file and removes the temp', async (stage, after) => {
    const path = join(dir, `b-${stage}-${after}.bin`);
    await writeFile(path, 'previous');
    const big = Buffer.alloc(3 << 20, 7);
    _setWriteFault((s, info) => {
      if (s === stage && info.bytesWritten >= after) throw Object.assign(new Error(`injected EIO at ${s}`), { code: 'EIO' });
    });
    await expect(writeFileAtomic(path, big)).rejects.toThrow(/injected EIO/);
    expect(await readFile(path, 'utf8')).toBe('previous');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
