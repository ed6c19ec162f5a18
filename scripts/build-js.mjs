#!/usr/bin/env node
// Compiles the program for `npm start` and `npm run cli`: src/ and the npm packages it imports
// are bundled into one CommonJS file, dist/creneau.cjs (commands and the mailer inside it are
// evaluated only when used), the busy worker into dist/calendars/busy.worker.js. dist/main.js
// is a small loader (scripts/dist-entry.mjs) that compiles the bundle with V8's code cache, so
// a start neither parses nor compiles what the previous start already did: Node 20 has no
// compile cache of its own (22's module.enableCompileCache), and compiling the program was a
// third of a start. Packages needed only by some requests are loaded on first use (DEFERRED).
// The SQLite addon stays in node_modules. No type check here (`npm run typecheck`).
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
/** The program: one CommonJS bundle, run by dist/main.js (scripts/dist-entry.mjs). */
const BUNDLE = join(DIST, 'creneau.cjs');
/** What this script writes into dist/ (and so may replace); everything else there is kept. */
const OURS = (name) => name.endsWith('.js') || name.endsWith('.cjs') || name === 'vendor' || name === 'code-cache' || (existsSync(join(SRC, name)) && statSync(join(SRC, name)).isDirectory());
/** Packages with a native addon: loaded from node_modules at run time, never bundled. */
const NATIVE = ['better-sqlite3'];

/**
 * npm packages that `serve` does not need before its first request, nor most requests after:
 * each is bundled apart as CommonJS and required on the first call of one of its functions, so
 * a start neither reads, parses nor keeps them. The image codecs are not here: pictures are
 * decoded in the worker pool (calendars/busy-pool.ts), whose bundle has them. Only functions
 * can be deferred this way (a class, a constant or code run at import cannot): the build fails
 * when the program imports anything else from them. `default` lists the functions of a
 * default-exported object (`import nodemailer from 'nodemailer'; nodemailer.createTransport(…)`).
 */
export const DEFERRED = {
  // Passkeys (WebAuthn): sign-in and the passkey settings only; ~1 MB with its CBOR/ASN.1 code.
  '@simplewebauthn/server': { file: 'simplewebauthn-server', named: ['generateAuthenticationOptions', 'generateRegistrationOptions', 'verifyAuthenticationResponse', 'verifyRegistrationResponse'] },
  // CalDAV requests: the first calendar read, not the start.
  tsdav: { file: 'tsdav', named: ['davRequest'] },
  // Sending e-mail: the first message, not the start (0.3 MB).
  nodemailer: { file: 'nodemailer', default: ['createTransport'] },
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
 * Imports of a deferred package, from our own modules, become its stand-in (deferredShim),
 * which requires dist/vendor/deferred/<file>.cjs on the first call: the bundle's require() is
 * relative to dist/creneau.cjs.
 */
const deferredApart = {
  name: 'deferred-apart',
  setup(build) {
    const names = Object.keys(DEFERRED).map((n) => n.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&'));
    build.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => {
      if (args.importer.split(sep).includes('node_modules') || !args.importer.startsWith(SRC)) {
        return { errors: [{ text: `${args.path} is deferred (scripts/build-js.mjs DEFERRED) but imported from ${args.importer}` }] };
      }
      return { path: args.path, namespace: 'deferred' };
    });
    build.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => ({
      contents: deferredShim(args.path, `require(${JSON.stringify(`./vendor/deferred/${DEFERRED[args.path].file}.cjs`)})`),
      loader: 'js',
    }));
  },
};

/** Writes dist/vendor/deferred/: each package bundled alone (CommonJS), checked to export what the stand-in calls. */
async function writeDeferred(esbuild) {
  const dir = join(DIST, 'vendor', 'deferred');
  mkdirSync(dir, { recursive: true });
  for (const [pkg, spec] of Object.entries(DEFERRED)) {
    await bundleDeferred(esbuild, pkg, join(dir, `${spec.file}.cjs`), 'node20');
    const exported = createRequire(import.meta.url)(join(dir, `${spec.file}.cjs`));
    const missing = [...(spec.named ?? []).filter((n) => typeof exported[n] !== 'function'), ...(spec.default ?? []).filter((n) => typeof exported.default?.[n] !== 'function')];
    if (missing.length > 0) throw new Error(`${pkg} no longer exports the function(s) ${missing.join(', ')}`);
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
  for (const f of ['package-lock.json', 'scripts/build-js.mjs', 'scripts/dist-entry.mjs']) {
    const p = join(ROOT, f);
    if (existsSync(p)) h.update(`${f}\0${readFileSync(p, 'utf8')}\0`);
  }
  for (const f of files) h.update(`${f.stamp}\0`);
  return h.digest('hex');
}

/**
 * The program is one module graph from src/main.ts, our ~100 modules included (Node 20 pays
 * ~1 ms per module file it resolves, reads and links). A module that reads import.meta.url gets
 * the URL its own file would have had (dist/<path>.js), so paths relative to it (the repository
 * root, the worker beside busy-pool) stay right.
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
    platform: 'node',
    target: 'node20',
    external: NATIVE,
    keepNames: true,
    // Less source text to read, scan and keep in memory at every start; names stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    // One byte per character in V8's heap (one non-ASCII character makes a whole file two).
    charset: 'ascii',
    legalComments: 'none',
  };
  const main = await esbuild.build({
    ...common,
    entryPoints: [join(SRC, 'main.ts')],
    outfile: BUNDLE,
    format: 'cjs',
    external: [...NATIVE, './vendor/deferred/*'],
    // The loader compiles the bundle as a CommonJS function of the bundle's own file.
    define: { 'import.meta.url': '__creneauUrl' },
    banner: { js: "var __creneauUrl = require('node:url').pathToFileURL(__filename).href;" },
    plugins: [ownUrls, deferredApart, iconvTablesApart],
    logLevel: 'silent',
  });
  // import.meta is empty in CommonJS: only busy-pool.ts may use more of it than its URL (import.meta.resolve, under tsx only).
  const bad = main.warnings.filter((w) => !(w.id === 'empty-import-meta' && w.location?.file.endsWith('src/calendars/busy-pool.ts')));
  if (bad.length > 0) throw new Error(`the bundle has warnings:\n${bad.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`).join('\n')}`);
  const id = createHash('sha256').update(readFileSync(BUNDLE)).digest('hex').slice(0, 16);
  const entry = readFileSync(join(ROOT, 'scripts/dist-entry.mjs'), 'utf8');
  if (!entry.includes("const BUNDLE_ID = 'unbuilt';")) throw new Error('scripts/dist-entry.mjs lost its BUNDLE_ID line');
  writeFileSync(join(DIST, 'main.js'), entry.replace("const BUNDLE_ID = 'unbuilt';", `const BUNDLE_ID = '${id}';`));
  for (const worker of WORKERS) {
    await esbuild.build({
      ...common,
      entryPoints: [join(SRC, worker)],
      outfile: join(DIST, worker.replace(/\.ts$/, '.js')),
      format: 'esm',
      plugins: [ownUrls, iconvTablesApart],
      logLevel: 'warning',
      // Bundled CommonJS packages call require() for Node's built-ins; an ES module has none.
      banner: { js: "import { createRequire as __creneauRequire } from 'node:module'; const require = __creneauRequire(import.meta.url);" },
    });
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
