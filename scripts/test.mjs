#!/usr/bin/env node
// The whole suite: installs the real components the tests need (DESIGN.md §6), then runs
// every *.test.ts with node:test. `node scripts/test.mjs src/availability` runs a subset.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureSystemPackages } from './system-packages.mjs';

ensureSystemPackages();

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const found = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) found.push(relative(process.cwd(), p));
  }
}
for (const root of roots.length > 0 ? roots : ['src', 'scripts']) {
  if (!existsSync(root)) continue;
  if (statSync(root).isDirectory()) walk(root);
  else found.push(root);
}
found.sort();
if (found.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...passThrough, ...found],
  { stdio: 'inherit', env: { ...process.env, CRENEAU_TEST: '1' } },
);
process.exit(res.status ?? 1);
