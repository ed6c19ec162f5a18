#!/usr/bin/env node
// Compiles the program for `npm start` and `npm run cli`: src/ → dist/, one JavaScript file per
// source file at the same relative path (so import.meta.url, the assets' repository-relative
// paths and workers resolved next to a module work as in src/), while the npm packages the
// program imports are bundled into a few shared files in dist/vendor/. Node 20 spends most of
// a start resolving and linking modules one file at a time (kysely alone is 262 files, zod 95):
// bundling them brings the start from ~5 s under tsx to well under a second. The SQLite addon
// stays in node_modules. No type check here (`npm run typecheck` does that).
//
// Skipped when nothing changed: a fingerprint of every source file's path, size and mtime, the
// lockfile and this script, so a second start costs milliseconds; a pull, an edit or a deleted
// file rebuilds. dist/creneau and the dot-folders in dist/ (the binary's) are left alone.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.sources');
/** What this script writes into dist/ (and so may replace); everything else there is kept. */
const OURS = (name) => name.endsWith('.js') || name === 'vendor';
/** Packages with a native addon: loaded from node_modules at run time, never bundled. */
const NATIVE = ['better-sqlite3'];

/** Test files and test helpers are not part of the program. */
const isProgram = (name) => name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') && name !== 'test-helpers.ts';

function sources(dir = SRC, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) sources(p, out);
    else if (isProgram(name)) out.push({ path: p, stamp: `${relative(ROOT, p)}\0${st.size}\0${st.mtimeMs}` });
  }
  return out;
}

function fingerprint(files) {
  const h = createHash('sha256');
  for (const f of ['package-lock.json', 'scripts/build-js.mjs']) {
    const p = join(ROOT, f);
    if (existsSync(p)) h.update(`${f}\0${readFileSync(p, 'utf8')}\0`);
  }
  for (const f of files) h.update(`${f.stamp}\0`);
  return h.digest('hex');
}

/** Our own modules stay separate files (a relative import between them is left as written). */
const ownModulesApart = {
  name: 'own-modules-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) =>
      args.kind === 'entry-point' || args.importer.split(sep).includes('node_modules') ? undefined : { path: args.path, external: true },
    );
  },
};

export async function buildJs({ force = false, quiet = false } = {}) {
  const files = sources();
  const want = fingerprint(files);
  const have = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
  if (!force && want === have && existsSync(join(DIST, 'main.js'))) return false;

  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('esbuild is missing (it comes with `npm install`); run `npm install` first');
  }
  const started = performance.now();
  if (!quiet) console.error('build-js: compiling src/ to dist/ (once per change)');
  mkdirSync(DIST, { recursive: true });
  for (const name of readdirSync(DIST)) if (OURS(name)) rmSync(join(DIST, name), { recursive: true, force: true });
  await esbuild.build({
    entryPoints: files.map((f) => f.path),
    outdir: DIST,
    outbase: SRC,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: NATIVE,
    plugins: [ownModulesApart],
    chunkNames: 'vendor/[name]-[hash]',
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    // Bundled CommonJS packages call require() for Node's built-ins; an ES module has none.
    banner: { js: "import { createRequire as __creneauRequire } from 'node:module'; const require = __creneauRequire(import.meta.url);" },
  });
  writeFileSync(STAMP, `${want}\n`);
  if (!quiet) console.error(`build-js: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildJs({ force: process.argv.includes('--force') }).catch((err) => {
    console.error(`build-js: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
