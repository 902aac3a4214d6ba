// The native source list lives in native/sources.json. These tests fail when binding.gyp (what
// node-gyp actually compiled), CMakeLists.txt (what CMake reads) or the tree diverge from it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot as root } from '../../lib/native.js';

type SourceList = Record<string, string[]> & { flags: Record<string, string[]> };
const list = JSON.parse(readFileSync(join(root, 'native', 'sources.json'), 'utf8')) as SourceList;
const groups = Object.keys(list).filter((k) => Array.isArray(list[k]));

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.cc') ? [relative(root, join(dir, e.name))] : [],
  );
}

describe('native source list', () => {
  it('lists every .cc file under native/ exactly once, and only files that exist', () => {
    const listed = groups.flatMap((g) => list[g] ?? []);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(walk(join(root, 'native')).sort());
  });

  it('node-gyp compiled exactly the listed files per target, with the ISA flags on the ISA targets', () => {
    const gypTargets: Record<string, string> = {
      kernels: 'convkit_kernels',
      kernels_avx2: 'convkit_kernels_avx2',
      kernels_avx512: 'convkit_kernels_avx512',
      binding: 'convkit',
      tests: 'convkit_native_tests',
    };
    for (const [group, target] of Object.entries(gypTargets)) {
      const mk = join(root, 'build', `${target}.target.mk`);
      if (group.startsWith('kernels_') && process.arch !== 'x64') continue; // not built off x86-64
      expect(existsSync(mk), `${mk} (run npm install first)`).toBe(true);
      const text = readFileSync(mk, 'utf8');
      const objs = [...text.matchAll(/\$\(obj\)\.target\/\$\(TARGET\)\/(\S+)\.o/g)].map((m) => `${m[1]}.cc`);
      expect(objs.sort(), `gyp target ${target}`).toEqual([...(list[group] ?? [])].sort());
      for (const flag of list.flags[group] ?? []) expect(text, `${target} flags`).toContain(`\t${flag} \\`);
    }
  });

  const cmake = spawnSync('cmake', ['--version']).status === 0;
  it.runIf(cmake)('CMake reads the same groups (cmake -P cmake/print-sources.cmake)', () => {
    const r = spawnSync('cmake', ['-P', join(root, 'cmake', 'print-sources.cmake')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const seen: Record<string, string[]> = {};
    for (const line of r.stderr.split('\n')) {
      const m = /^(\w+): (.+)$/.exec(line.trim());
      if (m?.[1] !== undefined && m[2] !== undefined) (seen[m[1]] ??= []).push(m[2]);
    }
    for (const group of groups) expect(seen[group] ?? [], `cmake group ${group}`).toEqual(list[group]);
  });

  it('CMakeLists.txt and binding.gyp take their sources from the list, not from literal paths', () => {
    const cmakeLists = readFileSync(join(root, 'CMakeLists.txt'), 'utf8');
    const gyp = readFileSync(join(root, 'binding.gyp'), 'utf8');
    expect(cmakeLists).not.toMatch(/native\/\w+\/\w+\.cc/);
    expect(gyp).not.toMatch(/native\/\w+\/\w+\.cc/);
    for (const group of groups.filter((g) => g !== 'bench')) {
      expect(gyp).toContain(`native-sources.mjs ${group})`);
    }
  });
});
