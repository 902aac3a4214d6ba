#!/usr/bin/env node
// `npm test`: the native kernel tests, then the TypeScript tests (vitest), then one summary line
// "N passed, M failed" counting both (vitest's JSON reporter + the native runner's own count).
// Exit status is non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const extra = process.argv.slice(2);

/** Runs the native tests; returns { passed, failed }. */
function runNative() {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'run-native-tests.mjs')], { cwd: root, encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  const m = /native: (\d+) passed, (\d+) failed/.exec(r.stdout ?? '');
  if (m === null) return { passed: 0, failed: 1 }; // crashed or did not start: count as a failure
  const counts = { passed: Number(m[1]), failed: Number(m[2]) };
  if (r.status !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

/** Runs vitest with the default and JSON reporters; returns { passed, failed }. */
function runVitest() {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-vitest-'));
  const out = join(dir, 'results.json');
  try {
    const r = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extra],
      { cwd: root, stdio: 'inherit' },
    );
    let report;
    try {
      report = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      return { passed: 0, failed: 1 };
    }
    const failed = report.numFailedTests + (r.status !== 0 && report.numFailedTests === 0 ? 1 : 0);
    return { passed: report.numPassedTests, failed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The CLI tests run dist/: compile it first so it matches lib/.
console.log('== compile TypeScript (dist/)');
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) {
  console.log('TypeScript compilation failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
spawnSync(process.execPath, [join(root, 'scripts', 'fix-bin.mjs')], { cwd: root, stdio: 'inherit' });

console.log('== native kernel tests');
const native = runNative();
console.log('\n== TypeScript tests (vitest)');
const ts = runVitest();
const passed = native.passed + ts.passed;
const failed = native.failed + ts.failed;
console.log(`\nnative ${native.passed} passed, ${native.failed} failed; vitest ${ts.passed} passed, ${ts.failed} failed`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
