// Marks the package's bin files executable after the TypeScript build. npm sets the bit on a
// package's bins when it links them, but for the project being installed that can happen before
// `prepare` has compiled dist/, and tsc writes files without it; `npx convkit` then fails with
// "Permission denied".
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {});
for (const bin of bins) {
  const path = join(root, bin);
  if (existsSync(path)) chmodSync(path, 0o755);
}
