// The single binary's entry (bundled to CommonJS by scripts/build-binary.ts). It registers the
// embedded views, locales and static files, puts the SQLite addon where it can be loaded, then
// runs the same main() as a checkout. process.env is read only to be handed on.
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { getAsset, getRawAsset } from 'node:sea';
import { EMBEDDED_WORKER_ASSET, useEmbeddedWorker } from '../src/calendars/busy-pool.js';
import { setNativeBinding } from '../src/db/database.js';
import { EXIT_UNEXPECTED } from '../src/cli/outcome.js';
import { main } from '../src/main.js';
import { useEmbeddedAssets } from '../src/web/assets.js';
import { ADDON_ASSET, MANIFEST_ASSET, cacheCandidates, extractAddon } from './sea-addon.js';

interface Manifest {
  readonly names: readonly string[];
  /** addonHash() of the embedded SQLite addon, computed by the build. */
  readonly addonHash: string;
}

function loadManifest(): Manifest {
  return JSON.parse(getAsset(MANIFEST_ASSET, 'utf8')) as Manifest;
}

/** Extracts the addon into the first usable cache folder and proves it loads there. */
function prepareAddon(env: Readonly<Record<string, string | undefined>>, hash: string): string {
  // Read from the executable only when it must be written out (first start of this version).
  const read = (): Uint8Array => {
    const raw = getRawAsset(ADDON_ASSET);
    return typeof raw === 'string' ? Buffer.from(raw, 'latin1') : new Uint8Array(raw);
  };
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  let home = '';
  try {
    home = homedir();
  } catch {
    // No home directory (a container user without one): the other candidates remain.
  }
  const load = createRequire(process.execPath);
  const failures: string[] = [];
  for (const base of cacheCandidates({ env, home, tmpdir: tmpdir(), uid })) {
    try {
      const file = extractAddon(base, { hash, read }, uid);
      // Loading it here catches a folder on a noexec mount; require() caches it for better-sqlite3.
      load(file);
      return file;
    } catch (err) {
      failures.push(`${base}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  throw new Error(
    `no writable, executable folder for the SQLite addon; set XDG_CACHE_HOME to one (tried ${failures.join('; ')})`,
  );
}

/** Starts the binary: assets, addon, then the CLI. */
async function start(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const manifest = loadManifest();
  useEmbeddedAssets((name) => Buffer.from(getAsset(name)), manifest.names);
  // Calendar data is parsed in worker threads, started from the bundled worker source.
  useEmbeddedWorker(getAsset(EMBEDDED_WORKER_ASSET, 'utf8'));
  try {
    setNativeBinding(prepareAddon(env, manifest.addonHash));
  } catch (err) {
    console.error(`creneau: ${(err as Error).message}`);
    return 1;
  }
  return main(argv, env);
}

start(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`creneau: unexpected ${err instanceof Error ? err.name : 'error'}; this is a bug, please report it`);
    process.exitCode = EXIT_UNEXPECTED;
  },
);
