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
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.sources');
/** What this script writes into dist/ (and so may replace); everything else there is kept. */
const OURS = (name) => name.endsWith('.js') || name === 'vendor';
/** Packages with a native addon: loaded from node_modules at run time, never bundled. */
const NATIVE = ['better-sqlite3'];

/**
 * npm packages that `serve` does not need before its first request, nor most requests after:
 * each is bundled apart as CommonJS and required on the first call of one of its functions, so
 * a start neither reads, parses nor keeps them (1.3 MB of the 4.7 MB a start loaded). Only
 * functions can be deferred this way (a class, a constant or code run at import cannot): the
 * build fails when the program imports anything else from them. `default` lists the functions
 * of a default-exported object (`import jpeg from 'jpeg-js'; jpeg.decode(…)`).
 */
export const DEFERRED = {
  // Passkeys (WebAuthn): sign-in and the passkey settings only; ~1 MB with its CBOR/ASN.1 code.
  '@simplewebauthn/server': { file: 'simplewebauthn-server', named: ['generateAuthenticationOptions', 'generateRegistrationOptions', 'verifyAuthenticationResponse', 'verifyRegistrationResponse'] },
  // CalDAV requests: the first calendar read, not the start.
  tsdav: { file: 'tsdav', named: ['davRequest'] },
  // Profile picture upload only.
  'jpeg-js': { file: 'jpeg-js', default: ['decode', 'encode'] },
};

/**
 * The ES module standing in for a deferred package: every function it is known to export,
 * forwarding to `load()` (the source of an expression returning the package's exports).
 */
export function deferredShim(pkg, load) {
  const spec = DEFERRED[pkg];
  const lines = [`let loaded;`, `const load = () => (loaded ??= ${load});`];
  for (const name of spec.named ?? []) lines.push(`export function ${name}(...args) { return load().${name}(...args); }`);
  if (spec.default) lines.push(`export default { ${spec.default.map((name) => `${name}: (...args) => load().${name}(...args)`).join(', ')} };`);
  return lines.join('\n');
}

/** Bundles one deferred package to a self-contained CommonJS file (built-ins only left to require). */
export async function bundleDeferred(esbuild, pkg, outfile, target) {
  await esbuild.build({
    stdin: { contents: `export * from ${JSON.stringify(pkg)};${DEFERRED[pkg].default ? ` export { default } from ${JSON.stringify(pkg)};` : ''}`, resolveDir: ROOT, loader: 'js' },
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

/**
 * Imports of a deferred package, from our own modules, point at its stand-in in
 * dist/vendor/deferred/ (relative to the importer's place in dist/, which mirrors src/).
 */
const deferredApart = {
  name: 'deferred-apart',
  setup(build) {
    const names = Object.keys(DEFERRED).map((n) => n.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&'));
    build.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => {
      if (args.importer.split(sep).includes('node_modules') || !args.importer.startsWith(SRC)) {
        return { errors: [{ text: `${args.path} is deferred (scripts/build-js.mjs DEFERRED) but imported from ${args.importer}` }] };
      }
      const from = join(DIST, relative(SRC, dirname(args.importer)));
      const to = join(DIST, 'vendor', 'deferred', `${DEFERRED[args.path].file}.js`);
      const rel = relative(from, to).split(sep).join('/');
      return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
    });
  },
};

/** Writes dist/vendor/deferred/: each package's stand-in (ESM) and the package itself (CommonJS). */
async function writeDeferred(esbuild) {
  const dir = join(DIST, 'vendor', 'deferred');
  mkdirSync(dir, { recursive: true });
  for (const [pkg, spec] of Object.entries(DEFERRED)) {
    await bundleDeferred(esbuild, pkg, join(dir, `${spec.file}.cjs`), 'node20');
    const exported = createRequire(import.meta.url)(join(dir, `${spec.file}.cjs`));
    const missing = [...(spec.named ?? []).filter((n) => typeof exported[n] !== 'function'), ...(spec.default ?? []).filter((n) => typeof exported.default?.[n] !== 'function')];
    if (missing.length > 0) throw new Error(`${pkg} no longer exports the function(s) ${missing.join(', ')}`);
    const load = `createRequire(import.meta.url)(${JSON.stringify(`./${spec.file}.cjs`)})`;
    writeFileSync(join(dir, `${spec.file}.js`), `import { createRequire } from 'node:module';\n${deferredShim(pkg, load)}\n`);
  }
}

/**
 * iconv-lite's code tables for Chinese, Japanese and Korean charsets (555 kB once bundled, a
 * sixth of what a start parsed) are required only when a request body declares such a
 * charset: left in node_modules (where better-sqlite3 is loaded from too) instead of bundled.
 */
const iconvTablesApart = {
  name: 'iconv-tables-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/tables\/[\w-]+\.json$/ }, (args) =>
      /[\\/]iconv-lite[\\/]encodings$/.test(args.resolveDir) ? { path: `iconv-lite/encodings/${args.path.slice(2)}`, external: true } : undefined,
    );
  },
};

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
    plugins: [ownModulesApart, deferredApart, iconvTablesApart],
    chunkNames: 'vendor/[name]-[hash]',
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    // Bundled CommonJS packages call require() for Node's built-ins; an ES module has none.
    banner: { js: "import { createRequire as __creneauRequire } from 'node:module'; const require = __creneauRequire(import.meta.url);" },
  });
  await writeDeferred(esbuild);
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
