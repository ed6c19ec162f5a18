// dist/main.js, what `npm start` and `npm run cli` run (copied there by scripts/build-js.mjs,
// which puts the bundle's content hash in BUNDLE_ID). It runs the program, dist/creneau.cjs,
// compiled with V8's code cache when there is one for this bundle and this Node: a start then
// neither parses nor compiles the ~2 MB of JavaScript again (Node 20 has no compile cache of
// its own). The cache is written by the first start that has none, a second after loading
// (what the start compiled by then is in it), into dist/code-cache/ when that folder can be
// written; a read-only install just starts without it. V8 refuses a cache made by another
// version or other flags, and the file name carries the bundle's hash, so a stale cache is
// never used: it is replaced.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const BUNDLE_ID = 'unbuilt';
/** How long after loading the cache is written: the start's work compiled by then. */
const WRITE_AFTER_MS = 1000;

const bundle = fileURLToPath(new URL('./creneau.cjs', import.meta.url));
const folder = join(dirname(bundle), 'code-cache');
const name = `${BUNDLE_ID}-${process.version}-${process.arch}.v8`;

/** The bundle compiled, from the cache if V8 accepts it; `cached` false when the cache must be (re)written. */
function compile() {
  let cachedData;
  try {
    cachedData = readFileSync(join(folder, name));
  } catch {
    // None yet (the first start of this build or of this Node).
  }
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`;
  const script = new Script(source, { filename: bundle, cachedData });
  return { script, cached: cachedData !== undefined && !script.cachedDataRejected };
}

const { script, cached } = compile();
if (!cached) {
  setTimeout(() => {
    const temporary = join(folder, `.${name}.${process.pid}`);
    try {
      mkdirSync(folder, { recursive: true });
      writeFileSync(temporary, script.createCachedData());
      renameSync(temporary, join(folder, name));
      for (const other of readdirSync(folder)) if (other !== name && !other.startsWith('.')) rmSync(join(folder, other), { force: true });
    } catch {
      // A read-only install (every start compiles, as without the cache) or a full disk.
      rmSync(temporary, { force: true });
    }
  }, WRITE_AFTER_MS).unref();
}

const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
