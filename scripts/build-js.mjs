#!/usr/bin/env node
// Compiles the program for `npm start` and `npm run cli`: src/ and the npm packages it imports
// are bundled into dist/main.js and the chunks beside it (a command, the mailer: split off where
// the program imports them lazily), the busy worker into dist/calendars/busy.worker.js. Node 20
// spends most of a start resolving, reading and linking modules one file at a time (kysely
// alone is 262 files, zod 95, and ours ~100): the bundle brings the start from ~5 s under tsx
// to about half a second. Packages needed only by some requests are loaded on first use
// (DEFERRED). The SQLite addon stays in node_modules. No type check here (`npm run typecheck`).
//
// Skipped when nothing changed: a fingerprint of every source file's path, size and mtime, the
// lockfile and this script, so a second start costs milliseconds; a pull, an edit or a deleted
// file rebuilds. dist/creneau and the dot-folders in dist/ (the binary's) are left alone.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.sources');
/** What this script writes into dist/ (and so may replace); everything else there is kept. */
const OURS = (name) => name.endsWith('.js') || name === 'vendor' || (existsSync(join(SRC, name)) && statSync(join(SRC, name)).isDirectory());
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
      // Every chunk of the program sits in dist/ itself.
      return { path: `./vendor/deferred/${DEFERRED[args.path].file}.js`, external: true };
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

/**
 * The program is one module graph from src/main.ts: Node 20 pays ~1 ms per ES module file it
 * resolves, reads and links, so our ~100 modules are bundled too, into dist/main.js and the
 * chunks that `import()` splits off (a command, the mailer), all in dist/ itself. A module that
 * reads import.meta.url gets the URL its own file would have had (dist/<path>.js), so paths
 * relative to it (the repository root, the worker beside busy-pool) stay right.
 */
const ownUrls = {
  name: 'own-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!args.path.startsWith(SRC)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      const own = relative(SRC, args.path).split(sep).join('/').replace(/\.ts$/, '.js');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(`./${own}`)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

/** Worker threads are separate programs: each is its own bundle at its own path. */
const WORKERS = ['calendars/busy.worker.ts'];

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
  const common = {
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: NATIVE,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    // Bundled CommonJS packages call require() for Node's built-ins; an ES module has none.
    banner: { js: "import { createRequire as __creneauRequire } from 'node:module'; const require = __creneauRequire(import.meta.url);" },
  };
  await esbuild.build({
    ...common,
    entryPoints: { main: join(SRC, 'main.ts') },
    outdir: DIST,
    splitting: true,
    plugins: [ownUrls, deferredApart, iconvTablesApart],
    chunkNames: '[name]-[hash]',
  });
  for (const worker of WORKERS) {
    await esbuild.build({ ...common, entryPoints: [join(SRC, worker)], outfile: join(DIST, worker.replace(/\.ts$/, '.js')), plugins: [ownUrls, iconvTablesApart] });
  }
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
