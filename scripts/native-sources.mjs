#!/usr/bin/env node
// Prints a group of native/sources.json for binding.gyp's command expansion:
//   node scripts/native-sources.mjs <group>          -> source paths, one per line
//   node scripts/native-sources.mjs --flags <group>  -> that group's compiler flags
//   node scripts/native-sources.mjs --json           -> the whole list as JSON
// Paths are relative to the repository root (where binding.gyp and CMakeLists.txt live).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const list = JSON.parse(readFileSync(join(root, 'native', 'sources.json'), 'utf8'));

const args = process.argv.slice(2);
if (args[0] === '--json') {
  process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
} else if (args[0] === '--flags' && args[1] !== undefined) {
  const flags = list.flags[args[1]];
  if (!Array.isArray(flags)) {
    console.error(`native-sources: no flags for group '${args[1]}'`);
    process.exit(2);
  }
  process.stdout.write(`${flags.join('\n')}\n`);
} else if (args.length === 1 && Array.isArray(list[args[0]])) {
  process.stdout.write(`${list[args[0]].join('\n')}\n`);
} else {
  console.error(`usage: native-sources.mjs <group> | --flags <group> | --json (groups: ${Object.keys(list).filter((k) => Array.isArray(list[k])).join(', ')})`);
  process.exit(2);
}
