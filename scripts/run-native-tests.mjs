#!/usr/bin/env node
// Runs the native kernel test executable built by `npm install` (node-gyp) or `npm run build:cmake`,
// streams its output, and exits with its status. Extra arguments filter tests by name.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const candidates = [join(root, 'build', 'Release', 'convkit_native_tests'), join(root, 'build-cmake', 'convkit_native_tests')];
const exe = candidates.find((p) => existsSync(p));
if (exe === undefined) {
  console.error(`native tests: no test executable (looked for ${candidates.join(', ')}); run \`npm install\` first`);
  process.exit(1);
}
const result = spawnSync(exe, process.argv.slice(2), { stdio: 'inherit' });
process.exit(result.status ?? 1);
